import type { EmuResponse, ServiceContext } from '../../core/service.js'
import type { HsmDataPlane, HsmKey, KeyVersion, ManagedHsm } from '../../core/world.js'
import { accessDenied, badParameter, keyNotFound, kvError } from './kv-errors.js'
import { DataActions, principalMayPerform } from './rbac.js'
import {
  RSA_KEY_SIZES,
  generateRsa,
  isWrapAlgorithm,
  rsaUnwrap,
  rsaWrap,
  type RsaMaterial
} from './key-material.js'
import { hsmHost } from '../resources/ids.js'

export const KEY_NAME_PATTERN = /^[0-9a-zA-Z-]{1,127}$/
const RSA_OPS = ['encrypt', 'decrypt', 'sign', 'verify', 'wrapKey', 'unwrapKey']
/** What Managed HSM grants an RSA key created without `key_ops`. */
export const DEFAULT_RSA_OPS = ['wrapKey', 'decrypt', 'encrypt', 'unwrapKey', 'sign', 'verify']

export interface HsmRequest {
  ctx: ServiceContext
  hsm: ManagedHsm
  plane: HsmDataPlane
  callerId: string
}

/** Checks one data action for the caller; a 403 response when it is not granted. */
export function authorize(
  r: HsmRequest,
  dataAction: string,
  scope: string
): EmuResponse | undefined {
  if (principalMayPerform(r.ctx.world, r.hsm.name, r.callerId, dataAction, scope, r.ctx.now())) {
    return undefined
  }
  return accessDenied(dataAction, scope, r.ctx.newGuid())
}

export function recoveryLevel(hsm: ManagedHsm): string {
  const custom = hsm.softDeleteRetentionInDays < 90 ? 'CustomizedRecoverable' : 'Recoverable'
  return hsm.enablePurgeProtection ? custom : `${custom}+Purgeable`
}

function kid(hsm: ManagedHsm, key: HsmKey, version?: KeyVersion): string {
  const base = `https://${hsmHost(hsm.name)}/keys/${key.name}`
  return version ? `${base}/${version.version}` : base
}

function attributes(hsm: ManagedHsm, v: KeyVersion): Record<string, unknown> {
  return {
    enabled: v.enabled,
    ...(v.nbf !== undefined ? { nbf: v.nbf } : {}),
    ...(v.exp !== undefined ? { exp: v.exp } : {}),
    created: v.created,
    updated: v.updated,
    recoveryLevel: recoveryLevel(hsm),
    recoverableDays: hsm.softDeleteRetentionInDays,
    exportable: false
  }
}

export function keyBundle(hsm: ManagedHsm, key: HsmKey, v: KeyVersion): Record<string, unknown> {
  return {
    key: { kid: kid(hsm, key, v), kty: v.kty, key_ops: v.keyOps, n: v.n, e: v.e },
    attributes: attributes(hsm, v),
    ...(Object.keys(v.tags).length > 0 ? { tags: v.tags } : {})
  }
}

function keyItem(hsm: ManagedHsm, key: HsmKey, v: KeyVersion, withVersion: boolean): unknown {
  return {
    kid: kid(hsm, key, withVersion ? v : undefined),
    attributes: attributes(hsm, v),
    ...(Object.keys(v.tags).length > 0 ? { tags: v.tags } : {})
  }
}

export function findKey(plane: HsmDataPlane, name: string): HsmKey | undefined {
  return plane.keys[name.toLowerCase()]
}

function latest(key: HsmKey): KeyVersion {
  return key.versions[key.versions.length - 1]!
}

function findVersion(key: HsmKey, version: string | undefined): KeyVersion | undefined {
  if (!version) return latest(key)
  return key.versions.find(v => v.version === version.toLowerCase())
}

export function parseBody(ctx: ServiceContext): Record<string, unknown> | EmuResponse {
  try {
    const value: unknown = JSON.parse(ctx.req.body.toString('utf8') || '{}')
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      return value as Record<string, unknown>
    }
  } catch {
    // answered below
  }
  return badParameter('The request body is not a valid JSON object.')
}

export function isResponse(v: unknown): v is EmuResponse {
  return typeof v === 'object' && v !== null && 'status' in v && typeof v.status === 'number'
}

export interface CreateOptions {
  kty: 'RSA-HSM'
  size: number
  ops: string[]
  enabled: boolean
  nbf?: number
  exp?: number
  tags: Record<string, string>
}

