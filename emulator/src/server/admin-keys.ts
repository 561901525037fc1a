import { generateKeyMaterialSync } from '../model/key-material.js'
import { addKeyVersion, findKey, findVersion, updateKeyVersion } from '../model/keys.js'
import { normalizeScope } from '../model/rbac.js'
import { rotatedSpec } from '../model/rotation.js'
import type { HsmDataPlane, HsmKey } from '../core/world.js'
import type { LocalAzure } from './local-azure.js'

/*
 * Admin hooks for what a test plays out on the HSM's side: disabling or expiring a key, rotating
 * it, taking a grant away. Each change is noticed at once (LocalAzure.advance), like a change
 * made through the data plane.
 */

type Reply = { status: number; body?: unknown }
type Handler = (azure: LocalAzure, body: unknown, query: URLSearchParams) => Reply

class AdminInputError extends Error {
  constructor(
    readonly status: number,
    message: string
  ) {
    super(message)
  }
}

function fields(body: unknown, query: URLSearchParams): Record<string, unknown> {
  const fromBody =
    typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {}
  return { ...Object.fromEntries(query), ...fromBody }
}

function text(f: Record<string, unknown>, name: string): string {
  const value = f[name]
  if (typeof value !== 'string' || value === '') {
    throw new AdminInputError(400, `"${name}" is required (a string)`)
  }
  return value
}

function planeOf(azure: LocalAzure, f: Record<string, unknown>): HsmDataPlane {
  const name = text(f, 'hsm')
  const plane = azure.store.world.hsmDataPlanes[name.toLowerCase()]
  if (!plane) throw new AdminInputError(404, `no Managed HSM '${name}'`)
  return plane
}

function keyOf(plane: HsmDataPlane, f: Record<string, unknown>): HsmKey {
  const name = text(f, 'key')
  const key = findKey(plane, name)
  if (!key) throw new AdminInputError(404, `no key '${name}' in Managed HSM '${plane.name}'`)
  return key
}

/** Seconds since epoch from an ISO time; null clears, undefined leaves alone. */
function seconds(value: unknown, name: string): number | null | undefined {
  if (value === undefined || value === null) return value
  const ms = typeof value === 'string' ? Date.parse(value) : NaN
  if (Number.isNaN(ms)) throw new AdminInputError(400, `"${name}" must be an ISO time or null`)
  return Math.floor(ms / 1000)
}

/** `PATCH /_emulator/hsm-key` `{hsm, key, version?, enabled?, expires?, notBefore?}`. */
const updateKey: Handler = (azure, body, query) => {
  const f = fields(body, query)
  const key = keyOf(planeOf(azure, f), f)
  const v = findVersion(key, typeof f.version === 'string' ? f.version : undefined)
  if (!v) throw new AdminInputError(404, `no version '${String(f.version)}' of key '${key.name}'`)
  if (f.enabled !== undefined && typeof f.enabled !== 'boolean') {
    throw new AdminInputError(400, '"enabled" must be a boolean')
  }
  const exp = seconds(f.expires, 'expires')
  const nbf = seconds(f.notBefore, 'notBefore')
  const problem = updateKeyVersion(
    v,
    {
      ops: undefined,
      tags: undefined,
      attributes: {
        ...(f.enabled !== undefined ? { enabled: f.enabled } : {}),
        ...(exp !== undefined ? { exp } : {}),
        ...(nbf !== undefined ? { nbf } : {})
      },
      fields: { ops: 'key_ops' }
    },
    Math.floor(azure.now() / 1000)
  )
  if (problem) throw new AdminInputError(400, problem)
  azure.advance()
  return { status: 200, body: versionView(key.name, v) }
}

function versionView(
  key: string,
  v: { version: string; enabled: boolean; exp?: number; nbf?: number; created: number }
) {
  const iso = (s: number | undefined) => (s === undefined ? null : new Date(s * 1000).toISOString())
  return {
    key,
    version: v.version,
    enabled: v.enabled,
    expires: iso(v.exp),
    notBefore: iso(v.nbf),
    created: iso(v.created)
  }
}

/** `POST /_emulator/hsm-key/rotate` `{hsm, key}`: a new version now, policy or not. */
const rotateKey: Handler = (azure, body, query) => {
  const f = fields(body, query)
  const plane = planeOf(azure, f)
  const key = keyOf(plane, f)
  const now = azure.now()
  const spec = rotatedSpec(key, now)
  const { version } = addKeyVersion(
    plane,
    key.name,
    spec,
    generateKeyMaterialSync(spec),
    azure.newVersionName(),
    Math.floor(now / 1000)
  )
  azure.advance()
  return { status: 200, body: versionView(key.name, version) }
}

/** `DELETE /_emulator/hsm-role-assignments` `{hsm, principalId, scope?}`: the grants removed. */
const removeGrants: Handler = (azure, body, query) => {
  const f = fields(body, query)
  const plane = planeOf(azure, f)
  const principalId = text(f, 'principalId').toLowerCase()
  const scope = f.scope === undefined ? undefined : normalizeScope(text(f, 'scope'))
  if (f.scope !== undefined && !scope)
    throw new AdminInputError(400, `"scope" is not /, /keys or /keys/{name}`)
  const removed = Object.values(plane.roleAssignments)
    .filter(
      a =>
        a.principalId === principalId &&
        (scope === undefined || a.scope.toLowerCase() === scope.toLowerCase())
    )
    .map(a => {
      delete plane.roleAssignments[a.name]
      return { name: a.name, scope: a.scope, roleDefinitionId: a.roleDefinitionId }
    })
  azure.advance()
  return { status: 200, body: { removed } }
}

function guarded(handler: Handler): Handler {
  return (azure, body, query) => {
    try {
      return handler(azure, body, query)
    } catch (e) {
      if (!(e instanceof AdminInputError)) throw e
      return {
        status: e.status,
        body: {
          error: { code: e.status === 404 ? 'NotFound' : 'InvalidInput', message: e.message }
        }
      }
    }
  }
}

export const keyAdminRoutes: Record<string, Partial<Record<string, Handler>>> = {
  '/hsm-key': { PATCH: guarded(updateKey) },
  '/hsm-key/rotate': { POST: guarded(rotateKey) },
  '/hsm-role-assignments': { DELETE: guarded(removeGrants) }
}
