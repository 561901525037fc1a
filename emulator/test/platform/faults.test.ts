import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import type { AccessToken, TokenCredential } from '@azure/core-auth'
import { ResourceManagementClient } from '@azure/arm-resources'
import type { PendingRequest, RequestLogEntry, Service } from '../../src/index.js'
import { armService } from '../../src/services/arm/index.js'
import { FaultInjector, requestIdentity } from '../../src/core/faults.js'
import { admin, rawRequest, startTestEmulator, type TestEmulator } from './helpers.js'

const SUB = '6c1b9e3a-2f4d-4a7b-8e5c-9d0f1a2b3c4d'
let served = 0

/** Stands in for ARM: counts what reaches it, so a test can tell whether a fault stopped a request. */
const armDouble: Service = {
  name: 'ARM test double',
  matches: host => host === 'management.azure.com',
  audiences: armService.audiences,
  handle: ({ req }) => {
    served++
    const m = /^\/subscriptions\/[^/]+\/providers\/([^/]+)(\/register)?$/i.exec(req.path)
    if (!m) return { status: 404, body: { error: { code: 'NotFound', message: req.path } } }
    return {
      status: 200,
      body: { namespace: m[1], registrationState: 'Registered', resourceTypes: [] }
    }
  }
}

let t: TestEmulator
let token: string

beforeAll(async () => {
  t = await startTestEmulator({ extraServices: [armDouble] })
  token = t.emulator.tokens.accessToken()
})

afterAll(async () => {
  await t.stop()
})

beforeEach(() => {
  t.emulator.setFaults([])
  t.emulator.intercept(undefined)
  t.emulator.clearRequests()
  served = 0
})

const providerUrl = (ns = 'Microsoft.DocumentDB') =>
  `https://management.azure.com/subscriptions/${SUB}/providers/${ns}?api-version=2025-04-01`

