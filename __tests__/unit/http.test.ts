import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import {
  createDefaultHttpClient,
  createPipelineFromOptions,
  createPipelineRequest,
  type PipelineRequest
} from '@azure/core-rest-pipeline'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { systemClock } from '../../src/clock.js'
import { Step } from '../../src/steps/names.js'
import { Timeline } from '../../src/timeline.js'
import {
  attemptTimeoutPolicy,
  isNonIdempotent,
  pollAsking,
  retryAfterMs,
  transportOptions
} from '../../src/azure/http.js'
import type { TransportSettings } from '../../src/azure/transport.js'

const settings: TransportSettings = {
  readTimeoutMs: 300,
  writeTimeoutMs: 300,
  maxRetries: 3,
  retryDelayMs: 10,
  maxRetryDelayMs: 50,
  pollIntervalMs: 10,
  lostAnswerWaitMs: 1_000
}

/** Each path answers with the scripted behaviours in turn, then 200. */
const scripts: Record<string, string[]> = {}
const hits: Record<string, number> = {}
let server: Server
let base: string

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? ''
    hits[path] = (hits[path] ?? 0) + 1
    const next = scripts[path]?.shift()
    if (next === 'stall') return // never answers
    if (next === 'reset') return req.socket.destroy()
    if (next === '429') {
      res.writeHead(429, { 'retry-after': '0', 'content-type': 'application/json' })
      return res.end('{"error":{"code":"TooManyRequests","message":"slow down"}}')
    }
    if (next === 'asks-3') {
      res.writeHead(200, { 'retry-after': '3', 'content-type': 'application/json' })
      return res.end('{"status":"InProgress"}')
    }
    if (next === 'cut-body') {
      // The headers and the start of the body go out before the connection drops.
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' })
      res.write('{"ok":', () => setTimeout(() => req.socket.destroy(), 10))
      return
    }
    if (next === '503') {
      res.writeHead(503, { 'content-type': 'application/json' })
      return res.end('{"error":{"code":"ServiceUnavailable","message":"busy"}}')
    }
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end('{"ok":true}')
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise(resolve => server.close(resolve))
})

async function send(
  path: string,
  method: PipelineRequest['method'] = 'GET',
  body?: string,
  transport: TransportSettings = settings,
  abortSignal?: AbortSignal
) {
  const { retryOptions } = transportOptions(transport)
  const pipeline = createPipelineFromOptions({ retryOptions })
  pipeline.addPolicy(attemptTimeoutPolicy(transport), { afterPhase: 'Retry' })
  const request = createPipelineRequest({
    url: path.startsWith('http') ? path : `${base}${path}`,
    method,
    body,
    abortSignal,
    allowInsecureConnection: true
  })
  return pipeline.sendRequest(createDefaultHttpClient(), request)
}

