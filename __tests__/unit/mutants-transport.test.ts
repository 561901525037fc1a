/** Transport settings from the environment, which writes are not repeated blindly, the JSON client. */
import { describe, expect, it } from '@jest/globals'
import {
  createHttpHeaders,
  RestError,
  type HttpClient,
  type PipelineRequest,
  type PipelineResponse
} from '@azure/core-rest-pipeline'
import { isNonIdempotent, transportOptions } from '../../src/azure/http.js'
import { defaultTransport, transportFromEnv } from '../../src/azure/transport.js'
import { createJsonClient } from '../../src/azure/rest.js'

describe('transportFromEnv', () => {
  it('sets both per-attempt timeouts from COSMOS_CMK_REQUEST_TIMEOUT_MS', () => {
    expect(transportFromEnv({ COSMOS_CMK_REQUEST_TIMEOUT_MS: ' 2500 ' })).toEqual({
      readTimeoutMs: 2500,
      writeTimeoutMs: 2500
    })
  })

  it('sets the poll interval from COSMOS_CMK_POLL_INTERVAL_MS, alone or with the timeouts', () => {
    expect(transportFromEnv({ COSMOS_CMK_POLL_INTERVAL_MS: '40' })).toEqual({ pollIntervalMs: 40 })
    expect(
      transportFromEnv({ COSMOS_CMK_POLL_INTERVAL_MS: '40', COSMOS_CMK_REQUEST_TIMEOUT_MS: '900' })
    ).toEqual({ pollIntervalMs: 40, readTimeoutMs: 900, writeTimeoutMs: 900 })
  })

  it('sets the watch for a write whose answer was lost from COSMOS_CMK_LOST_ANSWER_WAIT_MS', () => {
    expect(transportFromEnv({ COSMOS_CMK_LOST_ANSWER_WAIT_MS: '1000' })).toEqual({
      lostAnswerWaitMs: 1000
    })
  })

  it.each([undefined, '', '   ', '0', '-5', '1.5', '12ms', 'x'])('ignores %p', value => {
    expect(transportFromEnv({ COSMOS_CMK_REQUEST_TIMEOUT_MS: value })).toEqual({})
    expect(transportFromEnv({ COSMOS_CMK_POLL_INTERVAL_MS: value })).toEqual({})
    expect(transportFromEnv({ COSMOS_CMK_LOST_ANSWER_WAIT_MS: value })).toEqual({})
  })
})

describe('isNonIdempotent', () => {
  const at = (method: string, path: string) =>
    isNonIdempotent({ method: method as PipelineRequest['method'], url: `https://h${path}` })

  const account = '/subscriptions/s/providers/Microsoft.DocumentDB/databaseAccounts/a'
  const roleAssignment = '/keys/providers/Microsoft.Authorization/roleAssignments/n'

  it.each([
    ['POST', '/keys/k/create'],
    ['POST', '/KEYS/k/CREATE'],
    ['POST', '/securitydomain/download'],
    ['PUT', account],
    ['PUT', roleAssignment],
    ['PATCH', account]
  ])('names %s %s a write whose blind repetition is not harmless', (method, path) => {
    expect(at(method, path)).toBe(true)
  })

  it.each([
    ['POST', '/keys/k/rotate'],
    ['POST', '/keys/k/create/more'],
    ['POST', '/securitydomain/download/pending'],
    ['PUT', `${account}/x`],
    ['PATCH', roleAssignment],
    ['GET', '/keys/k/create'],
    ['DELETE', roleAssignment]
  ])('leaves %s %s to the retry policy', (method, path) => {
    expect(at(method, path)).toBe(false)
  })
})

describe('transportOptions', () => {
  it('passes the retry settings and a user agent prefix; learns each poll, times and records each attempt, keeps proxy tunnels open', () => {
    const options = transportOptions(defaultTransport)
    expect(options.retryOptions).toEqual({
      maxRetries: 10,
      retryDelayInMs: 500,
      maxRetryDelayInMs: 15_000
    })
    expect(options.userAgentOptions).toEqual({ userAgentPrefix: 'cosmos-cmk-hsm-action' })
    expect(options.additionalPolicies).toEqual([
      { policy: expect.objectContaining({ name: 'pollAnswer' }), position: 'perCall' },
      { policy: expect.objectContaining({ name: 'timeline' }), position: 'perRetry' },
      { policy: expect.objectContaining({ name: 'attemptTimeout' }), position: 'perRetry' },
      { policy: expect.objectContaining({ name: 'proxyKeepAlive' }), position: 'perRetry' }
    ])
  })
})

