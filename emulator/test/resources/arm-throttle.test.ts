/**
 * Resource Manager's request limits on the harness's clock: the write bucket empties, answers 429
 * with a Retry-After computed from the refill rate, fills again as the clock moves, and leaves
 * reads alone; deletes have a bucket of their own.
 */
import { describe, expect, it } from '@jest/globals'
import type { Timing } from '../../src/core/service.js'
import { timingProblems } from '../../src/core/timing.js'
import { takeToken } from '../../src/model/arm-throttle.js'
import { armService } from '../../src/services/arm/index.js'
import { DEPLOYER, READER, SUB } from './test-tenant.js'
import { cosmosPath, hsmCreateBody, hsmPath } from './arm-paths.js'
import { Harness, type JsonResponse } from './harness.js'

const WRITES = 'x-ms-ratelimit-remaining-subscription-writes'
const DELETES = 'x-ms-ratelimit-remaining-subscription-deletes'
const registerPath = (ns: string) => `/subscriptions/${SUB}/providers/${ns}/register`

const harness = (timing: Partial<Timing>) => new Harness(timing)

const register = (h: Harness, as?: string) =>
  h.call(armService, { method: 'POST', path: registerPath('Microsoft.KeyVault'), as })

/** Spends `n` writes, expecting each to get through. */
async function spend(h: Harness, n: number): Promise<string[]> {
  const remaining: string[] = []
  for (let i = 0; i < n; i++) {
    const res = await register(h)
    expect(res.status).toBe(200)
    remaining.push(res.headers![WRITES]!)
  }
  return remaining
}

function expectThrottled(res: JsonResponse, retryAfter: number, operation = 'write'): void {
  expect(res.status).toBe(429)
  expect(res.headers?.['Retry-After']).toBe(String(retryAfter))
  expect(res.json.error).toEqual({
    code: 'SubscriptionRequestsThrottled',
    message:
      `Number of '${operation}' requests for subscription '${SUB}' actor '${DEPLOYER}' exceeded. ` +
      `Please try again after '${retryAfter}' seconds after additional tokens are available. ` +
      'Refer to https://aka.ms/arm-throttling for additional information.'
  })
}

