import { abortError, type Clock } from './clock.js'
import { ActionError } from './errors.js'
import { beginSpan, type EndSpan } from './timeline.js'

/** What a wait waits for, on the run's timeline: Azure's eventual consistency, or an operation. */
export type WaitKind = 'propagation' | 'operation'

/** Why the awaited thing is not there yet; `kind`, when given, overrides the wait's own. */
export interface Pending {
  status: string
  kind?: WaitKind
}

export type Poll<T> =
  | { done: true; value: T }
  /** `status` says what was observed; `retryAfterMs` is the service's own hint, if any. */
  | ({ done: false; retryAfterMs?: number } & Pending)

export interface WaitOptions<T> {
  /** What is awaited, e.g. "the Managed HSM Crypto User role to take effect". */
  what: string
  /** On the run's timeline, from the first observation that is not done. Default: propagation. */
  kind?: WaitKind
  poll: () => Promise<Poll<T>>
  /** Give up this long after the first observation. */
  timeoutMs: number
  /** What to check when it never happens. */
  hint: string
  clock: Clock
  log: (message: string) => void
  signal?: AbortSignal
  /** The shortest pause between two polls. */
  minDelayMs?: number
  /** The longest pause between two polls (a Retry-After is honoured as sent). */
  maxDelayMs?: number
  progressEveryMs?: number
  /** In [0, 1): spreads the polls of parallel runs. Default Math.random. */
  random?: () => number
}

export class WaitTimeoutError extends ActionError {
  constructor(message: string) {
    super(message)
    this.name = 'WaitTimeoutError'
  }
}

/** A wait ended by the run's deadline (or another abort): says what it was waiting for. */
export class WaitStoppedError extends ActionError {
  constructor(message: string) {
    super(message)
    this.name = 'WaitStoppedError'
  }
}

export const waitDefaults = { minDelayMs: 200, maxDelayMs: 5000, progressEveryMs: 15000 }

/** The pause as a share of the time waited so far, so that overshoot stays a small fraction of it. */
const delayShareOfElapsed = 0.06
/** Jitter added on top of the pause, as a share of it. */
const delayJitter = 0.1

/**
 * The pause before the next poll: a fixed share of the time already waited, kept between the
 * minimum and the maximum, plus a little jitter. A short wait is polled closely (it ends soon
 * after the condition holds); a long one gently (at most one poll per `maxDelayMs`).
 */
export function nextDelay(
  elapsedMs: number,
  limits: { minDelayMs: number; maxDelayMs: number },
  random: () => number
): number {
  const base = Math.min(
    Math.max(elapsedMs * delayShareOfElapsed, limits.minDelayMs),
    limits.maxDelayMs
  )
  return Math.round(base * (1 + delayJitter * random()))
}

/**
 * Waits out eventual consistency by observing: polls until `poll` reports done, pausing in
 * proportion to the time already waited (see nextDelay; or for the service's Retry-After), with a
 * progress line at the first wait and then at a steady pace, and a clear error at the deadline.
 * Never a fixed sleep.
 */
export async function waitFor<T>(options: WaitOptions<T>): Promise<T> {
  const { clock, signal, log } = options
  const minDelayMs = options.minDelayMs ?? waitDefaults.minDelayMs
  const maxDelayMs = Math.max(options.maxDelayMs ?? waitDefaults.maxDelayMs, minDelayMs)
  const progressEveryMs = options.progressEveryMs ?? waitDefaults.progressEveryMs
  const random = options.random ?? Math.random
  const started = clock.now()
  const deadline = started + options.timeoutMs
  let lastLog: number | undefined
  let lastStatus = 'none yet'
  const waiting = new WaitingSpan(options.what)
  const stopped = () =>
    new WaitStoppedError(
      `Stopped waiting for ${options.what} after ${seconds(clock.now() - started)} ` +
        `(${abortError(signal).message}). Last observation: ${lastStatus}. ${options.hint}`.trim()
    )
  try {
    for (;;) {
      if (signal?.aborted) throw stopped()
      const polledAt = clock.now()
      const result = await options.poll()
      if (result.done) {
        if (lastLog !== undefined)
          log(`Done waiting for ${options.what} after ${seconds(clock.now() - started)}.`)
        return result.value
      }
      waiting.as(result.kind ?? options.kind ?? 'propagation')
      lastStatus = result.status
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
      // A Retry-After counts from the answer; the action's own pace from when the poll was sent.
      const wanted =
        result.retryAfterMs !== undefined && result.retryAfterMs > 0
          ? result.retryAfterMs
          : nextDelay(elapsed, { minDelayMs, maxDelayMs }, random) - (now - polledAt)
      try {
        await clock.sleep(Math.max(0, Math.min(wanted, deadline - now)), signal)
      } catch (error) {
        if (signal?.aborted) throw stopped()
        throw error
      }
    }
  } finally {
    waiting.end()
  }
}

/** The wait on the run's timeline: one span while it waits for one kind of thing. */
class WaitingSpan {
  private kind?: WaitKind
  private endSpan?: EndSpan

  constructor(private readonly what: string) {}

  as(kind: WaitKind): void {
    if (kind === this.kind) return
    this.end()
    this.kind = kind
    this.endSpan = beginSpan(kind, this.what)
  }

  end(): void {
    this.endSpan?.()
    this.endSpan = undefined
    this.kind = undefined
  }
}

/**
 * Runs `operation` until it succeeds, as long as its failure is one of the eventual-consistency
 * conditions `pending` recognises (it returns a status text then, or a Pending; undefined for a
 * real failure).
 */
export function retryWhile<T>(
  operation: () => Promise<T>,
  pending: (error: unknown) => string | Pending | undefined,
  options: Omit<WaitOptions<T>, 'poll'>
): Promise<T> {
  return waitFor({
    ...options,
    poll: async () => {
      try {
        return { done: true, value: await operation() }
      } catch (error) {
        const why = pending(error)
        if (why === undefined) throw error
        return { done: false, ...(typeof why === 'string' ? { status: why } : why) }
      }
    }
  })
}

export function seconds(ms: number): string {
  const s = Math.round(ms / 1000)
  return s < 120 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`
}
