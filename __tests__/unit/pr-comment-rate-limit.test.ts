import { describe, expect, it } from '@jest/globals'
import { RateLimitGate, RateLimitedError } from '../../src/pr-comment/index.js'
import { isRateLimitError } from '../../src/pr-comment/rate-limit.js'
import { FakeClock } from './fakes.js'

type Headers = Record<string, string>

interface Reply {
  status: number
  headers?: Headers
  message?: string
}

/** Octokit's RequestError as far as the gate reads it. */
class FakeRequestError extends Error {
  readonly response: { headers: Headers; data: { message: string } }
  constructor(
    readonly status: number,
    headers: Headers,
    message: string
  ) {
    super(message)
    this.response = { headers, data: { message } }
  }
}

/** A server that answers with `replies` in turn (the last one for ever), on the fake clock. */
function server(clock: FakeClock, replies: Reply[]) {
  const sent: number[] = []
  const request = async () => {
    sent.push(clock.now())
    const reply = replies[Math.min(sent.length - 1, replies.length - 1)]!
    const headers = { date: new Date(clock.now()).toUTCString(), ...reply.headers }
    if (reply.status >= 400) {
      throw new FakeRequestError(reply.status, headers, reply.message ?? 'error')
    }
    return { status: reply.status, headers, data: {} }
  }
  return { request, sent }
}

function gate(clock: FakeClock, maxWaitMs = 90_000, log: string[] = []) {
  return new RateLimitGate({ clock, maxWaitMs, log: m => log.push(m) })
}

/** Sends `request` through a gate to a server with `replies`: what it threw, and when it went out. */
async function sendUntilRefused(
  clock: FakeClock,
  replies: Reply[],
  { request = 'GET', maxWaitMs = 90_000 } = {}
) {
  const s = server(clock, replies)
  const error = await gate(clock, maxWaitMs)
    .send(request, s.request)
    .catch(e => e)
  return { error, sent: s.sent }
}

const SECONDARY = 'You have exceeded a secondary rate limit. Please wait a few minutes.'

describe('RateLimitGate', () => {
  it('waits Retry-After on a 429 and a 403, then repeats the request', async () => {
    const clock = new FakeClock()
    const log: string[] = []
    const s = server(clock, [
      { status: 429, headers: { 'retry-after': '3' } },
      { status: 403, headers: { 'retry-after': '2' }, message: SECONDARY },
      { status: 200 }
    ])
    const response = await gate(clock, 90_000, log).send('POST /comments', s.request)
    expect(response.status).toBe(200)
    expect(clock.sleeps).toEqual([3_000, 2_000])
    expect(log[0]).toMatch(/429, Retry-After.*3 s before POST \/comments/)
  })

  it('waits for x-ratelimit-reset, measured on the server’s clock, when no requests remain', async () => {
    const clock = new FakeClock()
    // the server's clock is 10 minutes behind ours; the reset is 40 s after its "now"
    const serverNow = clock.now() - 600_000
    const s = server(clock, [
      {
        status: 403,
        headers: {
          date: new Date(serverNow).toUTCString(),
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset': String(serverNow / 1000 + 40)
        },
        message: 'API rate limit exceeded for installation ID 1.'
      },
      { status: 200 }
    ])
    await gate(clock).send('GET /comments', s.request)
    expect(clock.sleeps).toEqual([41_000])
  })

  it('holds the next request back after an answer that used up the primary limit', async () => {
    const clock = new FakeClock()
    const reset = String(clock.now() / 1000 + 30)
    const s = server(clock, [
      { status: 200, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset } },
      { status: 201 }
    ])
    const g = gate(clock)
    await g.send('GET', s.request)
    expect(clock.sleeps).toEqual([])
    await g.send('POST', s.request)
    expect(clock.sleeps).toEqual([31_000])
    expect(s.sent[1]! - s.sent[0]!).toBe(31_000)
  })

  it('waits a minute, then two, for a secondary limit that says nothing more', async () => {
    const clock = new FakeClock()
    const s = server(clock, [
      { status: 403, message: SECONDARY },
      { status: 403, message: SECONDARY },
      { status: 200 }
    ])
    await gate(clock, 300_000).send('PATCH', s.request)
    expect(clock.sleeps).toEqual([60_000, 120_000])
  })

  it('fails at once, without sleeping, when the wait would pass the bound', async () => {
    const clock = new FakeClock()
    const { error, sent } = await sendUntilRefused(
      clock,
      [{ status: 429, headers: { 'retry-after': '120' } }],
      { request: 'POST /comments', maxWaitMs: 90_000 }
    )
    expect(error).toBeInstanceOf(RateLimitedError)
    expect(error.message).toMatch(
      /wait 2 min 0 s before POST \/comments; that is more than the 90 s allowed/
    )
    expect(clock.sleeps).toEqual([])
    expect(sent).toHaveLength(1)
  })

  it('counts every wait against the bound', async () => {
    const clock = new FakeClock()
    const { error } = await sendUntilRefused(
      clock,
      [{ status: 429, headers: { 'retry-after': '40' } }],
      { maxWaitMs: 90_000 }
    )
    expect(error).toBeInstanceOf(RateLimitedError)
    expect(error.message).toContain('10 s left of the 90 s allowed')
    expect(clock.sleeps).toEqual([40_000, 40_000])
  })

  it('never repeats at once: Retry-After 0 still waits a second, and repeats are counted', async () => {
    const clock = new FakeClock()
    const { error, sent } = await sendUntilRefused(clock, [
      { status: 429, headers: { 'retry-after': '0' } }
    ])
    expect(error).toBeInstanceOf(FakeRequestError)
    expect(sent.length).toBe(8)
    expect(clock.sleeps.every(ms => ms === 1_000)).toBe(true)
  })

  it('passes any other answer on at once', async () => {
    const clock = new FakeClock()
    for (const reply of [
      { status: 403, message: 'Resource not accessible by integration' },
      { status: 404, message: 'Not Found' },
      { status: 500, headers: { 'retry-after': '1' }, message: 'oops' }
    ]) {
      const { error, sent } = await sendUntilRefused(clock, [reply])
      expect(error.status).toBe(reply.status)
      expect(sent).toHaveLength(1)
    }
    expect(clock.sleeps).toEqual([])
  })

  it('stops waiting when the run is cancelled, and sends nothing once it is', async () => {
    const clock = new FakeClock()
    const controller = new AbortController()
    const s = server(clock, [{ status: 429, headers: { 'retry-after': '5' } }])
    const g = new RateLimitGate({ clock, maxWaitMs: 90_000, signal: controller.signal })
    const cancelling = () => {
      controller.abort()
      return s.request()
    }
    await expect(g.send('GET', cancelling)).rejects.toThrow('aborted')
    await expect(g.send('GET', s.request)).rejects.toMatchObject({ name: 'AbortError' })
    expect(s.sent).toHaveLength(1)
    expect(clock.sleeps).toEqual([])
  })
})

