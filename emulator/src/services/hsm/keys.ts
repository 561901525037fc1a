import type { EmuResponse } from '../../core/service.js'
import type { HsmKey, KeyVersion, ManagedHsm } from '../../core/world.js'
import { hsmHost } from '../../model/ids.js'
import {
  generateKeyMaterial,
  isWrapAlgorithm,
  rsaUnwrap,
  rsaWrap
} from '../../model/key-material.js'
import {
  KEY_NAME_PATTERN,
  addKeyVersion,
  findKey,
  findVersion,
  rsaKeySpec,
  keyUnusable,
  latestVersion,
  keyAttributes,
  updateKeyVersion,
  type KeySpec
} from '../../model/keys.js'
import { DataActions } from '../../model/rbac.js'
import { MAX_KEY_VERSIONS, readRotationPolicy, rotatedSpec } from '../../model/rotation.js'
import { authorize, jsonBody, type HsmRequest } from './context.js'
import { badParameter, keyNotFound, kvError } from './errors.js'

function kid(hsm: ManagedHsm, key: HsmKey, version?: KeyVersion): string {
  const base = `https://${hsmHost(hsm.name)}/keys/${key.name}`
  return version ? `${base}/${version.version}` : base
}

function keyBundle(hsm: ManagedHsm, key: HsmKey, v: KeyVersion): Record<string, unknown> {
  return {
    key: { kid: kid(hsm, key, v), kty: v.kty, key_ops: v.keyOps, ...publicJwk(v) },
    attributes: keyAttributes(hsm, v, true),
    ...(Object.keys(v.tags).length > 0 ? { tags: v.tags } : {})
  }
}

/** The public half of the key, as JWK fields. */
function publicJwk(v: KeyVersion): Record<string, unknown> {
  return v.kty === 'EC-HSM' ? { crv: v.crv, x: v.x, y: v.y } : { n: v.n, e: v.e }
}

function keyItem(hsm: ManagedHsm, key: HsmKey, v: KeyVersion, withVersion: boolean): unknown {
  return {
    kid: kid(hsm, key, withVersion ? v : undefined),
    attributes: keyAttributes(hsm, v, true),
    ...(Object.keys(v.tags).length > 0 ? { tags: v.tags } : {})
  }
}

function keySpec(body: Record<string, unknown>): KeySpec {
  const kty = body.kty
  if (kty !== 'RSA' && kty !== 'RSA-HSM') {
    if (typeof kty !== 'string') throw badParameter('The property "kty" is required.')
    throw badParameter(
      `Key type '${kty}' is not supported by the local Azure; only RSA and RSA-HSM keys are emulated.`
    )
  }
  if (body.public_exponent !== undefined && body.public_exponent !== 65537) {
    throw badParameter('Only the public exponent 65537 is supported.')
  }
  const spec = rsaKeySpec({
    size: body.key_size,
    ops: body.key_ops,
    attributes: body.attributes,
    tags: body.tags,
    fields: { size: 'key_size', ops: 'key_ops' }
  })
  if ('problem' in spec) throw badParameter(spec.problem)
  return spec
}

/** CreateKey: a new key, or a new version of an existing one. */
export async function createKey(r: HsmRequest, name: string): Promise<EmuResponse> {
  if (!KEY_NAME_PATTERN.test(name)) {
    throw badParameter(`The request URI contains an invalid name: ${name}`)
  }
  authorize(r, DataActions.keysCreate, `/keys/${name}`)
  const spec = keySpec(jsonBody(r))
  const material = await generateKeyMaterial(spec)
  const existing = findKey(r.plane, name)
  const { key, version } = addKeyVersion(
    r.plane,
    existing?.name ?? name,
    spec,
    material,
    r.ctx.newGuid().replace(/-/g, ''),
    Math.floor(r.ctx.now() / 1000)
  )
  return { status: 200, body: keyBundle(r.hsm, key, version) }
}

function existingVersion(r: HsmRequest, name: string, version?: string) {
  const key = findKey(r.plane, name)
  const v = key && findVersion(key, version)
  if (!key || !v) throw keyNotFound(version ? `${name}/${version}` : name)
  return { key, v }
}

export function getKey(r: HsmRequest, name: string, version?: string): EmuResponse {
  authorize(r, DataActions.keysRead, `/keys/${name}`)
  const { key, v } = existingVersion(r, name, version)
  return { status: 200, body: keyBundle(r.hsm, key, v) }
}

export function listKeys(r: HsmRequest): EmuResponse {
  authorize(r, DataActions.keysRead, '/keys')
  const value = Object.values(r.plane.keys).map(k => keyItem(r.hsm, k, latestVersion(k), false))
  return { status: 200, body: { value } }
}

export function listKeyVersions(r: HsmRequest, name: string): EmuResponse {
  authorize(r, DataActions.keysRead, `/keys/${name}`)
  const key = findKey(r.plane, name)
  if (!key) throw keyNotFound(name)
  return { status: 200, body: { value: key.versions.map(v => keyItem(r.hsm, key, v, true)) } }
}