describe('ARM write budget', () => {
  it('sets no limit and sends no budget header unless the timing sizes the bucket', async () => {
    const h = harness({})
    for (let i = 0; i < 250; i++) {
      const res = await register(h)
      expect(res.status).toBe(200)
      expect(res.headers?.[WRITES]).toBeUndefined()
    }
    expect(h.world.armRequestBuckets).toBeUndefined()
  })

  it('counts the writes down, then answers 429 before the resource provider sees the write', async () => {
    const h = harness({ armWriteBucket: 3, armWriteRefillPerSecond: 0.5 })
    const documentDb = h.world.subscriptions[SUB]!.providers['microsoft.documentdb']!
    documentDb.state = 'NotRegistered'
    expect(await spend(h, 3)).toEqual(['2', '1', '0'])

    const hsm = await h.call(armService, {
      method: 'PUT',
      path: hsmPath('hsm-throttled'),
      body: hsmCreateBody()
    })
    // One token back takes 1 / 0.5 = 2 seconds.
    expectThrottled(hsm, 2)
    expect(hsm.headers?.[WRITES]).toBe('0')
    expect(Object.keys(h.world.managedHsms)).toHaveLength(0)

    const provider = await h.call(armService, {
      method: 'POST',
      path: registerPath('Microsoft.DocumentDB')
    })
    expectThrottled(provider, 2)
    expect(documentDb.state).toBe('NotRegistered')
  })

  it('computes Retry-After from the refill rate and what is left of the token', async () => {
    const h = harness({ armWriteBucket: 1, armWriteRefillPerSecond: 0.1 })
    await spend(h, 1)
    expectThrottled(await register(h), 10)
    // A refused request takes nothing: after 7.5 s a quarter of the token is still missing.
    h.advance(7_500)
    expectThrottled(await register(h), 3)
    h.advance(2_499)
    expectThrottled(await register(h), 1)
    h.advance(1)
    expect(await spend(h, 1)).toEqual(['0'])

    // Azure's own rate: a token every 100 ms, asked for as one whole second.
    const azure = harness({ armWriteBucket: 200, armWriteRefillPerSecond: 10 })
    expect((await spend(azure, 200)).slice(-2)).toEqual(['1', '0'])
    expectThrottled(await register(azure), 1)
    azure.advance(100)
    expect(await spend(azure, 1)).toEqual(['0'])
  })

  it('fills up again on the clock, never beyond the bucket size', async () => {
    const h = harness({ armWriteBucket: 4, armWriteRefillPerSecond: 2 })
    await spend(h, 4)
    h.advance(1_000)
    expect(await spend(h, 2)).toEqual(['1', '0'])
    expectThrottled(await register(h), 1)
    h.advance(3_600_000)
    expect(await spend(h, 4)).toEqual(['3', '2', '1', '0'])
    expectThrottled(await register(h), 1)
  })

  it('leaves reads alone: they pass an empty bucket, spend nothing and carry no write header', async () => {
    const h = harness({ armWriteBucket: 2, armWriteRefillPerSecond: 0.5 })
    await h.call(armService, { method: 'PUT', path: hsmPath('hsm-read'), body: hsmCreateBody() })
    await spend(h, 1)
    expectThrottled(await register(h), 2)
    for (let i = 0; i < 20; i++) {
      const reads = [
        await h.call(armService, { method: 'GET', path: hsmPath('hsm-read') }),
        await h.call(armService, {
          method: 'GET',
          path: `/subscriptions/${SUB}/providers/Microsoft.KeyVault`
        })
      ]
      for (const res of reads) {
        expect(res.status).toBe(200)
        expect(res.headers?.[WRITES]).toBeUndefined()
      }
    }
    h.advance(2_000)
    expect(await spend(h, 1)).toEqual(['0'])
  })

  it('keeps a bucket per subscription and principal, and reports it on refusals too', async () => {
    const h = harness({ armWriteBucket: 2, armWriteRefillPerSecond: 1 })
    await spend(h, 2)
    expectThrottled(await register(h), 1)
    // The Reader spends its own budget; ARM counts the write before the provider refuses it.
    const reader = await register(h, READER)
    expect(reader.status).toBe(403)
    expect(reader.json.error.code).toBe('AuthorizationFailed')
    expect(reader.headers?.[WRITES]).toBe('1')
    // Another subscription: another bucket (the subscription does not exist).
    const other = await h.call(armService, {
      method: 'POST',
      path: `/subscriptions/99999999-2222-3333-4444-555555555555/providers/Microsoft.KeyVault/register`
    })
    expect(other.status).toBe(404)
    expect(other.headers?.[WRITES]).toBe('1')
    expect(Object.keys(h.world.armRequestBuckets ?? {}).sort()).toEqual([
      `${SUB}/${DEPLOYER}/writes`,
      `${SUB}/${READER}/writes`,
      `99999999-2222-3333-4444-555555555555/${DEPLOYER}/writes`
    ])
  })

  it('counts deletes in a bucket of their own, with their own header', async () => {
    const h = harness({
      armWriteBucket: 1,
      armWriteRefillPerSecond: 1,
      armDeleteBucket: 2,
      armDeleteRefillPerSecond: 0.25
    })
    await spend(h, 1)
    expectThrottled(await register(h), 1)
    const del = () => h.call(armService, { method: 'DELETE', path: cosmosPath('gone') })
    const first = await del()
    expect(first.status).toBe(204)
    expect(first.headers?.[DELETES]).toBe('1')
    expect(first.headers?.[WRITES]).toBeUndefined()
    expect((await del()).headers?.[DELETES]).toBe('0')
    expectThrottled(await del(), 4, 'delete')
  })

  it('deletes are not limited while only writes are', async () => {
    const h = harness({ armWriteBucket: 1, armWriteRefillPerSecond: 1 })
    await spend(h, 1)
    for (let i = 0; i < 5; i++) {
      const res = await h.call(armService, { method: 'DELETE', path: cosmosPath('gone') })
      expect(res.status).toBe(204)
      expect(res.headers?.[DELETES]).toBeUndefined()
    }
  })
})

describe('the token bucket', () => {
  it('refills by the elapsed time at the given rate and refuses below one token', () => {
    const bucket = { tokens: 1, at: 0 }
    const limits = { size: 2, refillPerSecond: 4 }
    expect(takeToken(bucket, limits, 0)).toEqual({ allowed: true, remaining: 0 })
    expect(takeToken(bucket, limits, 100)).toEqual({
      allowed: false,
      remaining: 0,
      retryAfterSeconds: 1
    })
    expect(bucket).toEqual({ tokens: 0.4, at: 100 })
    expect(takeToken(bucket, limits, 250)).toEqual({ allowed: true, remaining: 0 })
    expect(takeToken(bucket, limits, 10_000)).toEqual({ allowed: true, remaining: 1 })
    expect(bucket).toEqual({ tokens: 1, at: 10_000 })
  })
})

describe('ARM request limit timing', () => {
  it('takes whole bucket sizes and positive refill rates', () => {
    expect(
      timingProblems({
        armWriteBucket: 200,
        armWriteRefillPerSecond: 10,
        armDeleteBucket: 0,
        armDeleteRefillPerSecond: 0.5
      })
    ).toEqual([])
    expect(
      timingProblems({
        armWriteBucket: 1.5,
        armDeleteBucket: -1,
        armWriteRefillPerSecond: 0,
        armDeleteRefillPerSecond: '10'
      })
    ).toEqual([
      'armWriteBucket must be a whole number >= 0 (0: no limit)',
      'armDeleteBucket must be a whole number >= 0 (0: no limit)',
      'armWriteRefillPerSecond must be a number > 0',
      'armDeleteRefillPerSecond must be a number > 0'
    ])
  })
})
