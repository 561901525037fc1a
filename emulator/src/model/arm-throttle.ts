import type { Timing } from '../core/service.js'
import type { ArmRequestBucket, World } from '../core/world.js'

/**
 * Azure Resource Manager's request limits, as "Understand how Azure Resource Manager throttles
 * requests" describes them
 * (https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling):
 * since 2024 each subscription has token buckets per region, per service principal and per
 * operation type. A request takes one token; an empty bucket answers 429 with `Retry-After`
 * (seconds) and fills up again at a fixed rate, never beyond its size. Azure's figures: writes
 * 200 tokens refilling 10 a second, deletes 200 refilling 10 a second, reads 250 refilling 25 a
 * second. Write answers carry `x-ms-ratelimit-remaining-subscription-writes`, delete answers
 * `x-ms-ratelimit-remaining-subscription-deletes`.
 *
 * The local Azure limits writes (PUT, PATCH, POST) and deletes of the requests under
 * `/subscriptions/{id}`, per subscription and principal, when the timing sizes their bucket
 * (`armWriteBucket`, `armDeleteBucket`; 0 means no limit, the default). It has one region, no
 * global (all principals) limit and no read limit: reads, long-running-operation polls among them,
 * are never throttled. The buckets run on the emulator's clock and live in the world, so a reset
 * fills them again.
 */

export type ArmOperationType = 'writes' | 'deletes'

/** What a request costs: the bucket it draws from and what its answer reports. */
export interface ArmCharge {
  type: ArmOperationType
  subscriptionId: string
  /** `x-ms-ratelimit-remaining-subscription-writes` (or `-deletes`). */
  header: string
}

export type ArmSpend =
  | { allowed: true; remaining: number }
  | { allowed: false; remaining: number; retryAfterSeconds: number }

const SUBSCRIPTION_PATH = /^\/subscriptions\/([^/]+)/i

/** The limit a request counts against, or undefined for reads and requests outside a subscription. */
export function armChargeOf(method: string, path: string): ArmCharge | undefined {
  const type: ArmOperationType | undefined =
    method === 'DELETE'
      ? 'deletes'
      : method === 'PUT' || method === 'PATCH' || method === 'POST'
        ? 'writes'
        : undefined
  const subscriptionId = SUBSCRIPTION_PATH.exec(path)?.[1]?.toLowerCase()
  if (!type || !subscriptionId) return undefined
  return { type, subscriptionId, header: `x-ms-ratelimit-remaining-subscription-${type}` }
}

interface BucketLimits {
  /** Tokens a full bucket holds; 0 sets no limit. */
  size: number
  refillPerSecond: number
}

function limitsOf(timing: Timing, type: ArmOperationType): BucketLimits {
  return type === 'writes'
    ? { size: timing.armWriteBucket, refillPerSecond: timing.armWriteRefillPerSecond }
    : { size: timing.armDeleteBucket, refillPerSecond: timing.armDeleteRefillPerSecond }
}

/** Fractional tokens are kept to a millionth, so that refills add up exactly. */
const round = (tokens: number) => Math.round(tokens * 1e6) / 1e6

/**
 * Takes one token from the bucket at `now`, after refilling it for the time since it was last
 * touched. Below one token the request is refused, with the whole seconds until a token is back
 * (at least 1; Azure sends whole seconds): a caller who waits that long, and meets no one else,
 * gets through.
 */
export function takeToken(bucket: ArmRequestBucket, limits: BucketLimits, now: number): ArmSpend {
  const elapsedMs = Math.max(0, now - bucket.at)
  bucket.tokens = Math.min(
    limits.size,
    round(bucket.tokens + (elapsedMs * limits.refillPerSecond) / 1000)
  )
  bucket.at = Math.max(bucket.at, now)
  if (bucket.tokens >= 1) {
    bucket.tokens = round(bucket.tokens - 1)
    return { allowed: true, remaining: Math.floor(bucket.tokens) }
  }
  const retryAfterSeconds = Math.max(
    1,
    Math.ceil(round((1 - bucket.tokens) / limits.refillPerSecond))
  )
  return { allowed: false, remaining: 0, retryAfterSeconds }
}

/**
 * Spends one request of `principal` in the world's bucket for the charge; undefined when the timing
 * sets no limit for its operation type (nothing is recorded then).
 */
export function spendArmRequest(
  world: World,
  timing: Timing,
  charge: ArmCharge,
  principal: string,
  now: number
): ArmSpend | undefined {
  const limits = limitsOf(timing, charge.type)
  if (limits.size <= 0) return undefined
  const buckets = (world.armRequestBuckets ??= {})
  const bucket = (buckets[bucketKey(charge, principal)] ??= { tokens: limits.size, at: now })
  return takeToken(bucket, limits, now)
}

/**
 * Empties the bucket at `now`, as other requests of the same caller would; false (and nothing
 * done) when the timing sets no limit for the charge's operation type.
 */
export function drainArmBudget(
  world: World,
  timing: Timing,
  charge: ArmCharge,
  principal: string,
  now: number
): boolean {
  if (limitsOf(timing, charge.type).size <= 0) return false
  ;(world.armRequestBuckets ??= {})[bucketKey(charge, principal)] = { tokens: 0, at: now }
  return true
}

function bucketKey(charge: ArmCharge, principal: string): string {
  return `${charge.subscriptionId}/${principal.toLowerCase()}/${charge.type}`
}