describe('transport: one retry policy, per-attempt timeouts', () => {
  it('retries a stalled response after the per-attempt timeout', async () => {
    scripts['/stall'] = ['stall']
    const response = await send('/stall')
    expect(response.status).toBe(200)
    expect(hits['/stall']).toBe(2)
  })

  it('retries a connection reset, leaving no timer of the failed attempts behind', async () => {
    const { setTimeout: realSet, clearTimeout: realClear } = globalThis
    const attemptTimers = new Set<unknown>()
    globalThis.setTimeout = ((fn: () => void, ms?: number) => {
      const timer = realSet(fn, ms)
      if (ms === settings.readTimeoutMs) attemptTimers.add(timer)
      return timer
    }) as typeof setTimeout
    globalThis.clearTimeout = ((timer: Parameters<typeof clearTimeout>[0]) => {
      attemptTimers.delete(timer)
      realClear(timer)
    }) as typeof clearTimeout
    try {
      scripts['/reset'] = ['reset', 'reset']
      const response = await send('/reset')
      expect(response.status).toBe(200)
      expect(hits['/reset']).toBe(3)
    } finally {
      globalThis.setTimeout = realSet
      globalThis.clearTimeout = realClear
    }
    expect(attemptTimers.size).toBe(0)
  })

  it('retries 429 with Retry-After and 503', async () => {
    scripts['/busy'] = ['429', '503']
    const response = await send('/busy')
    expect(response.status).toBe(200)
    expect(hits['/busy']).toBe(3)
  })

  it('gives up after maxRetries', async () => {
    scripts['/down'] = ['503', '503', '503', '503', '503']
    const response = await send('/down')
    expect(response.status).toBe(503)
    expect(hits['/down']).toBe(4)
  })

  it('does not repeat a key creation whose outcome is unknown', async () => {
    scripts['/keys/k/create'] = ['reset']
    await expect(send('/keys/k/create', 'POST', '{"kty":"RSA-HSM"}')).rejects.toMatchObject({
      code: 'OutcomeUnknown'
    })
    expect(hits['/keys/k/create']).toBe(1)
  })

  /** One attempt each, with reads and writes timed out apart. */
  const once: TransportSettings = {
    ...settings,
    maxRetries: 0,
    readTimeoutMs: 40,
    writeTimeoutMs: 80
  }

  it.each([
    ['GET', 40],
    ['HEAD', 40],
    ['POST', 80]
  ] as const)('times a %s attempt out after its own timeout', async (method, ms) => {
    scripts[`/stall-${method}`] = ['stall']
    await expect(send(`/stall-${method}`, method, undefined, once)).rejects.toMatchObject({
      code: 'ETIMEDOUT',
      message: `Request attempt failed: no response within ${ms} ms`
    })
  })

  it('says a connection reset is one, not a timeout', async () => {
    scripts['/reset-once'] = ['reset']
    const failure = send('/reset-once', 'GET', undefined, once)
    await expect(failure).rejects.toMatchObject({ code: 'ECONNRESET' })
    await expect(failure).rejects.toThrow(/^Request attempt failed: (?!no response)/)
  })

  it('reads a response cut off in its body as a cut-off attempt, and retries it', async () => {
    scripts['/cut-once'] = ['cut-body']
    const failure = send('/cut-once', 'GET', undefined, once)
    await expect(failure).rejects.toMatchObject({ code: 'ECONNRESET' })
    await expect(failure).rejects.toThrow(/^Request attempt failed: .*reading response/i)
    scripts['/cut'] = ['cut-body']
    expect((await send('/cut')).status).toBe(200)
    expect(hits['/cut']).toBe(2)
  })

  it('passes on a failure that is neither a timeout nor a cut-off as it is', async () => {
    const closed = createServer()
    await new Promise<void>(resolve => closed.listen(0, '127.0.0.1', resolve))
    const { port } = closed.address() as AddressInfo
    await new Promise(resolve => closed.close(resolve))
    await expect(send(`http://127.0.0.1:${port}/`, 'GET', undefined, once)).rejects.toMatchObject({
      code: 'ECONNREFUSED'
    })
  })

  it('sends nothing on a signal that has aborted already', async () => {
    scripts['/never'] = []
    await expect(
      send('/never', 'GET', undefined, settings, AbortSignal.abort())
    ).rejects.toMatchObject({ name: 'AbortError' })
    expect(hits['/never']).toBeUndefined()
  })

  it.each([
    ['POST', 'https://hsm.managedhsm.azure.net/keys/k/create', true],
    ['POST', 'https://hsm.managedhsm.azure.net/securitydomain/download', true],
    [
      'PUT',
      'https://hsm.managedhsm.azure.net/keys/providers/Microsoft.Authorization/roleAssignments/a',
      true
    ],
    [
      'PUT',
      'https://management.azure.com/subscriptions/s/resourceGroups/g/providers/Microsoft.DocumentDB/databaseAccounts/a',
      true
    ],
    [
      'PATCH',
      'https://management.azure.com/subscriptions/s/resourceGroups/g/providers/Microsoft.DocumentDB/databaseAccounts/a',
      true
    ],
    ['POST', 'https://hsm.managedhsm.azure.net/keys/cosmos-cmk/create', true],
    [
      'PUT',
      'https://hsm.managedhsm.azure.net/providers/Microsoft.Authorization/roleAssignments/0f3c',
      true
    ],
    [
      'PATCH',
      'https://management.azure.com/subscriptions/s/resourceGroups/g/providers/Microsoft.DocumentDB/databaseAccounts/acct',
      true
    ],
    [
      'PUT',
      'https://management.azure.com/subscriptions/s/resourceGroups/g/providers/Microsoft.DocumentDB/databaseAccounts/acct',
      true
    ],
    [
      'PUT',
      'https://hsm.managedhsm.azure.net/providers/Microsoft.Authorization/roleAssignments/a/b',
      false
    ],
    [
      'PATCH',
      'https://management.azure.com/subscriptions/s/resourceGroups/g/providers/Microsoft.DocumentDB/databaseAccounts/a/b',
      false
    ],
    // Create-if-not-exist never adds a version, and an HSM PUT repeats itself harmlessly.
    [
      'PUT',
      'https://management.azure.com/subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/managedHSMs/h/keys/k',
      false
    ],
    [
      'PUT',
      'https://management.azure.com/subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/managedHSMs/h',
      false
    ],
    [
      'GET',
      'https://management.azure.com/subscriptions/s/resourceGroups/g/providers/Microsoft.DocumentDB/databaseAccounts/a',
      false
    ]
  ])('%s %s is non-idempotent: %s', (method, url, expected) => {
    expect(isNonIdempotent({ method: method as 'GET', url })).toBe(expected)
  })

  it('still retries a key creation the service answered with 503', async () => {
    scripts['/keys/k2/create'] = ['503']
    const response = await send('/keys/k2/create', 'POST', '{}')
    expect(response.status).toBe(200)
    expect(hits['/keys/k2/create']).toBe(2)
  })
})

