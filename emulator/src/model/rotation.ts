import type { HsmDataPlane, HsmKey, KeyRotationPolicy } from '../core/world.js'
import { generateKeyMaterialSync, type KeyShape } from './key-material.js'
import { addKeyVersion, latestVersion, type KeySpec } from './keys.js'

/*
 * Managed HSM key rotation (learn.microsoft.com/azure/key-vault/managed-hsm/key-rotation, and the
 * KeyRotationPolicy model of keys.json 2026-04-01): Rotate actions only ("Managed HSM does not
 * support Event Grid Notifications"), expiryTime of at least 28 days, no automatic rotation more
 * often than every 28 days (timeAfterCreate >= P28D; timeBeforeExpiry <= expiryTime - 28 days), at
 * most two lifetime actions, at most 100 versions per key, and a policy before an on-demand rotate.
 */

const DAY_MS = 86_400_000
const MIN_INTERVAL_MS = 28 * DAY_MS
export const MAX_KEY_VERSIONS = 100

const DURATION =
  /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/i

interface Duration {
  years: number
  months: number
  days: number
  ms: number
}

export function parseDuration(text: unknown): Duration | undefined {
  if (typeof text !== 'string') return undefined
  const m = DURATION.exec(text)
  if (!m || text.length < 2 || /T$/i.test(text)) return undefined
  const [years, months, weeks, days, hours, minutes, seconds] = m.slice(1).map(v => Number(v ?? 0))
  return {
    years: years!,
    months: months!,
    days: weeks! * 7 + days!,
    ms: ((hours! * 60 + minutes!) * 60 + seconds!) * 1000
  }
}

/** `at` moved by the duration on the calendar (UTC), forwards or, with `sign` -1, backwards. */
export function addDuration(at: number, d: Duration, sign: 1 | -1 = 1): number {
  const date = new Date(at)
  date.setUTCFullYear(date.getUTCFullYear() + sign * d.years)
  date.setUTCMonth(date.getUTCMonth() + sign * d.months)
  return date.getTime() + sign * (d.days * DAY_MS + d.ms)
}

/** How long the duration lasts from `at`. */
function lengthFrom(at: number, d: Duration): number {
  return addDuration(at, d) - at
}

type PolicyInput = { lifetimeActions?: unknown; attributes?: unknown }

/**
 * Reads a rotation policy as `PUT /keys/{name}/rotationpolicy` takes it: the policy to store,
 * `undefined` for an empty policy (which removes it), or what Managed HSM would refuse.
 */
export function readRotationPolicy(
  body: PolicyInput,
  now: number
): { policy: Omit<KeyRotationPolicy, 'created' | 'updated'> | undefined } | { problem: string } {
  const actions = body.lifetimeActions ?? []
  if (!Array.isArray(actions))
    return { problem: "The property 'lifetimeActions' must be an array." }
  const attributes = (body.attributes ?? {}) as { expiryTime?: unknown }
  if (typeof attributes !== 'object' || attributes === null || Array.isArray(attributes)) {
    return { problem: "The property 'attributes' must be an object." }
  }
  if (actions.length > 2) {
    return { problem: 'A key rotation policy can have at most 2 lifetime actions.' }
  }
  let expiry: Duration | undefined
  if (attributes.expiryTime !== undefined && attributes.expiryTime !== null) {
    expiry = parseDuration(attributes.expiryTime)
    if (!expiry)
      return { problem: `'${String(attributes.expiryTime)}' is not an ISO 8601 duration.` }
    if (lengthFrom(now, expiry) < MIN_INTERVAL_MS) {
      return { problem: 'The expiryTime of a key rotation policy must be at least 28 days (P28D).' }
    }
  }
  const lifetimeActions: KeyRotationPolicy['lifetimeActions'] = []
  for (const raw of actions) {
    const read = readAction(raw, expiry, now)
    if ('problem' in read) return read
    lifetimeActions.push(read.action)
  }
  if (lifetimeActions.length > 1) {
    return { problem: 'A key rotation policy can have only one Rotate lifetime action.' }
  }
  if (lifetimeActions.length === 0 && !expiry) return { policy: undefined }
  return {
    policy: {
      lifetimeActions,
      ...(expiry ? { expiryTime: String(attributes.expiryTime).toUpperCase() } : {})
    }
  }
}