describe('createJsonClient', () => {
  /** An HTTP client answering each request with the next scripted response. */
  function scripted(
    ...answers: { status: number; body?: string; headers?: Record<string, string> }[]
  ) {
    const seen: PipelineRequest[] = []
    const httpClient: HttpClient = {
      sendRequest: async (request): Promise<PipelineResponse> => {
        seen.push(request)
        const answer = answers.shift() ?? { status: 200, body: '{}' }
        return {
          request,
          status: answer.status,
          headers: createHttpHeaders(answer.headers ?? {}),
          bodyAsText: answer.body
        }
      }
    }
    return { seen, httpClient }
  }

  const client = (httpClient: HttpClient, fixedQuery?: string) =>
    createJsonClient({
      baseUrl: 'https://hsm.example//',
      auth: { name: 'no-auth', sendRequest: (request, next) => next(request) },
      transport: { ...defaultTransport, maxRetries: 0 },
      fixedQuery,
      httpClient
    })

  it("sends a request with a signal that aborts with the client's or with the request's own", async () => {
    const { seen, httpClient } = scripted({ status: 200 }, { status: 200 })
    const run = new AbortController()
    const json = createJsonClient({
      baseUrl: 'https://hsm.example',
      auth: { name: 'no-auth', sendRequest: (request, next) => next(request) },
      transport: { ...defaultTransport, maxRetries: 0 },
      signal: run.signal,
      httpClient
    })
    const own = new AbortController()
    await json.send('GET', '/keys/a', { signal: own.signal })
    await json.send('GET', '/keys/b')
    own.abort()
    expect(seen[0].abortSignal?.aborted).toBe(true)
    expect(seen[1].abortSignal?.aborted).toBe(false)
    run.abort()
    expect(seen[1].abortSignal?.aborted).toBe(true)
  })

  it('joins the base, the path and both queries, and sends JSON only with a body', async () => {
    const { seen, httpClient } = scripted(
      { status: 200, body: '{"value":"v"}', headers: { 'X-Trace': 't' } },
      { status: 204 }
    )
    const json = client(httpClient, 'api-version=7.6')
    const answer = await json.send<{ value: string }>('PATCH', '/settings/x', {
      query: '$filter=a',
      body: { value: 'true' }
    })
    expect(seen[0].url).toBe('https://hsm.example/settings/x?$filter=a&api-version=7.6')
    expect(seen[0].method).toBe('PATCH')
    expect(seen[0].headers.get('content-type')).toBe('application/json')
    expect(seen[0].headers.get('accept')).toBe('application/json')
    expect(seen[0].body).toBe('{"value":"true"}')
    expect(answer).toEqual({
      status: 200,
      body: { value: 'v' },
      headers: expect.objectContaining({ 'x-trace': 't' })
    })

    const empty = await json.send('GET', '/settings/y')
    expect(seen[1].url).toBe('https://hsm.example/settings/y?api-version=7.6')
    expect(seen[1].headers.has('content-type')).toBe(false)
    expect(seen[1].body).toBeUndefined()
    expect(empty.body).toBeUndefined()
  })

  it('sends no query mark without a query, and reads an answer that is no JSON as no body', async () => {
    const { seen, httpClient } = scripted({ status: 200, body: 'not json' })
    const answer = await client(httpClient).send('GET', '/x')
    expect(seen[0].url).toBe('https://hsm.example/x')
    expect(answer.body).toBeUndefined()
  })

  it("throws the service's error with its code, status and inner code", async () => {
    const { httpClient } = scripted(
      {
        status: 403,
        body: '{"error":{"code":"Forbidden","message":"no","innererror":{"code":"ForbiddenByRbac"}}}'
      },
      {
        status: 400,
        body: '{"error":{"code":"BadRequest","message":"bad","innerError":{"code":"X"}}}'
      },
      { status: 404, body: '' }
    )
    const json = client(httpClient)
    const first = json.send('GET', '/a')
    await expect(first).rejects.toBeInstanceOf(RestError)
    await expect(first).rejects.toMatchObject({
      message: 'no',
      code: 'Forbidden',
      statusCode: 403,
      innerCode: 'ForbiddenByRbac'
    })
    await expect(json.send('GET', '/b')).rejects.toMatchObject({ innerCode: 'X', statusCode: 400 })
    await expect(json.send('DELETE', '/c')).rejects.toMatchObject({
      message: 'DELETE /c answered HTTP 404',
      statusCode: 404,
      code: undefined
    })
  })

  it('passes a 3xx answer on as an answer', async () => {
    const { httpClient } = scripted({ status: 304, body: '' })
    await expect(client(httpClient).send('GET', '/a')).resolves.toMatchObject({ status: 304 })
  })
})