describe('RateLimitGate, the edges', () => {
  it.each([
    ['Retry-After alone', { status: 403, headers: { 'retry-after': '2' }, message: 'Forbidden' }],
    [
      'no requests remaining alone',
      { status: 403, headers: { 'x-ratelimit-remaining': '0' }, message: 'Forbidden' }
    ],
    ['a message about a rate limit alone', { status: 403, message: 'API Rate Limit exceeded' }]
  ])('reads a 403 with %s as a rate limit and repeats it', async (_, reply) => {
    const clock = new FakeClock()
    const s = server(clock, [reply, { status: 200 }])
    await expect(gate(clock, 300_000).send('GET', s.request)).resolves.toMatchObject({
      status: 200
    })
    expect(s.sent).toHaveLength(2)
  })

  it('says in its log which answer it waits for and how long', async () => {
    const clock = new FakeClock()
    const log: string[] = []
    const s = server(clock, [
      { status: 403, message: SECONDARY },
      { status: 429, headers: { 'retry-after': '3' } },
      { status: 200 }
    ])
    await gate(clock, 300_000, log).send('PATCH /comments/1', s.request)
    expect(log).toEqual([
      'GitHub rate limit (403): waiting 60 s before PATCH /comments/1.',
      'GitHub rate limit (429, Retry-After): waiting 3 s before PATCH /comments/1.'
    ])
  })

  it('allows a wait that fills the bound exactly', async () => {
    const clock = new FakeClock()
    const s = server(clock, [{ status: 403, message: SECONDARY }, { status: 200 }])
    await expect(gate(clock, 60_000).send('GET', s.request)).resolves.toMatchObject({
      status: 200
    })
    expect(clock.sleeps).toEqual([60_000])
  })

  it('does not hold back a request sent just as the reset is reached, nor after a reset of 0 or none', async () => {
    const clock = new FakeClock()
    const reset = clock.now() / 1000 + 30
    const s = server(clock, [
      {
        status: 200,
        headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) }
      },
      { status: 200, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '0' } },
      { status: 200, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': 'soon' } },
      { status: 200 }
    ])
    const g = gate(clock)
    await g.send('GET', s.request)
    clock.time += 31_000
    await g.send('GET', s.request)
    await g.send('GET', s.request)
    await g.send('GET', s.request)
    expect(clock.sleeps).toEqual([])
  })

  it('names its error RateLimitedError', async () => {
    const clock = new FakeClock()
    const { error } = await sendUntilRefused(clock, [
      { status: 429, headers: { 'retry-after': '600' } }
    ])
    expect(error).toBeInstanceOf(RateLimitedError)
    expect(error.name).toBe('RateLimitedError')
  })
})

describe('isRateLimitError', () => {
  it('tells a rate-limit answer from any other error, or none', () => {
    expect(isRateLimitError(new FakeRequestError(429, {}, 'Too Many Requests'))).toBe(true)
    expect(isRateLimitError(new FakeRequestError(403, {}, 'secondary rate limit'))).toBe(true)
    expect(isRateLimitError(new FakeRequestError(403, {}, 'Forbidden'))).toBe(false)
    expect(isRateLimitError(new FakeRequestError(500, { 'retry-after': '1' }, 'rate limit'))).toBe(
      false
    )
    for (const other of [undefined, null, new Error('rate limit'), { status: 429 }]) {
      expect(isRateLimitError(other)).toBe(false)
    }
  })
})
