/** The real clock's pause and abort, driven by Jest's fake timers (no real time passes). */
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals'
import { abortError, systemClock } from '../../src/clock.js'

describe('systemClock', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: Date.parse('2026-11-28T12:00:00Z') })
  })
  afterEach(() => {
    jest.useRealTimers()
  })

  it('tells the current time', () => {
    expect(systemClock.now()).toBe(Date.parse('2026-11-28T12:00:00Z'))
    jest.advanceTimersByTime(1500)
    expect(systemClock.now()).toBe(Date.parse('2026-11-28T12:00:01.500Z'))
  })

  it('resolves once the pause is over, not before', async () => {
    let done = false
    const sleeping = systemClock.sleep(1000).then(() => {
      done = true
    })
    await jest.advanceTimersByTimeAsync(999)
    expect(done).toBe(false)
    await jest.advanceTimersByTimeAsync(1)
    expect(done).toBe(true)
    await sleeping
    expect(jest.getTimerCount()).toBe(0)
  })

  it('treats a negative pause as none', async () => {
    let done = false
    const sleeping = systemClock.sleep(-50).then(() => {
      done = true
    })
    await jest.advanceTimersByTimeAsync(0)
    expect(done).toBe(true)
    await sleeping
  })

  it('rejects at once, with no timer, when the signal is already aborted', async () => {
    const controller = new AbortController()
    controller.abort()
    await expect(systemClock.sleep(1000, controller.signal)).rejects.toMatchObject({
      name: 'AbortError'
    })
    expect(jest.getTimerCount()).toBe(0)
  })

  it('rejects when aborted during the pause, and leaves no timer behind', async () => {
    const controller = new AbortController()
    const sleeping = systemClock.sleep(60_000, controller.signal)
    await jest.advanceTimersByTimeAsync(10)
    const reason = new Error('timeout-minutes (5) reached')
    reason.name = 'AbortError'
    controller.abort(reason)
    await expect(sleeping).rejects.toBe(reason)
    expect(jest.getTimerCount()).toBe(0)
  })

  it('is not disturbed by an abort after it resolved', async () => {
    const controller = new AbortController()
    const sleeping = systemClock.sleep(100, controller.signal)
    await jest.advanceTimersByTimeAsync(100)
    await expect(sleeping).resolves.toBeUndefined()
    controller.abort(new Error('later'))
    await expect(sleeping).resolves.toBeUndefined()
  })
})

describe('abortError', () => {
  it('passes an AbortError reason on as it is', () => {
    const reason = Object.assign(new Error('deadline'), { name: 'AbortError' })
    const controller = new AbortController()
    controller.abort(reason)
    expect(abortError(controller.signal)).toBe(reason)
  })

  it("turns another error into an AbortError with that error's message", () => {
    const controller = new AbortController()
    controller.abort(new TypeError('the run is over'))
    const error = abortError(controller.signal)
    expect(error).not.toBeInstanceOf(TypeError)
    expect(error).toMatchObject({ name: 'AbortError', message: 'the run is over' })
  })

  it('says that the operation was aborted when there is no error to tell more', () => {
    const controller = new AbortController()
    controller.abort('a string reason')
    expect(abortError(controller.signal)).toMatchObject({
      name: 'AbortError',
      message: 'The operation was aborted.'
    })
    expect(abortError()).toMatchObject({
      name: 'AbortError',
      message: 'The operation was aborted.'
    })
  })
})
