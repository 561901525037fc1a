/**
 * Resource Manager's write budget over HTTPS: the headers and the 429 as clients get them, in every
 * cloud's Resource Manager, in the request log, and on the emulator's clock. The clock runs on
 * while a test runs, so the bucket refills slowly (one token in 1,000 s) and the expected
 * Retry-After is bounded by the emulator time the test took, never by real time.
 */
import { beforeEach, describe, expect, it } from '@jest/globals'
import { admin, rawRequest, SUB, useTestEmulator } from './helpers.js'

const local = useTestEmulator()
const WRITES = 'x-ms-ratelimit-remaining-subscription-writes'
const REFILL_PER_SECOND = 0.001
const SECONDS_PER_TOKEN = 1 / REFILL_PER_SECOND

const publicArm = 'https://management.azure.com'
const govArm = 'https://management.usgovcloudapi.net'
const register = (arm: string) =>
  `${arm}/subscriptions/${SUB}/providers/Microsoft.KeyVault/register?api-version=2025-04-01`
const provider = `${publicArm}/subscriptions/${SUB}/providers/Microsoft.KeyVault?api-version=2025-04-01`

beforeEach(() => {
  local.emulator.reset()
  local.emulator.clearRequests()
  local.emulator.setTiming({ armWriteBucket: 2, armWriteRefillPerSecond: REFILL_PER_SECOND })
})

describe('ARM write budget over HTTPS', () => {
  it('counts writes down across clouds, throttles with Retry-After and logs it', async () => {
    const emulator = local.emulator
    const token = emulator.tokens.accessToken()
    const gov = emulator.tokens.accessToken({ audience: govArm })
    const started = emulator.now()

    const first = await rawRequest(register(publicArm), { method: 'POST', token, body: '{}' })
    expect(first.status).toBe(200)
    expect(first.headers[WRITES]).toBe('1')
    // One world behind every cloud: the same subscription, the same caller, the same bucket.
    const second = await rawRequest(register(govArm), { method: 'POST', token: gov, body: '{}' })
    expect(second.status).toBe(200)
    expect(second.headers[WRITES]).toBe('0')

    const throttled = await rawRequest(register(publicArm), { method: 'POST', token, body: '{}' })
    const elapsedSeconds = (emulator.now() - started) / 1000
    expect(throttled.status).toBe(429)
    expect(throttled.headers[WRITES]).toBe('0')
    expect(throttled.json.error.code).toBe('SubscriptionRequestsThrottled')
    const retryAfter = Number(throttled.headers['retry-after'])
    expect(retryAfter).toBeLessThanOrEqual(SECONDS_PER_TOKEN)
    expect(retryAfter).toBeGreaterThanOrEqual(Math.ceil(SECONDS_PER_TOKEN - elapsedSeconds))
    expect(throttled.json.error.message).toContain(`Please try again after '${retryAfter}' seconds`)
    expect(emulator.requests().map(e => [e.method, e.status, e.retryAfterSeconds])).toEqual([
      ['POST', 200, undefined],
      ['POST', 200, undefined],
      ['POST', 429, retryAfter]
    ])

    // Reads pass the empty bucket and carry no write budget.
    const read = await rawRequest(provider, { token })
    expect(read.status).toBe(200)
    expect(read.headers[WRITES]).toBeUndefined()

    // Waiting out Retry-After on the emulator's clock brings one token back.
    emulator.advanceClock(retryAfter * 1000)
    const after = await rawRequest(register(govArm), { method: 'POST', token: gov, body: '{}' })
    expect(after.status).toBe(200)
    expect(after.headers[WRITES]).toBe('0')
  })

  it('fills the buckets again on reset, and the admin API checks the budget it is given', async () => {
    const emulator = local.emulator
    const token = emulator.tokens.accessToken()
    for (const remaining of ['1', '0']) {
      const res = await rawRequest(register(publicArm), { method: 'POST', token, body: '{}' })
      expect(res.headers[WRITES]).toBe(remaining)
    }
    emulator.reset()
    // The scenario sets no limit: writes go through without a budget header.
    const unlimited = await rawRequest(register(publicArm), { method: 'POST', token, body: '{}' })
    expect(unlimited.status).toBe(200)
    expect(unlimited.headers[WRITES]).toBeUndefined()

    const put = await admin(emulator, '/timing', {
      method: 'PUT',
      body: { armWriteBucket: 3, armWriteRefillPerSecond: REFILL_PER_SECOND }
    })
    expect(put.status).toBe(200)
    expect(put.json).toMatchObject({ armWriteBucket: 3, armDeleteBucket: 0 })
    const full = await rawRequest(register(publicArm), { method: 'POST', token, body: '{}' })
    expect(full.headers[WRITES]).toBe('2')

    const refused = await admin(emulator, '/timing', {
      method: 'PUT',
      body: { armWriteRefillPerSecond: 0 }
    })
    expect(refused.status).toBe(400)
    expect(JSON.stringify(refused.json)).toContain('armWriteRefillPerSecond must be a number > 0')
  })
})
