import type { TokenCredential } from '@azure/core-auth'
import {
  createHttpHeaders,
  type HttpClient,
  type PipelineRequest,
  type PipelineResponse
} from '@azure/core-rest-pipeline'
import type { Service } from '../../src/core/service.js'
import { TENANT } from './test-tenant.js'
import { type Harness } from './harness.js'

/** A credential for in-process tests: the handlers see the harness principal, not this token. */
export const fakeCredential: TokenCredential = {
  getToken: async () => ({
    token: 'in-process-test-token',
    expiresOnTimestamp: Date.now() + 3_600_000
  })
}

/**
 * An HttpClient that hands the unmodified Azure SDK clients' requests straight to the service
 * handlers (no sockets, no proxy), answering the Key Vault 401 challenge the way the platform
 * does. Each request moves the harness clock forward by `tickMs`, so SDK pollers see time pass.
 */
export function inProcessHttpClient(
  h: Harness,
  services: Service[],
  as: string,
  tickMs = 1_000
): HttpClient {
  return {
    async sendRequest(request: PipelineRequest): Promise<PipelineResponse> {
      const url = new URL(request.url)
      const service = services.find(s => s.matches(url.hostname))
      if (!service) throw new Error(`no service for ${url.hostname}`)
      if (service.challenge && !request.headers.get('authorization')) {
        return {
          request,
          status: 401,
          headers: createHttpHeaders({
            'www-authenticate': `Bearer authorization="${service.challenge.authorization(TENANT)}", resource="${service.challenge.resource}"`,
            'content-type': 'application/json'
          }),
          bodyAsText: JSON.stringify({
            error: { code: 'Unauthorized', message: 'Request is missing a Bearer or PoP token.' }
          })
        }
      }
      const res = await h.call(service, {
        method: request.method,
        host: url.hostname,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        apiVersion: null,
        ...(typeof request.body === 'string' ? { body: request.body } : {}),
        as
      })
      h.advance(tickMs)
      const text =
        res.body === undefined
          ? ''
          : typeof res.body === 'string'
            ? res.body
            : JSON.stringify(res.body)
      return {
        request,
        status: res.status,
        headers: createHttpHeaders({
          ...(res.headers ?? {}),
          ...(text ? { 'content-type': 'application/json' } : {})
        }),
        bodyAsText: text
      }
    }
  }
}
