import type { Delay, Timing, TimingNumberKey } from './service.js'
import type { RandomSource } from './random.js'

/** Timing when a scenario says nothing: instant operations, realistic token lifetimes. */
export const DEFAULT_TIMING: Timing = {
  rbacPropagation: 0,
  principalReplication: 0,
  providerRegistration: 0,
  hsmCreate: 0,
  hsmUpdate: 0,
  securityDomainDownload: 0,
  cosmosCreate: 0,
  cosmosUpdate: 0,
  cosmosDelete: 0,
  cosmosEncryption: 0,
  cosmosKeyVersionLag: 0,
  cosmosRevocation: 0,
  cosmosRevocationRecovery: 0,
  requestLatency: 0,
  retryAfterSeconds: 1,
  accessTokenLifetimeSeconds: 3600,
  idTokenLifetimeSeconds: 300,
  // Resource Manager's request limits are off unless a scenario sizes a bucket; the refill rates
  // are Azure's (model/arm-throttle.ts says where the figures come from).
  armWriteBucket: 0,
  armWriteRefillPerSecond: 10,
  armDeleteBucket: 0,
  armDeleteRefillPerSecond: 10
}

const NUMBER_KEYS: readonly TimingNumberKey[] = [
  'retryAfterSeconds',
  'accessTokenLifetimeSeconds',
  'idTokenLifetimeSeconds',
  'armWriteBucket',
  'armWriteRefillPerSecond',
  'armDeleteBucket',
  'armDeleteRefillPerSecond'
]
const BUCKET_KEYS: readonly string[] = ['armWriteBucket', 'armDeleteBucket']
const RATE_KEYS: readonly string[] = ['armWriteRefillPerSecond', 'armDeleteRefillPerSecond']

/** Checks a (partial) timing object, returning the problems found. */
export function timingProblems(value: unknown): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return ['timing must be a JSON object']
  }
  const problems: string[] = []
  for (const [key, v] of Object.entries(value)) {
    if (!(key in DEFAULT_TIMING)) {
      problems.push(`unknown timing field '${key}'`)
    } else if (BUCKET_KEYS.includes(key)) {
      if (!Number.isSafeInteger(v) || (v as number) < 0)
        problems.push(`${key} must be a whole number >= 0 (0: no limit)`)
    } else if (RATE_KEYS.includes(key)) {
      if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
        problems.push(`${key} must be a number > 0`)
    } else if ((NUMBER_KEYS as readonly string[]).includes(key)) {
      if (typeof v !== 'number' || !(v >= 0)) problems.push(`${key} must be a number >= 0`)
    } else if (!isDelay(v)) {
      problems.push(`${key} must be milliseconds (a number >= 0) or a [min, max] pair`)
    }
  }
  return problems
}

function isDelay(v: unknown): v is Delay {
  if (typeof v === 'number') return v >= 0
  return (
    Array.isArray(v) &&
    v.length === 2 &&
    v.every(n => typeof n === 'number' && n >= 0) &&
    (v[0] as number) <= (v[1] as number)
  )
}

export function mergeTiming(base: Timing, patch: Partial<Timing> | undefined): Timing {
  return { ...base, ...(patch ?? {}) }
}

export function sampleDelay(delay: Delay, random: RandomSource): number {
  if (typeof delay === 'number') return delay
  const [min, max] = delay
  return Math.round(min + random() * (max - min))
}