function readAction(
  raw: unknown,
  expiry: Duration | undefined,
  now: number
): { action: KeyRotationPolicy['lifetimeActions'][number] } | { problem: string } {
  const { trigger, action } = (raw ?? {}) as { trigger?: unknown; action?: unknown }
  const type = (action as { type?: unknown } | undefined)?.type
  if (typeof type !== 'string' || !['rotate', 'notify'].includes(type.toLowerCase())) {
    return { problem: `Invalid lifetime action type '${String(type)}'. Use 'Rotate'.` }
  }
  if (type.toLowerCase() === 'notify') {
    return {
      problem:
        "Managed HSM does not support the 'Notify' lifetime action (Event Grid notifications); only 'Rotate' is supported."
    }
  }
  const t = (trigger ?? {}) as { timeAfterCreate?: unknown; timeBeforeExpiry?: unknown }
  const afterCreate = t.timeAfterCreate ?? undefined
  const beforeExpiry = t.timeBeforeExpiry ?? undefined
  if ((afterCreate === undefined) === (beforeExpiry === undefined)) {
    return {
      problem:
        "A lifetime action's trigger must have exactly one of 'timeAfterCreate' and 'timeBeforeExpiry'."
    }
  }
  const text = (afterCreate ?? beforeExpiry) as unknown
  const d = parseDuration(text)
  if (!d) return { problem: `'${String(text)}' is not an ISO 8601 duration.` }
  const value = String(text).toUpperCase()
  if (afterCreate !== undefined) {
    if (lengthFrom(now, d) < MIN_INTERVAL_MS) {
      return {
        problem:
          'An automatic rotation cannot create key versions more often than every 28 days: timeAfterCreate must be at least P28D.'
      }
    }
    if (expiry && lengthFrom(now, d) >= lengthFrom(now, expiry)) {
      return {
        problem: `The key would expire before it is rotated: timeAfterCreate (${value}) must be shorter than expiryTime.`
      }
    }
    return { action: { timeAfterCreate: value } }
  }
  if (!expiry) {
    return {
      problem: 'timeBeforeExpiry needs the expiryTime of the policy (attributes.expiryTime).'
    }
  }
  if (lengthFrom(now, expiry) - lengthFrom(now, d) < MIN_INTERVAL_MS) {
    return {
      problem: `An automatic rotation cannot create key versions more often than every 28 days: timeBeforeExpiry (${value}) can be at most expiryTime minus 28 days.`
    }
  }
  return { action: { timeBeforeExpiry: value } }
}

/** When the policy rotates the key next, from its current version; undefined when it never does. */
export function nextRotation(key: HsmKey): number | undefined {
  const policy = key.rotationPolicy
  const current = latestVersion(key)
  const due = policy?.lifetimeActions
    .map(a => {
      if (a.timeAfterCreate)
        return addDuration(current.created * 1000, parseDuration(a.timeAfterCreate)!)
      if (a.timeBeforeExpiry && current.exp !== undefined) {
        return addDuration(current.exp * 1000, parseDuration(a.timeBeforeExpiry)!, -1)
      }
      return undefined
    })
    .filter((t): t is number => t !== undefined)
  return due && due.length > 0 ? Math.min(...due) : undefined
}

/**
 * What the next version of the key is, made at `at` (ms): like the current one (type, size or
 * curve, operations, tags), enabled, and expiring after the policy's expiryTime.
 */
export function rotatedSpec(key: HsmKey, at: number): KeySpec {
  const current = latestVersion(key)
  const shape: KeyShape =
    current.kty === 'EC-HSM'
      ? { kty: 'EC-HSM', curve: current.crv! }
      : { kty: 'RSA-HSM', size: current.keySize }
  const expiry = key.rotationPolicy?.expiryTime
  const exp = expiry ? Math.floor(addDuration(at, parseDuration(expiry)!) / 1000) : undefined
  return {
    ...shape,
    ops: [...current.keyOps],
    enabled: true,
    ...(exp !== undefined ? { exp } : {}),
    tags: { ...current.tags }
  }
}

/**
 * Rotates every key whose policy is due, as the HSM does on its own: each new version is created
 * at the time it was due (so a clock jumped forward catches up version by version), with real key
 * material. `newVersion` names the versions.
 */
export function rotateDueKeys(plane: HsmDataPlane, now: number, newVersion: () => string): void {
  for (const key of Object.values(plane.keys)) {
    for (let due = nextRotation(key); due !== undefined && due <= now; due = nextRotation(key)) {
      if (key.versions.length >= MAX_KEY_VERSIONS) break
      const before = latestVersion(key)
      const spec = rotatedSpec(key, due)
      addKeyVersion(
        plane,
        key.name,
        spec,
        generateKeyMaterialSync(spec),
        newVersion(),
        Math.floor(due / 1000)
      )
      // a policy whose next due time does not move on would rotate forever
      if (nextRotation(key) === due || latestVersion(key) === before) break
    }
  }
}
