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
  retryAfterSeconds: 1
} as const satisfies Partial<Timing>

export type LatencyModel = typeof LATENCY_MODEL

/** How many times each action scenario runs (the table shows the median). */
export const ACTION_RUNS = 3
