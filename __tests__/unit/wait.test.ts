import { describe, expect, it } from '@jest/globals'
import { nextDelay, retryWhile, waitFor, WaitTimeoutError, type Poll } from '../../src/wait.js'
import { FakeClock } from './fakes.js'

function pollsUntil(n: number, status = 'not yet', retryAfterMs?: number) {
  let calls = 0
  return {
    get calls() {
      return calls
    },
    poll: async (): Promise<Poll<string>> =>
      ++calls >= n ? { done: true, value: 'done' } : { done: false, status, retryAfterMs }
  }
}

describe('waitFor', () => {
  it('returns at once, without logging or sleeping, when already done', async () => {
    const clock = new FakeClock()
    const logs: string[] = []
    const value = await waitFor({
      what: 'x',
      poll: pollsUntil(1).poll,
      timeoutMs: 1000,
      hint: '',
      clock,
      log: m => logs.push(m)
    })
    expect(value).toBe('done')
    expect(clock.sleeps).toEqual([])
    expect(logs).toEqual([])
  })

  it('pauses in proportion to the time waited, within bounds, never a fixed sleep', async () => {
    const clock = new FakeClock()
    await waitFor({
      what: 'x',
      poll: pollsUntil(80).poll,
      timeoutMs: 600_000,
      hint: '',
      clock,
      log: () => {},
      minDelayMs: 200,
      maxDelayMs: 5000,
      random: () => 0
    })
    // 6% of the time waited, at least 200 ms, at most 5 s.
    let elapsed = 0
    for (const pause of clock.sleeps) {
      expect(pause).toBe(Math.round(Math.min(Math.max(elapsed * 0.06, 200), 5000)))
      elapsed += pause
    }
    expect(clock.sleeps.slice(0, 3)).toEqual([200, 200, 200])
    expect(clock.sleeps.at(-1)).toBe(5000)
  })

  it('overshoots a short wait by a small fraction and polls a long one gently', async () => {
    for (const readyAfterMs of [3000, 10_000, 300_000]) {
      const clock = new FakeClock()
      const start = clock.now()
      let polls = 0
      await waitFor({
        what: 'x',
        poll: async (): Promise<Poll<null>> => {
          polls++
          return clock.now() - start >= readyAfterMs
            ? { done: true, value: null }
            : { done: false, status: 'not yet' }
        },
        timeoutMs: 900_000,
        hint: '',
        clock,
        log: () => {},
        random: () => 0.999
      })
      const overshoot = clock.now() - start - readyAfterMs
      expect(overshoot).toBeLessThanOrEqual(Math.max(250, readyAfterMs * 0.15))
      // At most one poll per 200 ms, and far fewer over minutes.
      expect(polls).toBeLessThanOrEqual(readyAfterMs / 200 + 1)
      if (readyAfterMs >= 300_000) expect(polls).toBeLessThan(120)
    }
  })

  it('adds jitter of at most a tenth of the pause', () => {
    const limits = { minDelayMs: 200, maxDelayMs: 5000 }
    expect(nextDelay(0, limits, () => 0)).toBe(200)
    expect(nextDelay(0, limits, () => 0.999)).toBe(220)
    expect(nextDelay(10_000, limits, () => 0)).toBe(600)
    expect(nextDelay(600_000, limits, () => 0.5)).toBe(5250)
  })

  it("honours the service's Retry-After", async () => {
    const clock = new FakeClock()
    await waitFor({
      what: 'x',
      poll: pollsUntil(3, 'busy', 7000).poll,
      timeoutMs: 600_000,
      hint: '',
      clock,
      log: () => {}
    })
    expect(clock.sleeps).toEqual([7000, 7000])
  })

  it('counts its own pause from when the poll was sent, and a Retry-After from the answer', async () => {
    const clock = new FakeClock()
    let polls = 0
    await waitFor({
      what: 'the grant to take effect',
      // Each poll takes 150 ms; the second answer asks for 1 s.
      poll: async (): Promise<Poll<string>> => {
        await clock.sleep(150)
        polls++
        if (polls === 4) return { done: true, value: 'done' }
        return { done: false, status: 'not yet', retryAfterMs: polls === 2 ? 1000 : undefined }
      },
      timeoutMs: 600_000,
      hint: '',
      clock,
      log: () => {},
      minDelayMs: 200,
      random: () => 0
    })
    expect(clock.sleeps).toEqual([150, 50, 150, 1000, 150, 50, 150])
  })

  it('logs at the first wait, then at a steady pace, then when done', async () => {
    const clock = new FakeClock()
    const logs: string[] = []
    await waitFor({
      what: 'the grant to take effect',
      poll: pollsUntil(72, 'HSM answered 403').poll,
      timeoutMs: 600_000,
      hint: '',
      clock,
      log: m => logs.push(m),
      maxDelayMs: 5000,
      progressEveryMs: 15_000,
      random: () => 0
    })
    expect(logs[0]).toBe('Waiting for the grant to take effect: HSM answered 403')
    const progress = logs.filter(l => l.startsWith('Still waiting'))
    expect(progress.length).toBeGreaterThanOrEqual(4)
    expect(progress[0]).toMatch(
      /^Still waiting for the grant to take effect \(\d+ s so far\): HSM answered 403$/
    )
    expect(logs.at(-1)).toMatch(/^Done waiting for the grant to take effect after \d+ s\.$/)
  })

  it('gives up at the deadline, saying what did not happen and what to check', async () => {
    const clock = new FakeClock()
    const start = clock.now()
    const error = await waitFor({
      what: 'provider X to be registered',
      poll: pollsUntil(Infinity, 'registrationState Registering').poll,
      timeoutMs: 60_000,
      hint: 'Run az provider show.',
      clock,
      log: () => {}
    }).catch(e => e)
    expect(error).toBeInstanceOf(WaitTimeoutError)
    expect(error.message).toBe(
      'Gave up after 60 s waiting for provider X to be registered. Last observation: registrationState Registering. Run az provider show.'
    )
    // It polls once more exactly at the deadline instead of overshooting it.
    expect(clock.now() - start).toBe(60_000)
  })

  it('stops when the run is aborted', async () => {
    const clock = new FakeClock()
    const controller = new AbortController()
    const waiting = waitFor({
      what: 'x',
      poll: async () => {
        controller.abort()
        return { done: false, status: 's' }
      },
      timeoutMs: 60_000,
      hint: '',
      clock,
      log: () => {},
      signal: controller.signal
    })
    await expect(waiting).rejects.toMatchObject({
      name: 'WaitStoppedError',
      message: expect.stringMatching(
        /^Stopped waiting for x after 0 s \(The operation was aborted\.\)\. Last observation: s\./
      )
    })
  })
})

describe('retryWhile', () => {
  it('retries only the failures it recognises as pending', async () => {
    const clock = new FakeClock()
    let attempts = 0
    const value = await retryWhile(
      async () => {
        if (++attempts < 3) throw new Error('PrincipalNotFound')
        return 42
      },
      e => ((e as Error).message === 'PrincipalNotFound' ? 'not replicated' : undefined),
      { what: 'x', timeoutMs: 60_000, hint: '', clock, log: () => {} }
    )
    expect(value).toBe(42)
    expect(attempts).toBe(3)
    await expect(
      retryWhile(
        async () => {
          throw new Error('boom')
        },
        () => undefined,
        { what: 'x', timeoutMs: 60_000, hint: '', clock, log: () => {} }
      )
    ).rejects.toThrow('boom')
  })
})
