import type { AzureCloud } from '../cloud.js'
import { unlessAbsent } from '../errors.js'
import type { GraphApi } from './api.js'
import { createBearerJsonClient, type BearerClientSetup } from './rest.js'

export function createGraphApi(setup: BearerClientSetup & { cloud: AzureCloud }): GraphApi {
  const client = createBearerJsonClient(setup, setup.cloud.graph)
  const select = { query: '$select=id,appId,displayName' }
  return {
    async servicePrincipalIdByAppId(appId) {
      const response = await unlessAbsent(() =>
        client.send<{ id?: string }>(
          'GET',
          `/v1.0/servicePrincipals(appId='${encodeURIComponent(appId)}')`,
          select
        )
      )
      return response?.body?.id?.toLowerCase()
    },
    async servicePrincipal(objectId) {
      const response = await unlessAbsent(() =>
        client.send<{ id?: string; appId?: string; displayName?: string }>(
          'GET',
          `/v1.0/servicePrincipals/${encodeURIComponent(objectId)}`,
          select
        )
      )
      const sp = response?.body
      return sp?.id
        ? {
            id: sp.id.toLowerCase(),
            appId: (sp.appId ?? '').toLowerCase(),
            displayName: sp.displayName ?? ''
          }
        : undefined
    }
  }
}
