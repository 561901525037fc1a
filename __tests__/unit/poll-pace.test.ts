/** The pause between polls of an operation that asks for none (pollPace). */
import { describe, expect, it } from '@jest/globals'
import { pollPace } from '../../src/azure/transport.js'
import { waitDefaults } from '../../src/wait.js'

/** Within the jitter (up to a tenth more) of `base`. */
const near = (base: number) => ({ min: base, max: Math.round(base * 1.1) })

describe('pollPace', () => {
  it('grows up to the waits’ longest pause, from a short first pause', () => {
    const pace = pollPace({ pollIntervalMs: 10 })
    const long = pace(10 * 60_000)
    expect(long).toBeGreaterThanOrEqual(near(waitDefaults.maxDelayMs).min)
    expect(long).toBeLessThanOrEqual(near(waitDefaults.maxDelayMs).max)
  })

  it('keeps a first pause longer than the waits’ longest', () => {
    const first = 2 * waitDefaults.maxDelayMs
    const pace = pollPace({ pollIntervalMs: first })
    for (const waited of [0, 10 * 60_000]) {
      expect(pace(waited)).toBeGreaterThanOrEqual(near(first).min)
      expect(pace(waited)).toBeLessThanOrEqual(near(first).max)
    }
  })
})