export function wrapOrUnwrap(
  r: HsmRequest,
  op: 'wrapKey' | 'unwrapKey',
  name: string,
  version?: string
): EmuResponse {
  authorize(r, op === 'wrapKey' ? DataActions.keysWrap : DataActions.keysUnwrap, `/keys/${name}`)
  const { key, v } = existingVersion(r, name, version)
  const body = jsonBody(r)
  if (!isWrapAlgorithm(body.alg)) {
    throw badParameter(
      `Invalid algorithm '${String(body.alg)}'. RSA keys wrap with RSA-OAEP, RSA-OAEP-256 or RSA1_5.`
    )
  }
  if (typeof body.value !== 'string' || !/^[A-Za-z0-9_-]*={0,2}$/.test(body.value)) {
    throw badParameter('The property "value" must be a base64url string.')
  }
  const unusable = keyUnusable(v, op, Math.floor(r.ctx.now() / 1000))
  if (unusable) throw kvError(403, 'Forbidden', unusable)
  const input = Buffer.from(body.value, 'base64url')
  let output: Buffer
  try {
    output =
      op === 'wrapKey'
        ? rsaWrap(v.privateKeyPem, body.alg, input)
        : rsaUnwrap(v.privateKeyPem, body.alg, input)
  } catch {
    throw badParameter(
      op === 'wrapKey'
        ? `The value is too long to wrap with ${body.alg} and a ${v.keySize}-bit key.`
        : 'The value could not be unwrapped with this key and algorithm.'
    )
  }
  return { status: 200, body: { kid: kid(r.hsm, key, v), value: output.toString('base64url') } }
}

/** UpdateKey (`PATCH /keys/{name}[/{version}]`): operations, enabled, nbf, exp and tags. */
export function updateKey(r: HsmRequest, name: string, version?: string): EmuResponse {
  authorize(r, DataActions.keysWrite, `/keys/${name}`)
  const { key, v } = existingVersion(r, name, version)
  const body = jsonBody(r)
  const problem = updateKeyVersion(
    v,
    { ops: body.key_ops, attributes: body.attributes, tags: body.tags, fields: { ops: 'key_ops' } },
    Math.floor(r.ctx.now() / 1000)
  )
  if (problem) throw badParameter(problem)
  return { status: 200, body: keyBundle(r.hsm, key, v) }
}

function rotationPolicyBody(r: HsmRequest, key: HsmKey): Record<string, unknown> {
  const policy = key.rotationPolicy
  // A key without a policy answers an empty one without id or times: they "may be undefined if a
  // policy has not been explicitly set" (@azure/keyvault-keys KeyRotationPolicy).
  if (!policy) return { lifetimeActions: [], attributes: {} }
  return {
    id: `${kid(r.hsm, key)}/rotationpolicy`,
    lifetimeActions: policy.lifetimeActions.map(trigger => ({
      trigger,
      action: { type: 'Rotate' }
    })),
    attributes: {
      ...(policy.expiryTime ? { expiryTime: policy.expiryTime } : {}),
      created: policy.created,
      updated: policy.updated
    }
  }
}

function existingKey(r: HsmRequest, name: string): HsmKey {
  const key = findKey(r.plane, name)
  if (!key) throw keyNotFound(name)
  return key
}

/** GetKeyRotationPolicy. */
export function getRotationPolicy(r: HsmRequest, name: string): EmuResponse {
  authorize(r, DataActions.keysRead, `/keys/${name}`)
  return { status: 200, body: rotationPolicyBody(r, existingKey(r, name)) }
}

/**
 * UpdateKeyRotationPolicy: "Setting a rotation policy requires the 'Key Write' permission"
 * (managed-hsm/key-rotation); an empty policy removes it.
 */
export function updateRotationPolicy(r: HsmRequest, name: string): EmuResponse {
  authorize(r, DataActions.keysWrite, `/keys/${name}`)
  const key = existingKey(r, name)
  const nowMs = r.ctx.now()
  const read = readRotationPolicy(jsonBody(r), nowMs)
  if ('problem' in read) throw badParameter(read.problem)
  const now = Math.floor(nowMs / 1000)
  if (!read.policy) delete key.rotationPolicy
  else {
    key.rotationPolicy = {
      ...read.policy,
      created: key.rotationPolicy?.created ?? now,
      updated: now
    }
  }
  return { status: 200, body: rotationPolicyBody(r, key) }
}

/**
 * RotateKey: a new version with new key material, once the key has a rotation policy ("It must
 * be set before keys can be rotated on-demand") and fewer than 100 versions.
 */
export async function rotate(r: HsmRequest, name: string): Promise<EmuResponse> {
  authorize(r, DataActions.keysRotate, `/keys/${name}`)
  const key = existingKey(r, name)
  if (!key.rotationPolicy) {
    throw badParameter(
      `Key '${key.name}' has no rotation policy. A key rotation policy must be set before the key can be rotated on demand.`
    )
  }
  if (key.versions.length >= MAX_KEY_VERSIONS) {
    throw badParameter(
      `Key '${key.name}' already has ${MAX_KEY_VERSIONS} versions, the most a Managed HSM key can have.`
    )
  }
  const nowMs = r.ctx.now()
  const spec = rotatedSpec(key, nowMs)
  const material = await generateKeyMaterial(spec)
  const { version } = addKeyVersion(
    r.plane,
    key.name,
    spec,
    material,
    r.ctx.newGuid().replace(/-/g, ''),
    Math.floor(nowMs / 1000)
  )
  return { status: 200, body: keyBundle(r.hsm, key, version) }
}