describe('fault injection', () => {
  it('throttles with 429, an Azure-shaped body and Retry-After, before the service runs', async () => {
    t.emulator.setFaults([
      { kind: 'throttle', rate: 1, host: 'management.azure.com', retryAfterSeconds: 7 }
    ])
    const res = await rawRequest(providerUrl(), { token })
    expect(res.status).toBe(429)
    expect(res.headers['retry-after']).toBe('7')
    expect(res.json.error.code).toBe('TooManyRequests')
    expect(served).toBe(0)
    expect(t.emulator.faultCounts().throttle).toBe(1)
    expect(t.emulator.requests().at(-1)).toMatchObject({ status: 429, fault: 'throttle' })
  })

  it('injects server errors with the configured status, matching method and path', async () => {
    t.emulator.setFaults([
      { kind: 'server-error', rate: 1, method: 'POST', path: '/register$', status: 502 }
    ])
    const read = await rawRequest(providerUrl(), { token })
    expect(read.status).toBe(200)
    const write = await rawRequest(
      `https://management.azure.com/subscriptions/${SUB}/providers/Microsoft.DocumentDB/register?api-version=2025-04-01`,
      { method: 'POST', token, body: '{}' }
    )
    expect(write.status).toBe(502)
    expect(write.json.error.code).toBe('BadGateway')
    expect(served).toBe(1)
  })

  it('resets the connection without an answer', async () => {
    t.emulator.setFaults([{ kind: 'reset', rate: 1, maxCount: 1 }])
    await expect(rawRequest(providerUrl(), { token })).rejects.toMatchObject({
      code: expect.stringMatching(/ECONNRESET|ECONNREFUSED|EPIPE|ERR_SOCKET/)
    })
    expect(served).toBe(0)
    expect(t.emulator.requests().at(-1)).toMatchObject({ status: 0, fault: 'reset' })
    // maxCount reached: the next request goes through.
    await expect(rawRequest(providerUrl(), { token })).resolves.toMatchObject({ status: 200 })
    expect(t.emulator.faultCounts()).toMatchObject({ reset: 1, throttle: 0 })
  })

  it('stalls, then drops the connection after stallMs', async () => {
    t.emulator.setFaults([{ kind: 'stall', rate: 1, stallMs: 300 }])
    const started = Date.now()
    await expect(rawRequest(providerUrl(), { token })).rejects.toBeDefined()
    expect(Date.now() - started).toBeGreaterThanOrEqual(280)
    expect(served).toBe(0)
    expect(t.emulator.faultCounts().stall).toBe(1)
  })

  it('replays the same faults for the same seed and requests', async () => {
    const rules = [{ kind: 'server-error' as const, rate: 0.5, host: 'management.azure.com' }]
    const run = async () => {
      t.emulator.setFaults(rules)
      const statuses: number[] = []
      for (let i = 0; i < 16; i++)
        statuses.push((await rawRequest(providerUrl(), { token })).status)
      return statuses
    }
    const first = await run()
    const second = await run()
    expect(second).toEqual(first)
    expect(first).toContain(503)
    expect(first).toContain(200)
    expect(t.emulator.faultCounts()['server-error']).toBe(first.filter(s => s === 503).length)
  })

  it('chooses faults by request identity and occurrence, whatever the order of arrival', async () => {
    const rules = [{ kind: 'server-error' as const, rate: 0.4, host: 'management.azure.com' }]
    const namespaces = ['Microsoft.A', 'Microsoft.B', 'Microsoft.C', 'Microsoft.D', 'Microsoft.E']
    /** Each namespace's three requests one after another; the namespaces in the order given. */
    const statuses = async (order: string[], parallel: boolean) => {
      t.emulator.setFaults(rules)
      const three = async (ns: string) => {
        const got: number[] = []
        for (let i = 0; i < 3; i++) got.push((await rawRequest(providerUrl(ns), { token })).status)
        return [ns, got] as const
      }
      const pairs = parallel
        ? await Promise.all(order.map(three))
        : await order.reduce<Promise<(readonly [string, number[]])[]>>(
            async (done, ns) => [...(await done), await three(ns)],
            Promise.resolve([])
          )
      return Object.fromEntries(pairs)
    }
    const inOrder = await statuses(namespaces, false)
    const interleaved = await statuses([...namespaces].reverse(), true)
    expect(interleaved).toEqual(inOrder)
    const all = Object.values(inOrder).flat()
    expect(all).toContain(503)
    expect(all).toContain(200)
  })

  it('treats requests that differ only by generated ids or letter case as one request', () => {
    const assignment = (name: string) => ({
      host: 'hsm-cmk-demo.managedhsm.azure.net',
      method: 'put',
      path: `/keys/providers/Microsoft.Authorization/roleAssignments/${name}`
    })
    expect(requestIdentity(assignment('0d5e5f5a-1b2c-4d3e-8f40-5a6b7c8d9e0f'))).toBe(
      requestIdentity(assignment('9F8E7D6C-5B4A-4392-8170-6F5E4D3C2B1A'))
    )
    expect(
      requestIdentity({
        host: 'X.managedhsm.azure.net',
        method: 'GET',
        path: '/keys/k/' + 'ab'.repeat(16)
      })
    ).toBe('GET x.managedhsm.azure.net/keys/k/{id}')
    expect(
      requestIdentity({ host: 'management.azure.com', method: 'GET', path: '/subscriptions/' })
    ).toBe('GET management.azure.com/subscriptions')
    // The key's name stays: creating another key is another request.
    expect(requestIdentity({ ...assignment('a'), path: '/keys/one/create' })).not.toBe(
      requestIdentity({ ...assignment('a'), path: '/keys/two/create' })
    )
  })

  it('gives a request repeated after a fault its own draw, the same for the same seed', () => {
    const decisions = (seed: number) => {
      const faults = new FaultInjector(seed)
      faults.setRules([{ kind: 'reset', rate: 0.5 }])
      const create = { host: 'h.managedhsm.azure.net', method: 'POST', path: '/keys/k/create' }
      return Array.from({ length: 24 }, () => faults.decide(create)?.kind ?? 'served')
    }
    expect(decisions(41)).toEqual(decisions(41))
    expect(new Set(decisions(41))).toEqual(new Set(['reset', 'served']))
    expect(decisions(42)).not.toEqual(decisions(41))
  })

  it('lets the Azure SDK retry through a throttle', async () => {
    t.emulator.setFaults([{ kind: 'throttle', rate: 1, maxCount: 1, retryAfterSeconds: 1 }])
    const credential: TokenCredential = {
      getToken: async (): Promise<AccessToken> => ({
        token,
        expiresOnTimestamp: Date.now() + 3_600_000
      })
    }
    const client = new ResourceManagementClient(credential, SUB)
    const started = Date.now()
    const provider = await client.providers.get('Microsoft.KeyVault')
    expect(provider.namespace).toBe('Microsoft.KeyVault')
    expect(Date.now() - started).toBeGreaterThanOrEqual(900)
    expect(t.emulator.requests().map(e => e.status)).toEqual([429, 200])
  })

  it('never faults the admin API', async () => {
    t.emulator.setFaults([{ kind: 'server-error', rate: 1 }])
    const res = await admin(t.emulator, '/health')
    expect(res.status).toBe(200)
  })
})

describe('request hooks', () => {
  it("emits 'before-request' before the service runs and 'request' once it is logged", async () => {
    const seen: string[] = []
    const before = (p: PendingRequest) => seen.push(`before ${p.method} ${p.kind} ${p.principal}`)
    const after = (e: RequestLogEntry) => seen.push(`after ${e.seq} ${e.status} served=${served}`)
    t.emulator.on('before-request', before).on('request', after)
    try {
      await rawRequest(providerUrl(), { token })
    } finally {
      t.emulator.off('before-request', before).off('request', after)
    }
    const seq = t.emulator.requests().at(-1)!.seq
    expect(seen).toEqual([
      'before GET read 9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
      `after ${seq} 200 served=1`
    ])
  })

  it('lets an interceptor drop a write before the service sees it', async () => {
    t.emulator.intercept(p => (p.kind === 'write' ? 'reset' : 'continue'))
    await expect(
      rawRequest(
        `https://management.azure.com/subscriptions/${SUB}/providers/Microsoft.DocumentDB/register?api-version=2025-04-01`,
        { method: 'POST', token, body: '{}' }
      )
    ).rejects.toBeDefined()
    expect(served).toBe(0)
    await expect(rawRequest(providerUrl(), { token })).resolves.toMatchObject({ status: 200 })
    expect(served).toBe(1)
  })
})
