import { abortError, type Clock } from '../clock.js'
import { ActionError } from '../errors.js'
import { seconds } from '../wait.js'

type Headers = Record<string, string | number | undefined>

/** A GitHub answer as far as rate limits go: Octokit's RequestError carries it. */
interface Answer {
  status: number
  headers: Headers
  message: string
}

/** GitHub's rate limits kept us waiting longer than allowed. */
export class RateLimitedError extends ActionError {
  constructor(message: string) {
    super(message)
    this.name = 'RateLimitedError'
  }
}

export interface RateLimitOptions {
  clock: Clock
  /** The longest all waits for rate limits may take together. */
  maxWaitMs: number
  signal?: AbortSignal
  log?: (message: string) => void
}

/** Only so many repeats of one request, however short GitHub's waits are. */
const MAX_ATTEMPTS = 8
/** What GitHub asks for when a secondary limit comes without Retry-After: at least a minute. */
const SECONDARY_WAIT_MS = 60_000
/** Clock skew and whole-second reset times: wait a little past the reset. */
const RESET_SLACK_MS = 1_000

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name]
  return value === undefined ? undefined : String(value)
}

function answerOf(error: unknown): Answer | undefined {
  const e = error as { status?: unknown; response?: { headers?: unknown; data?: unknown } }
  if (typeof e?.status !== 'number' || typeof e.response?.headers !== 'object') return undefined
  const data = e.response.data as { message?: unknown } | undefined
  return {
    status: e.status,
    headers: (e.response.headers ?? {}) as Headers,
    message: typeof data?.message === 'string' ? data.message : ''
  }
}

/** Milliseconds until `x-ratelimit-reset`, measured on the server's clock when it sent `date`. */
function untilReset(headers: Headers, now: number): number | undefined {
  if (header(headers, 'x-ratelimit-remaining') !== '0') return undefined
  const reset = Number(header(headers, 'x-ratelimit-reset'))
  if (!Number.isFinite(reset) || reset <= 0) return undefined
  const serverNow = Date.parse(header(headers, 'date') ?? '')
  return Math.max(0, reset * 1000 - (Number.isNaN(serverNow) ? now : serverNow)) + RESET_SLACK_MS
}

/** Retry-After in milliseconds: seconds, or an HTTP date. */
function retryAfter(headers: Headers, now: number): number | undefined {
  const value = header(headers, 'retry-after')
  if (value === undefined) return undefined
  const secs = Number(value)
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000)
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

/** Whether an error is GitHub's answer that a rate limit was hit (403 or 429). */
export function isRateLimitError(error: unknown): boolean {
  const answer = answerOf(error)
  return answer !== undefined && isRateLimit(answer)
}

function isRateLimit(a: Answer): boolean {
  if (a.status === 429) return true
  return (
    a.status === 403 &&
    (header(a.headers, 'retry-after') !== undefined ||
      header(a.headers, 'x-ratelimit-remaining') === '0' ||
      /rate limit/i.test(a.message))
  )
}

/**
 * Keeps a client within GitHub's rate limits: a request answered 403/429 for a rate limit is
 * repeated after the wait GitHub asks for (Retry-After; else until `x-ratelimit-reset` when no
 * requests remain; else a minute, doubling), and after an answer that used up the primary limit the
 * next request waits for the reset. Every wait is at least a second, and all of them together stay
 * within `maxWaitMs`: a longer one fails at once with RateLimitedError instead of sleeping.
 */
export class RateLimitGate {
  private waitedMs = 0
  private blockedUntil = 0

  constructor(private readonly options: RateLimitOptions) {}

  async send<T extends { headers: Headers }>(label: string, request: () => Promise<T>): Promise<T> {
    let secondaryWaits = 0
    for (let attempt = 1; ; attempt++) {
      const { clock, signal } = this.options
      // Octokit's pagination drops per-request options, the signal among them.
      if (signal?.aborted) throw abortError(signal)
      if (this.blockedUntil > clock.now()) {
        await this.pause(this.blockedUntil - clock.now(), 'primary rate limit used up', label)
      }
      try {
        const response = await request()
        this.note(response.headers)
        return response
      } catch (error) {
        const answer = answerOf(error)
        if (!answer || !isRateLimit(answer) || attempt >= MAX_ATTEMPTS) throw error
        this.note(answer.headers)
        const asked = retryAfter(answer.headers, clock.now())
        if (asked !== undefined) {
          await this.pause(asked, `${answer.status}, Retry-After`, label)
        } else if (this.blockedUntil <= clock.now()) {
          // A secondary limit without Retry-After: a minute, then longer each time.
          await this.pause(SECONDARY_WAIT_MS * 2 ** secondaryWaits++, `${answer.status}`, label)
        }
      }
    }
  }

  private note(headers: Headers): void {
    const wait = untilReset(headers, this.options.clock.now())
    if (wait !== undefined) this.blockedUntil = this.options.clock.now() + wait
  }

  private async pause(ms: number, why: string, label: string): Promise<void> {
    const wait = Math.max(1_000, Math.ceil(ms))
    const { maxWaitMs, clock, signal, log } = this.options
    if (this.waitedMs + wait > maxWaitMs) {
      const left = this.waitedMs ? `${seconds(maxWaitMs - this.waitedMs)} left of the ` : ''
      throw new RateLimitedError(
        `GitHub's rate limit (${why}) asks to wait ${seconds(wait)} before ${label}; that is more ` +
          `than the ${left}${seconds(maxWaitMs)} allowed for rate limits, so the comment was not written.`
      )
    }
    log?.(`GitHub rate limit (${why}): waiting ${seconds(wait)} before ${label}.`)
    await clock.sleep(wait, signal)
    this.waitedMs += wait
  }
}
