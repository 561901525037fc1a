import type { TokenCredential } from '@azure/core-auth'
import { bearerTokenAuthenticationPolicy } from '@azure/core-rest-pipeline'
import { scopeOf, type AzureCloud } from '../cloud.js'
import { unlessAbsent } from '../errors.js'
import type { GraphApi } from './api.js'
import type { TransportSettings } from './http.js'
import { createJsonClient } from './rest.js'

export function createGraphApi(setup: {
  credential: TokenCredential
  cloud: AzureCloud
  transport: TransportSettings
  signal?: AbortSignal
}): GraphApi {
  const client = createJsonClient({
    baseUrl: setup.cloud.graph,
    auth: bearerTokenAuthenticationPolicy({
      credential: setup.credential,
      scopes: scopeOf(setup.cloud.graph)
    }),
    transport: setup.transport,
    signal: setup.signal
  })
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
