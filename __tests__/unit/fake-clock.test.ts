/**
 * The fake clock must end a wait that stops advancing time. Its `sleep` resolves after one
 * microtask, so a wait whose pauses are all 0 ms never reaches its deadline and never lets the
 * event loop run a timer: without a guard of its own (the poll below has one) such a test would spin
 * forever, and Jest's timeout, a timer itself, would never fire.
 */
import { describe, expect, it } from '@jest/globals'
import { waitFor, type Poll } from '../../src/wait.js'
import { FakeClock, FakeClockStalledError } from './fakes.js'

/** Far more polls than any wait of the suite makes, all at one instant of fake time. */
const SPINNING = 20_000

describe('FakeClock', () => {
  it('fails a wait whose pauses stop advancing time, instead of spinning', async () => {
    const clock = new FakeClock()
    const start = clock.now()
    let polls = 0
    const outcome = waitFor({
      what: 'a condition that never holds',
      timeoutMs: 60_000,
      hint: '',
      clock,
      log: () => {},
      // Every pause is 0 ms: the deadline, a minute of fake time away, never comes.
      minDelayMs: 0,
      maxDelayMs: 0,
      poll: async (): Promise<Poll<never>> => {
        if (++polls > SPINNING) {
          throw new Error(
            `still polling after ${SPINNING} polls and ${clock.now() - start} ms of fake time: the wait spins`
          )
        }
        return { done: false, status: 'not yet' }
      }
    })
    await expect(outcome).rejects.toMatchObject({
      name: 'FakeClockStalledError',
      message: expect.stringMatching(/did not advance the fake clock/)
    })
    expect(polls).toBeLessThan(SPINNING)
  })

  it('lets a wait that advances time run as long as it needs', async () => {
    const clock = new FakeClock()
    const start = clock.now()
    for (let i = 0; i < FakeClock.STALL_LIMIT * 2; i++) await clock.sleep(i % 2)
    expect(clock.now() - start).toBe(FakeClock.STALL_LIMIT)
    expect(clock.sleeps).toHaveLength(FakeClock.STALL_LIMIT * 2)
    await expect(clock.sleep(0)).resolves.toBeUndefined()
  })

  it('counts a stall from the last sleep that moved time', async () => {
    const clock = new FakeClock()
    for (let i = 1; i < FakeClock.STALL_LIMIT; i++) await clock.sleep(0)
    await clock.sleep(5)
    for (let i = 1; i < FakeClock.STALL_LIMIT; i++) await clock.sleep(0)
    await expect(clock.sleep(0)).rejects.toBeInstanceOf(FakeClockStalledError)
  })
})
