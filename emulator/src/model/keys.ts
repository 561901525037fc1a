import type { HsmDataPlane, HsmKey, KeyVersion, ManagedHsm } from '../core/world.js'
import { EC_CURVES, RSA_KEY_SIZES, type KeyMaterial, type KeyShape } from './key-material.js'

/** Managed HSM key names, in the data plane and through ARM. */
export const KEY_NAME_PATTERN = /^[0-9a-zA-Z-]{1,127}$/
export const RSA_OPS = ['encrypt', 'decrypt', 'sign', 'verify', 'wrapKey', 'unwrapKey']
/** What Managed HSM grants an RSA key created without `key_ops`. */
export const DEFAULT_RSA_OPS = ['wrapKey', 'decrypt', 'encrypt', 'unwrapKey', 'sign', 'verify']
/** EC keys sign and verify, nothing else. */
export const EC_OPS = ['sign', 'verify']

/** The operations a key of this type may allow, and those it gets when none are asked for. */
export function keyOperations(kty: KeyShape['kty']): { allowed: string[]; defaults: string[] } {
  return kty === 'EC-HSM'
    ? { allowed: EC_OPS, defaults: EC_OPS }
    : { allowed: RSA_OPS, defaults: DEFAULT_RSA_OPS }
}

/** What a new key version is made of, whichever API (or the scenario) asked for it. */
export type KeySpec = KeyShape & {
  ops: string[]
  enabled: boolean
  nbf?: number
  exp?: number
  tags: Record<string, string>
}

export function findKey(plane: HsmDataPlane, name: string): HsmKey | undefined {
  return plane.keys[name.toLowerCase()]
}

export function latestVersion(key: HsmKey): KeyVersion {
  return key.versions[key.versions.length - 1]!
}

/** The named version, or the current one when no version is given. */
export function findVersion(key: HsmKey, version: string | undefined): KeyVersion | undefined {
  if (!version) return latestVersion(key)
  return key.versions.find(v => v.version === version.toLowerCase())
}

/** Stores a new version of a key (creating the key if needed) from generated material. */
export function addKeyVersion(
  plane: HsmDataPlane,
  name: string,
  spec: KeySpec,
  material: KeyMaterial,
  version: string,
  nowSeconds: number
): { key: HsmKey; version: KeyVersion } {
  const key = findKey(plane, name) ?? { name, versions: [] }
  const v: KeyVersion = {
    version,
    kty: spec.kty,
    ...(spec.kty === 'EC-HSM'
      ? { keySize: EC_CURVES[spec.curve].bits, crv: spec.curve }
      : { keySize: spec.size }),
    keyOps: spec.ops,
    enabled: spec.enabled,
    ...(spec.nbf !== undefined ? { nbf: spec.nbf } : {}),
    ...(spec.exp !== undefined ? { exp: spec.exp } : {}),
    created: nowSeconds,
    updated: nowSeconds,
    tags: spec.tags,
    ...material
  }
  key.versions.push(v)
  plane.keys[name.toLowerCase()] = key
  return { key, version: v }
}

/** Why a key version cannot be used for `op` right now, if it cannot. */
export function keyUnusable(
  v: KeyVersion,
  op: 'wrapKey' | 'unwrapKey',
  nowSeconds: number
): string | undefined {
  if (!v.enabled) return `Operation "${op}" is not allowed on a disabled key.`
  if (v.exp !== undefined && v.exp <= nowSeconds)
    return `Operation "${op}" is not allowed on an expired key.`
  if (v.nbf !== undefined && v.nbf > nowSeconds)
    return `Operation "${op}" is not allowed on a key that is not yet valid.`
  if (!v.keyOps.includes(op)) return `Operation "${op}" is not permitted for this key.`
  return undefined
}

/** The deletion recovery level Managed HSM reports for the keys of this HSM. */
export function recoveryLevel(hsm: ManagedHsm): string {
  const custom = hsm.softDeleteRetentionInDays < 90 ? 'CustomizedRecoverable' : 'Recoverable'
  return hsm.enablePurgeProtection ? custom : `${custom}+Purgeable`
}

/**
 * A version's attributes as Managed HSM reports them, on the data plane (with `recoverableDays`)
 * and through ARM (without). Times are seconds since the epoch.
 */
export function keyAttributes(
  hsm: ManagedHsm,
  v: KeyVersion,
  withRecoverableDays: boolean
): Record<string, unknown> {
  return {
    enabled: v.enabled,
    ...(v.nbf !== undefined ? { nbf: v.nbf } : {}),
    ...(v.exp !== undefined ? { exp: v.exp } : {}),
    created: v.created,
    updated: v.updated,
    recoveryLevel: recoveryLevel(hsm),
    ...(withRecoverableDays ? { recoverableDays: hsm.softDeleteRetentionInDays } : {}),
    exportable: false
  }
}