function createOptions(body: Record<string, unknown>): CreateOptions | EmuResponse {
  const kty = body.kty
  if (kty !== 'RSA' && kty !== 'RSA-HSM') {
    if (typeof kty !== 'string') return badParameter('The property "kty" is required.')
    return badParameter(
      `Key type '${kty}' is not supported by the local Azure; only RSA and RSA-HSM keys are emulated.`
    )
  }
  const size = body.key_size ?? 2048
  if (typeof size !== 'number' || !RSA_KEY_SIZES.includes(size)) {
    return badParameter(
      `Invalid key size ${String(size)}. RSA keys support 2048, 3072 and 4096 bits.`
    )
  }
  if (body.public_exponent !== undefined && body.public_exponent !== 65537) {
    return badParameter('Only the public exponent 65537 is supported.')
  }
  let ops = DEFAULT_RSA_OPS
  if (body.key_ops !== undefined) {
    if (!Array.isArray(body.key_ops))
      return badParameter('The property "key_ops" must be an array.')
    const bad = body.key_ops.find(op => typeof op !== 'string' || !RSA_OPS.includes(op))
    if (bad !== undefined)
      return badParameter(`Invalid key operation '${String(bad)}' for an RSA key.`)
    ops = [...new Set(body.key_ops as string[])]
  }
  const attrs = (body.attributes ?? {}) as Record<string, unknown>
  if (typeof attrs !== 'object' || attrs === null) {
    return badParameter('The property "attributes" must be an object.')
  }
  if (attrs.exportable === true) {
    return badParameter(
      'An exportable key requires a release policy; the local Azure does not emulate key release.'
    )
  }
  for (const field of ['nbf', 'exp'] as const) {
    if (attrs[field] !== undefined && attrs[field] !== null && !Number.isInteger(attrs[field])) {
      return badParameter(`The attribute "${field}" must be a Unix time in seconds.`)
    }
  }
  const tags = (body.tags ?? {}) as Record<string, unknown>
  if (
    typeof tags !== 'object' ||
    tags === null ||
    Object.values(tags).some(t => typeof t !== 'string')
  ) {
    return badParameter('Tags must be an object of string values.')
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

/** Stores a new version of a key (creating the key if needed) from generated material. */
export function addKeyVersion(
  plane: HsmDataPlane,
  name: string,
  options: CreateOptions,
  rsa: RsaMaterial,
  version: string,
  nowSeconds: number
): { key: HsmKey; version: KeyVersion } {
  const key = findKey(plane, name) ?? { name, versions: [] }
  const v: KeyVersion = {
    version,
    kty: options.kty,
    keySize: options.size,
    keyOps: options.ops,
    enabled: options.enabled,
    ...(options.nbf !== undefined ? { nbf: options.nbf } : {}),
    ...(options.exp !== undefined ? { exp: options.exp } : {}),
    created: nowSeconds,
    updated: nowSeconds,
    tags: options.tags,
    privateKeyPem: rsa.privateKeyPem,
    n: rsa.n,
    e: rsa.e
  }
  key.versions.push(v)
  plane.keys[name.toLowerCase()] = key
  return { key, version: v }
}

export function newKeyVersionId(ctx: ServiceContext): string {
  return ctx.newGuid().replace(/-/g, '')
}

export async function createKey(r: HsmRequest, name: string): Promise<EmuResponse> {
  if (!KEY_NAME_PATTERN.test(name)) {
    return badParameter(`The request URI contains an invalid name: ${name}`)
  }
  const denied = authorize(r, DataActions.keysCreate, `/keys/${name}`)
  if (denied) return denied
  const body = parseBody(r.ctx)
  if (isResponse(body)) return body
  const options = createOptions(body)
  if (isResponse(options)) return options
  const rsa = await generateRsa(options.size)
  const existing = findKey(r.plane, name)
  const { key, version } = addKeyVersion(
    r.plane,
    existing?.name ?? name,
    options,
    rsa,
    newKeyVersionId(r.ctx),
    Math.floor(r.ctx.now() / 1000)
  )
  return { status: 200, body: keyBundle(r.hsm, key, version) }
}

export function getKey(r: HsmRequest, name: string, version?: string): EmuResponse {
  const denied = authorize(r, DataActions.keysRead, `/keys/${name}`)
  if (denied) return denied
  const key = findKey(r.plane, name)
  const v = key && findVersion(key, version)
  if (!key || !v) return keyNotFound(version ? `${name}/${version}` : name)
  return { status: 200, body: keyBundle(r.hsm, key, v) }
}

export function listKeys(r: HsmRequest): EmuResponse {
  const denied = authorize(r, DataActions.keysRead, '/keys')
  if (denied) return denied
  const value = Object.values(r.plane.keys).map(k => keyItem(r.hsm, k, latest(k), false))
  return { status: 200, body: { value } }
}

export function listKeyVersions(r: HsmRequest, name: string): EmuResponse {
  const denied = authorize(r, DataActions.keysRead, `/keys/${name}`)
  if (denied) return denied
  const key = findKey(r.plane, name)
  if (!key) return keyNotFound(name)
  return { status: 200, body: { value: key.versions.map(v => keyItem(r.hsm, key, v, true)) } }
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

export function wrapOrUnwrap(
  r: HsmRequest,
  op: 'wrapKey' | 'unwrapKey',
  name: string,
  version?: string
): EmuResponse {
  const action = op === 'wrapKey' ? DataActions.keysWrap : DataActions.keysUnwrap
  const denied = authorize(r, action, `/keys/${name}`)
  if (denied) return denied
  const key = findKey(r.plane, name)
  const v = key && findVersion(key, version)
  if (!key || !v) return keyNotFound(version ? `${name}/${version}` : name)
  const body = parseBody(r.ctx)
  if (isResponse(body)) return body
  if (!isWrapAlgorithm(body.alg)) {
    return badParameter(
      `Invalid algorithm '${String(body.alg)}'. RSA keys wrap with RSA-OAEP, RSA-OAEP-256 or RSA1_5.`
    )
  }
  if (typeof body.value !== 'string' || !/^[A-Za-z0-9_-]*={0,2}$/.test(body.value)) {
    return badParameter('The property "value" must be a base64url string.')
  }
  const unusable = keyUnusable(v, op, Math.floor(r.ctx.now() / 1000))
  if (unusable) return kvError(403, 'Forbidden', unusable)
  const input = Buffer.from(body.value, 'base64url')
  let output: Buffer
  try {
    output =
      op === 'wrapKey'
        ? rsaWrap(v.privateKeyPem, body.alg, input)
        : rsaUnwrap(v.privateKeyPem, body.alg, input)
  } catch {
    return badParameter(
      op === 'wrapKey'
        ? `The value is too long to wrap with ${body.alg} and a ${v.keySize}-bit key.`
        : 'The value could not be unwrapped with this key and algorithm.'
    )
  }
  return { status: 200, body: { kid: kid(r.hsm, key, v), value: output.toString('base64url') } }
}
