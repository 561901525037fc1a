import type { GitHubRateBucket, GitHubState } from '../../core/world.js'
import { docs, githubError } from './errors.js'

/** What GitHub allows a client without a token. */
const ANONYMOUS_LIMIT = 60
const CONTENT_CREATING = ['POST', 'PATCH', 'PUT', 'DELETE']

export interface Spending {
  /** The bucket: `workflow`, `user:<login>` or `anonymous`. */
  bucket: string
  /** How GitHub names the spender in a primary-limit answer, e.g. `installation ID 4242`. */
  who: string
  method: string
  now: number
  /** False for requests GitHub does not count (`GET /rate_limit`). */
  counts: boolean
}

function bucketOf(state: GitHubState, key: string, now: number): GitHubRateBucket {
  const windowMs = state.rateLimit.windowSeconds * 1000
  const bucket = (state.rateBuckets[key] ??= { used: 0, resetAt: now + windowMs, writes: [] })
  if (bucket.resetAt <= now) {
    bucket.used = 0
    bucket.resetAt = now + windowMs
  }
  return bucket
}

function limitOf(state: GitHubState, key: string): number {
  return key === 'anonymous' ? ANONYMOUS_LIMIT : state.rateLimit.limit
}

/** The `x-ratelimit-*` headers GitHub puts on every answer. */
function rateHeaders(limit: number, bucket: GitHubRateBucket): Record<string, string> {
  return {
    'x-ratelimit-limit': String(limit),
    'x-ratelimit-remaining': String(Math.max(0, limit - bucket.used)),
    'x-ratelimit-used': String(bucket.used),
    'x-ratelimit-reset': String(Math.ceil(bucket.resetAt / 1000)),
    'x-ratelimit-resource': 'core'
  }
}

/**
 * Spends one request from the caller's bucket and returns the rate-limit headers of its answer.
 * Throws GitHub's answer when the window's requests are used up (primary limit: remaining 0 and
 * the reset time) or when the secondary limit holds the caller back (Retry-After): tripped by more
 * content-creating requests in a minute than allowed, or switched on for everyone by the admin API.
 */
export function spendRequest(state: GitHubState, s: Spending): Record<string, string> {
  const settings = state.rateLimit
  const limit = limitOf(state, s.bucket)
  const bucket = bucketOf(state, s.bucket, s.now)
  if (bucket.used >= limit) {
    throw githubError(
      settings.status,
      `API rate limit exceeded for ${s.who}.`,
      docs.rateLimits,
      {},
      rateHeaders(limit, bucket)
    )
  }
  if (s.counts) bucket.used++
  const headers = rateHeaders(limit, bucket)
  if (s.bucket === 'anonymous') return headers
  let heldUntil = Math.max(state.secondaryUntil ?? 0, bucket.secondaryUntil ?? 0)
  if (heldUntil <= s.now && CONTENT_CREATING.includes(s.method)) {
    bucket.writes = bucket.writes.filter(t => t > s.now - 60_000)
    if (bucket.writes.length >= settings.writesPerMinute) {
      // Retry-After is honest: a client that waits that long is let through.
      bucket.secondaryUntil = Math.max(
        s.now + Math.max(1, settings.secondaryRetryAfterSeconds) * 1000,
        (bucket.writes[0] ?? s.now) + 60_000
      )
      heldUntil = bucket.secondaryUntil
    } else {
      bucket.writes.push(s.now)
    }
  }
  if (heldUntil > s.now) {
    const retryAfter = Math.max(1, Math.ceil((heldUntil - s.now) / 1000))
    throw githubError(
      settings.status,
      'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
      docs.secondaryRateLimits,
      {},
      { ...headers, 'retry-after': String(retryAfter) }
    )
  }
  return headers
}

/** The primary limit of a bucket as `GET /rate_limit` and the admin API show it. */
export function rateLimitView(state: GitHubState, key: string, now: number) {
  const limit = limitOf(state, key)
  const bucket = bucketOf(state, key, now)
  return {
    limit,
    used: bucket.used,
    remaining: Math.max(0, limit - bucket.used),
    reset: Math.ceil(bucket.resetAt / 1000)
  }
}

/** Uses up (or gives back) the workflow token's requests in the current window. */
export function setRemaining(
  state: GitHubState,
  key: string,
  remaining: number,
  now: number
): void {
  const bucket = bucketOf(state, key, now)
  bucket.used = Math.max(0, limitOf(state, key) - remaining)
}