/** A request for a new RSA key, whichever API it came through (`fields` names its properties). */
export interface RsaKeyRequest {
  size: unknown
  ops: unknown
  attributes: unknown
  tags: unknown
  fields: { size: string; ops: string }
}

/**
 * What a new RSA key would be (2048 bits and the default operations unless asked otherwise), or
 * what is wrong with the request. Creation makes RSA keys only: the local Azure does not emulate
 * key release, so an exportable key is refused.
 */
export function rsaKeySpec(r: RsaKeyRequest): KeySpec | { problem: string } {
  const size = r.size ?? 2048
  if (typeof size !== 'number' || !RSA_KEY_SIZES.includes(size)) {
    return {
      problem: `Invalid key size ${String(size)}. RSA keys support 2048, 3072 and 4096 bits.`
    }
  }
  let ops = DEFAULT_RSA_OPS
  if (r.ops !== undefined) {
    if (!Array.isArray(r.ops))
      return { problem: `The property "${r.fields.ops}" must be an array.` }
    const bad = r.ops.find(op => typeof op !== 'string' || !RSA_OPS.includes(op))
    if (bad !== undefined)
      return { problem: `Invalid key operation '${String(bad)}' for an RSA key.` }
    ops = [...new Set(r.ops as string[])]
  }
  const attrs = (r.attributes ?? {}) as Record<string, unknown>
  if (typeof attrs !== 'object' || attrs === null || Array.isArray(attrs)) {
    return { problem: 'The property "attributes" must be an object.' }
  }
  if (attrs.exportable === true) {
    return {
      problem:
        'An exportable key requires a release policy; the local Azure does not emulate key release.'
    }
  }
  for (const field of ['nbf', 'exp'] as const) {
    if (attrs[field] !== undefined && attrs[field] !== null && !Number.isInteger(attrs[field])) {
      return { problem: `The attribute "${field}" must be a Unix time in seconds.` }
    }
  }
  const tags = (r.tags ?? {}) as Record<string, unknown>
  if (
    typeof tags !== 'object' ||
    tags === null ||
    Object.values(tags).some(t => typeof t !== 'string')
  ) {
    return { problem: 'Tags must be an object of string values.' }
  }
  return {
    kty: 'RSA-HSM',
    size,
    ops,
    enabled: attrs.enabled !== false,
    ...(typeof attrs.nbf === 'number' ? { nbf: attrs.nbf } : {}),
    ...(typeof attrs.exp === 'number' ? { exp: attrs.exp } : {}),
    tags: tags as Record<string, string>
  }
}

/** What an update of a key version asks to change, whichever API it came through. */
export interface KeyUpdate {
  ops: unknown
  attributes: unknown
  tags: unknown
  fields: { ops: string }
}

/**
 * Applies an update (UpdateKey: operations, `enabled`, `nbf`, `exp` (null clears it), tags) to a
 * version once all of it is valid; answers what is wrong otherwise and changes nothing.
 */
export function updateKeyVersion(
  v: KeyVersion,
  u: KeyUpdate,
  nowSeconds: number
): string | undefined {
  const attrs = (u.attributes ?? {}) as Record<string, unknown>
  if (typeof attrs !== 'object' || attrs === null || Array.isArray(attrs)) {
    return 'The property "attributes" must be an object.'
  }
  if (attrs.enabled !== undefined && typeof attrs.enabled !== 'boolean') {
    return 'The attribute "enabled" must be a boolean.'
  }
  for (const field of ['nbf', 'exp'] as const) {
    if (attrs[field] !== undefined && attrs[field] !== null && !Number.isInteger(attrs[field])) {
      return `The attribute "${field}" must be a Unix time in seconds.`
    }
  }
  if (attrs.exportable !== undefined && attrs.exportable !== false) {
    return 'The attribute "exportable" cannot be changed on an existing key.'
  }
  let ops: string[] | undefined
  if (u.ops !== undefined) {
    const allowed = keyOperations(v.kty).allowed
    if (!Array.isArray(u.ops)) return `The property "${u.fields.ops}" must be an array.`
    const bad = u.ops.find(op => typeof op !== 'string' || !allowed.includes(op))
    if (bad !== undefined) return `Invalid key operation '${String(bad)}' for a ${v.kty} key.`
    ops = [...new Set(u.ops as string[])]
  }
  const tags = u.tags as Record<string, unknown> | undefined
  if (
    tags !== undefined &&
    (typeof tags !== 'object' ||
      tags === null ||
      Object.values(tags).some(t => typeof t !== 'string'))
  ) {
    return 'Tags must be an object of string values.'
  }
  if (typeof attrs.enabled === 'boolean') v.enabled = attrs.enabled
  for (const field of ['nbf', 'exp'] as const) {
    if (attrs[field] === null) delete v[field]
    else if (typeof attrs[field] === 'number') v[field] = attrs[field]
  }
  if (ops) v.keyOps = ops
  if (tags) v.tags = tags as Record<string, string>
  v.updated = nowSeconds
  return undefined
}
