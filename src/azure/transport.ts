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
  /** Poll interval of long-running operations when the service sends no Retry-After. */
  pollIntervalMs: number
}

export const defaultTransport: TransportSettings = {
  readTimeoutMs: 20_000,
  writeTimeoutMs: 60_000,
  maxRetries: 10,
  retryDelayMs: 500,
  maxRetryDelayMs: 15_000,
  pollIntervalMs: 1_000
}

/** Sets the per-attempt timeout of every request (reads and writes), in milliseconds. */
const requestTimeoutVariable = 'COSMOS_CMK_REQUEST_TIMEOUT_MS'
/**
 * Sets the poll interval for when a service sends no Retry-After (or Retry-After: 0), in
 * milliseconds; the action's own waits then pause no longer than that between polls either.
 */
const pollIntervalVariable = 'COSMOS_CMK_POLL_INTERVAL_MS'

/** Transport overrides from the environment; ignores an absent or invalid value. */
export function transportFromEnv(
  env: Record<string, string | undefined>
): Partial<TransportSettings> {
  const timeout = positiveMs(env[requestTimeoutVariable])
  const poll = positiveMs(env[pollIntervalVariable])
  return {
    ...(timeout ? { readTimeoutMs: timeout, writeTimeoutMs: timeout } : {}),
    ...(poll ? { pollIntervalMs: poll } : {})
  }
}

function positiveMs(text: string | undefined): number | undefined {
  const value = text?.trim()
  if (!value || !/^\d+$/.test(value) || Number(value) <= 0) return undefined
  return Number(value)
}
