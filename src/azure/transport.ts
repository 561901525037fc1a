import { nextDelay, waitDefaults } from '../wait.js'

/**
 * How every client talks to Azure: one place for retry and timeout settings. Transient failures
 * (429 with Retry-After, 500/502/503/504, connection resets, stalled responses) are retried by the
 * SDK's own retry policy with exponential backoff and jitter; nothing retries them a second time.
 */
export interface TransportSettings {
  /** Per attempt, for GET/HEAD. */
  readTimeoutMs: number
  /** Per attempt, for writes. */
  writeTimeoutMs: number
  maxRetries: number
  retryDelayMs: number
  maxRetryDelayMs: number
  /**
   * The first pause between polls of a long-running operation whose service sends no
   * Retry-After; later pauses grow with the time waited (see pollPace).
   */
  pollIntervalMs: number
  /**
   * How long a write whose answer was lost may still take to show before it is repeated: a key
   * creation cut off on its way back may still be under way at the HSM.
   */
  lostAnswerWaitMs: number
}

export const defaultTransport: TransportSettings = {
  readTimeoutMs: 20_000,
  writeTimeoutMs: 60_000,
  maxRetries: 10,
  retryDelayMs: 500,
  maxRetryDelayMs: 15_000,
  pollIntervalMs: 200,
  lostAnswerWaitMs: 10_000
}

/** Sets the per-attempt timeout of every request (reads and writes), in milliseconds. */
const requestTimeoutVariable = 'COSMOS_CMK_REQUEST_TIMEOUT_MS'
/**
 * Sets the first pause between polls for when a service sends no Retry-After (or Retry-After: 0),
 * in milliseconds; the action's own waits then pause no longer than that at first either.
 */
const pollIntervalVariable = 'COSMOS_CMK_POLL_INTERVAL_MS'
/** Sets how long a write whose answer was lost is watched for before it is repeated, in milliseconds. */
const lostAnswerWaitVariable = 'COSMOS_CMK_LOST_ANSWER_WAIT_MS'

/** Transport overrides from the environment; ignores an absent or invalid value. */
export function transportFromEnv(
  env: Record<string, string | undefined>
): Partial<TransportSettings> {
  const timeout = positiveMs(env[requestTimeoutVariable])
  const poll = positiveMs(env[pollIntervalVariable])
  const lostAnswerWait = positiveMs(env[lostAnswerWaitVariable])
  return {
    ...(timeout ? { readTimeoutMs: timeout, writeTimeoutMs: timeout } : {}),
    ...(poll ? { pollIntervalMs: poll } : {}),
    ...(lostAnswerWait ? { lostAnswerWaitMs: lostAnswerWait } : {})
  }
}

function positiveMs(text: string | undefined): number | undefined {
  const value = text?.trim()
  if (!value || !/^\d+$/.test(value) || Number(value) <= 0) return undefined
  return Number(value)
}

/** The pause before the next poll of an operation that asks for none, from the time waited so far. */
export type PollPace = (waitedMs: number) => number

/**
 * Polls the way the action's own waits do (see nextDelay): a share of the time waited, from the
 * transport's first pause up to the waits' longest, so that a poll sees the end of an operation
 * late by a small fraction of its length, and a long operation is polled gently.
 */
export function pollPace(settings: Pick<TransportSettings, 'pollIntervalMs'>): PollPace {
  const limits = {
    minDelayMs: settings.pollIntervalMs,
    maxDelayMs: Math.max(waitDefaults.maxDelayMs, settings.pollIntervalMs)
  }
  return waitedMs => nextDelay(waitedMs, limits, Math.random)
}
