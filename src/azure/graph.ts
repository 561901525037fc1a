import type { TokenCredential } from '@azure/core-auth'
import { bearerTokenAuthenticationPolicy } from '@azure/core-rest-pipeline'
import { scopeOf, type AzureCloud } from '../cloud.js'
import { isNotFound } from '../errors.js'
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
  return {
    async servicePrincipalIdByAppId(appId) {
      try {
        const response = await client.send<{ id?: string }>(
          'GET',
          `/v1.0/servicePrincipals(appId='${encodeURIComponent(appId)}')`,
          { query: '$select=id,appId,displayName' }
        )
        return response.body?.id?.toLowerCase()
      } catch (error) {
        if (isNotFound(error)) return undefined
        throw error
      }
    }
  }
}
