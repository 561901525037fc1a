/**
 * The latency model: the ONE place where the benchmark's timings are set. Both the action and the
 * CLI procedure run against the local Azure with these values, and the critical path is computed
 * from them. Milliseconds unless the name says otherwise.
 */
import type { Timing } from '../testkit/index.js'

export const LATENCY_MODEL = {
  /** Added to every response (a network round trip). */
  requestLatency: 50,
  /** A Managed HSM creation (20-30 min on Azure). */
  hsmCreate: 5000,
  /** A Managed HSM update (e.g. turning purge protection on). */
  hsmUpdate: 2000,
  /** Security-domain download until the HSM reports Active. */
  securityDomainDownload: 2000,
  /** A Cosmos DB account creation. */
  cosmosCreate: 4000,
  /** A Cosmos DB account update (identity, default identity). */
  cosmosUpdate: 2000,
  /** Resource provider registration (NotRegistered → Registered). */
  providerRegistration: 1000,
  /** Until a new HSM local RBAC assignment is enforced. */
  rbacPropagation: 3000,
  /** Until a new principal (system-assigned identity) can be granted a role. */
  principalReplication: 2000,
  /** The poll interval the services ask for (Retry-After, whole seconds). */
  retryAfterSeconds: 1,
  /**
   * Resource Manager's write budget per subscription and principal (PUT, PATCH, POST): a token
   * bucket of this many requests, refilled at `armWriteRefillPerSecond`; a write that finds it
   * empty is answered 429 with Retry-After. Azure's documented figures: 200 and 10 a second.
   */
  armWriteBucket: 200,
  armWriteRefillPerSecond: 10,
  /** The same for deletes (Azure: 200, 10 a second). */
  armDeleteBucket: 200,
  armDeleteRefillPerSecond: 10
} as const satisfies Partial<Timing>

export type LatencyModel = typeof LATENCY_MODEL

/** The model's fields that are not delays: a count, a rate or whole seconds. */
export type LatencyModelSetting =
  | 'requestLatency'
  | 'retryAfterSeconds'
  | 'armWriteBucket'
  | 'armWriteRefillPerSecond'
  | 'armDeleteBucket'
  | 'armDeleteRefillPerSecond'

/** One field of the model with its unit, as the bench prints it. */
export function modelSetting(key: keyof LatencyModel, value: number): string {
  if (key === 'retryAfterSeconds') return `${key} ${value} s`
  if (key === 'armWriteBucket' || key === 'armDeleteBucket') return `${key} ${value} requests`
  if (key === 'armWriteRefillPerSecond' || key === 'armDeleteRefillPerSecond')
    return `${key} ${value}/s`
  return `${key} ${value} ms`
}

/** How many times each action scenario runs (the table shows the median). */
export const ACTION_RUNS = 3

/**
 * How many times each 50-account scenario runs (a fleet of 50 takes about half a minute, the
 * matrix starts 51 processes): fewer, to keep `npm run bench` within about ten minutes.
 */
export const LARGE_FLEET_RUNS = 2