describe('pollAsking', () => {
  /** A pipeline with the transport's own policies, as an SDK client has them. */
  function pollingPipeline() {
    const { retryOptions, additionalPolicies } = transportOptions(settings)
    const pipeline = createPipelineFromOptions({ retryOptions })
    for (const { policy, position } of additionalPolicies) {
      pipeline.addPolicy(policy, position === 'perCall' ? {} : { afterPhase: 'Retry' })
    }
    return (path: string) =>
      pipeline.sendRequest(
        createDefaultHttpClient(),
        createPipelineRequest({ url: `${base}${path}`, allowInsecureConnection: true })
      )
  }

  it("answers the Retry-After of the poll's last response, after the transport's retries", async () => {
    const send = pollingPipeline()
    scripts['/poll-asks'] = ['503', 'asks-3']
    await expect(pollAsking(() => send('/poll-asks'))).resolves.toBe(3_000)
    expect(hits['/poll-asks']).toBe(2)
  })

  it('answers nothing for a poll that asks for no pause, and ignores requests sent outside it', async () => {
    const send = pollingPipeline()
    scripts['/poll-quiet'] = []
    scripts['/elsewhere'] = ['asks-3']
    const outside = send('/elsewhere')
    await expect(pollAsking(() => send('/poll-quiet'))).resolves.toBeUndefined()
    expect((await outside).headers.get('retry-after')).toBe('3')
  })
})

describe('the timeline', () => {
  it.each([
    ['GET', '/things', 'read'],
    ['HEAD', '/things', 'read'],
    ['POST', '/things', 'write'],
    ['POST', '/tenant/oauth2/token', 'read'],
    ['POST', '/tenant/oauth2/v2.0/token', 'read'],
    ['POST', '/tenant/oauth2/token-status', 'write']
  ] as const)('counts %s %s as a %s of the step', async (method, path, kind) => {
    const { retryOptions, additionalPolicies } = transportOptions(settings)
    const pipeline = createPipelineFromOptions({ retryOptions })
    for (const { policy, position } of additionalPolicies) {
      pipeline.addPolicy(policy, position === 'perCall' ? {} : { afterPhase: 'Retry' })
    }
    const timeline = new Timeline(systemClock)
    await timeline.within(Step.Observe, () =>
      pipeline.sendRequest(
        createDefaultHttpClient(),
        createPipelineRequest({ url: `${base}${path}`, method, allowInsecureConnection: true })
      )
    )
    expect(timeline.spans().map(s => `${s.kind} ${s.label}`)).toEqual([`${kind} ${method} ${path}`])
  })
})

describe('retryAfterMs', () => {
  const headers = (values: Record<string, string>) => ({
    get: (name: string) => values[name.toLowerCase()]
  })

  it.each([
    [{ 'retry-after': '3' }, 3000],
    [{ 'retry-after': '0' }, 0],
    [{ 'retry-after-ms': '250', 'retry-after': '3' }, 250],
    [{ 'x-ms-retry-after-ms': '120' }, 120],
    [{ 'retry-after-ms': '', 'retry-after': '3' }, 3000],
    [{ 'retry-after-ms': '-5', 'retry-after': '3' }, 3000],
    // Zero is an answer: poll again at once, not after the seconds header.
    [{ 'retry-after-ms': '0', 'retry-after': '3' }, 0],
    [{ 'retry-after': ' 3 ' }, 3000],
    [{ 'retry-after': '30' }, 30000],
    [{ 'retry-after': '3x' }, undefined],
    [{ 'retry-after': 'x3' }, undefined],
    [{ 'retry-after': 'soon' }, undefined],
    [{}, undefined]
  ])('%j: %s ms', (values, expected) => {
    expect(retryAfterMs(headers(values))).toBe(expected)
  })

  it('reads an HTTP date as the time until then', () => {
    const at = new Date(Date.now() + 60_000).toUTCString()
    const ms = retryAfterMs(headers({ 'retry-after': at }))!
    expect(ms).toBeGreaterThan(55_000)
    expect(ms).toBeLessThanOrEqual(60_000)
    expect(retryAfterMs(headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:00 GMT' }))).toBe(0)
  })
})
