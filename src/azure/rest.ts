import type { TokenCredential } from '@azure/core-auth'
import {
  bearerTokenAuthenticationPolicy,
  createDefaultHttpClient,
  createHttpHeaders,
  createPipelineFromOptions,
  createPipelineRequest,
  RestError,
  type HttpClient,
  type Pipeline,
  type PipelinePolicy
} from '@azure/core-rest-pipeline'
import { scopeOf } from '../cloud.js'
import {
  attemptTimeoutPolicy,
  proxyKeepAlivePolicy,
  timelinePolicy,
  transportOptions
} from './http.js'
import type { TransportSettings } from './transport.js'

export interface RestResponse<T> {
  status: number
  body: T | undefined
  headers: Record<string, string>
}

export interface JsonClient {
  send<T>(
    method: string,
    path: string,
    options?: { query?: string; body?: unknown; signal?: AbortSignal }
  ): Promise<RestResponse<T>>
}

/**
 * A small JSON client on @azure/core-rest-pipeline for the endpoints no installed SDK covers
 * (Managed HSM local RBAC and security domain, Microsoft Graph). Same retry and timeout settings
 * as the SDK clients; `auth` is the authentication policy of the service.
 */
export function createJsonClient(options: {
  baseUrl: string
  auth: PipelinePolicy
  transport: TransportSettings
  signal?: AbortSignal
  /** Appended to every request's query, e.g. `api-version=7.6`. */
  fixedQuery?: string
  httpClient?: HttpClient
}): JsonClient {
  const { retryOptions, userAgentOptions } = transportOptions(options.transport)
  const pipeline: Pipeline = createPipelineFromOptions({ retryOptions, userAgentOptions })
  pipeline.addPolicy(options.auth)
  pipeline.addPolicy(timelinePolicy(), { afterPhase: 'Retry' })
  pipeline.addPolicy(attemptTimeoutPolicy(options.transport), { afterPhase: 'Retry' })
  pipeline.addPolicy(proxyKeepAlivePolicy(), { afterPhase: 'Retry' })
  const httpClient = options.httpClient ?? createDefaultHttpClient()
  const base = options.baseUrl.replace(/\/+$/, '')

  return {
    async send<T>(
      method: string,
      path: string,
      request: { query?: string; body?: unknown; signal?: AbortSignal } = {}
    ) {
      const query = [request.query, options.fixedQuery].filter(Boolean).join('&')
      const url = `${base}${path}${query ? `?${query}` : ''}`
      const headers = createHttpHeaders({ accept: 'application/json' })
      if (request.body !== undefined) headers.set('content-type', 'application/json')
      const pipelineRequest = createPipelineRequest({
        url,
        method: method as 'GET',
        headers,
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
        abortSignal: eitherSignal(options.signal, request.signal)
      })
      const response = await pipeline.sendRequest(httpClient, pipelineRequest)
      let body: unknown
      if (response.bodyAsText) {
        try {
          body = JSON.parse(response.bodyAsText)
        } catch {
          body = undefined
        }
      }
      if (response.status >= 400) {
        const error = (
          body as
            | {
                error?: {
                  code?: string
                  message?: string
                  innererror?: { code?: string }
                  innerError?: { code?: string }
                }
              }
            | undefined
        )?.error
        const restError = new RestError(
          error?.message ?? `${method} ${path} answered HTTP ${response.status}`,
          { code: error?.code, statusCode: response.status, request: pipelineRequest, response }
        )
        Object.assign(restError, { innerCode: error?.innererror?.code ?? error?.innerError?.code })
        throw restError
      }
      return {
        status: response.status,
        body: body as T | undefined,
        headers: response.headers.toJSON()
      }
    }
  }
}

/** What a client of one Azure audience needs. */
export interface BearerClientSetup {
  credential: TokenCredential
  transport: TransportSettings
  signal?: AbortSignal
}

/** A JSON client of an Azure service that takes bearer tokens for its own base URL's scope. */
export function createBearerJsonClient(
  setup: BearerClientSetup,
  baseUrl: string,
  fixedQuery?: string
): JsonClient {
  return createJsonClient({
    baseUrl,
    auth: bearerTokenAuthenticationPolicy({
      credential: setup.credential,
      scopes: scopeOf(baseUrl)
    }),
    transport: setup.transport,
    signal: setup.signal,
    fixedQuery
  })
}

/** Aborts when either signal does. */
export function eitherSignal(
  a: AbortSignal | undefined,
  b: AbortSignal | undefined
): AbortSignal | undefined {
  return a && b ? AbortSignal.any([a, b]) : (a ?? b)
}
