import { abortError, type Clock } from './clock.js'
import { ActionError } from './errors.js'

export type Poll<T> =
  | { done: true; value: T }
  /** `status` says what was observed; `retryAfterMs` is the service's own hint, if any. */
  | { done: false; status: string; retryAfterMs?: number }

export interface WaitOptions<T> {
  /** What is awaited, e.g. "the Managed HSM Crypto User role to take effect". */
  what: string
  poll: () => Promise<Poll<T>>
  /** Give up this long after the first observation. */
  timeoutMs: number
  /** What to check when it never happens. */
  hint: string
  clock: Clock
  log: (message: string) => void
  signal?: AbortSignal
  initialDelayMs?: number
  maxDelayMs?: number
  progressEveryMs?: number
}

export class WaitTimeoutError extends ActionError {
  constructor(message: string) {
    super(message)
    this.name = 'WaitTimeoutError'
  }
}

export const waitDefaults = { initialDelayMs: 500, maxDelayMs: 5000, progressEveryMs: 15000 }

/**
 * Waits out eventual consistency by observing: polls until `poll` reports done, with a short
 * first interval growing to a low cap (or the service's Retry-After), a progress line at the first
 * wait and then at a steady pace, and a clear error at the deadline. Never a fixed sleep.
 */
export async function waitFor<T>(options: WaitOptions<T>): Promise<T> {
  const { clock, signal, log } = options
  const initialDelayMs = options.initialDelayMs ?? waitDefaults.initialDelayMs
  const maxDelayMs = Math.max(options.maxDelayMs ?? waitDefaults.maxDelayMs, initialDelayMs)
  const progressEveryMs = options.progressEveryMs ?? waitDefaults.progressEveryMs
  const started = clock.now()
  const deadline = started + options.timeoutMs
  let delay = initialDelayMs
  let lastLog: number | undefined
  for (;;) {
    if (signal?.aborted) throw abortError(signal)
    const result = await options.poll()
    if (result.done) {
      if (lastLog !== undefined)
        log(`Done waiting for ${options.what} after ${seconds(clock.now() - started)}.`)
      return result.value
    }
    const now = clock.now()
    const elapsed = now - started
    if (now >= deadline) {
      throw new WaitTimeoutError(
        `Gave up after ${seconds(elapsed)} waiting for ${options.what}. Last observation: ` +
          `${result.status}. ${options.hint}`
      )
    }
    if (lastLog === undefined) {
      log(`Waiting for ${options.what}: ${result.status}`)
      lastLog = now
    } else if (now - lastLog >= progressEveryMs) {
      log(`Still waiting for ${options.what} (${seconds(elapsed)} so far): ${result.status}`)
      lastLog = now
    }
    const wanted =
      result.retryAfterMs !== undefined && result.retryAfterMs > 0 ? result.retryAfterMs : delay
    await clock.sleep(Math.min(wanted, deadline - now), signal)
    delay = Math.min(Math.ceil(delay * 1.5), maxDelayMs)
  }
}

/**
 * Runs `operation` until it succeeds, as long as its failure is one of the eventual-consistency
 * conditions `pending` recognises (it returns a status text then, undefined for a real failure).
 */
export function retryWhile<T>(
  operation: () => Promise<T>,
  pending: (error: unknown) => string | undefined,
  options: Omit<WaitOptions<T>, 'poll'>
): Promise<T> {
  return waitFor({
    ...options,
    poll: async () => {
      try {
        return { done: true, value: await operation() }
      } catch (error) {
        const status = pending(error)
        if (status === undefined) throw error
        return { done: false, status }
      }
    }
  })
}

export function seconds(ms: number): string {
  const s = Math.round(ms / 1000)
  return s < 120 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`
}
