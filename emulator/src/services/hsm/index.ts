import type { EmuResponse, Service, ServiceContext } from '../../core/service.js'
import { notEmulated } from '../../core/errors.js'
import { advanceWorld } from '../resources/advance.js'
import { findHsmByName } from '../resources/lookup.js'
import { badParameter, kvError, notActivated } from './kv-errors.js'
import {
  createKey,
  getKey,
  listKeys,
  listKeyVersions,
  wrapOrUnwrap,
  type HsmRequest
} from './keys.js'
import {
  createRoleAssignment,
  deleteRoleAssignment,
  getRoleAssignment,
  getRoleDefinition,
  listRoleAssignments,
  listRoleDefinitions
} from './role-assignments.js'
import { downloadSecurityDomain, securityDomainDownloadStatus } from './security-domain.js'

export { principalMayPerform, DataActions } from './rbac.js'

const AUTHZ = '/providers/microsoft.authorization/'

function route(r: HsmRequest): EmuResponse | Promise<EmuResponse> | undefined {
  const { method, path } = r.ctx.req
  const lower = path.toLowerCase()

  if (lower === '/securitydomain/download' && method === 'POST') return downloadSecurityDomain(r)
  if (lower === '/securitydomain/download/pending' && method === 'GET') {
    return securityDomainDownloadStatus(r)
  }
  if (lower.startsWith('/securitydomain')) return undefined

  const authz = lower.indexOf(AUTHZ)
  if (authz >= 0) {
    const scope = path.slice(0, authz) || '/'
    const [collection, name, extra] = path.slice(authz + AUTHZ.length).split('/')
    if (extra !== undefined) return undefined
    const kind = collection?.toLowerCase()
    if (r.hsm.activationStatus !== 'Active') return notActivated(r.hsm.name)
    if (kind === 'roledefinitions') {
      if (method !== 'GET') return undefined
      return name ? getRoleDefinition(r, scope, name) : listRoleDefinitions(r, scope)
    }
    if (kind === 'roleassignments') {
      if (!name) return method === 'GET' ? listRoleAssignments(r, scope) : undefined
      if (method === 'GET') return getRoleAssignment(r, scope, name)
      if (method === 'PUT') return createRoleAssignment(r, scope, name)
      if (method === 'DELETE') return deleteRoleAssignment(r, scope, name)
    }
    return undefined
  }

  const parts = path.split('/').filter(p => p !== '')
  if (parts[0]?.toLowerCase() !== 'keys') return undefined
  if (r.hsm.activationStatus !== 'Active') return notActivated(r.hsm.name)
  const [, name, second, third] = parts
  const op = (s: string | undefined): 'wrapKey' | 'unwrapKey' | undefined =>
    s?.toLowerCase() === 'wrapkey'
      ? 'wrapKey'
      : s?.toLowerCase() === 'unwrapkey'
        ? 'unwrapKey'
        : undefined
  if (parts.length === 1) return method === 'GET' ? listKeys(r) : undefined
  if (parts.length === 2) return method === 'GET' ? getKey(r, name!) : undefined
  if (parts.length === 3) {
    if (method === 'POST' && second!.toLowerCase() === 'create') return createKey(r, name!)
    if (method === 'POST' && op(second)) return wrapOrUnwrap(r, op(second)!, name!)
    if (method === 'GET' && second!.toLowerCase() === 'versions') return listKeyVersions(r, name!)
    if (method === 'GET') return getKey(r, name!, second)
    return undefined
  }
  if (parts.length === 4 && method === 'POST' && op(third)) {
    return wrapOrUnwrap(r, op(third)!, name!, second)
  }
  return undefined
}

async function handle(ctx: ServiceContext): Promise<EmuResponse> {
  const { req, world } = ctx
  advanceWorld(world, ctx.now())
  const hsmName = req.host.split('.')[0] ?? ''
  const hsm = findHsmByName(world, hsmName)
  const plane = world.hsmDataPlanes[hsmName.toLowerCase()]
  if (!hsm || !plane) {
    return kvError(
      404,
      'NotFound',
      `The managed HSM '${hsmName}' does not exist (no DNS record for ${req.host}).`
    )
  }
  if (hsm.provisioningState !== 'Succeeded' && hsm.provisioningState !== 'Updating') {
    return kvError(
      503,
      'ServiceUnavailable',
      `The managed HSM '${hsm.name}' is not available: its provisioning state is ${hsm.provisioningState}.`
    )
  }
  if (!req.query.get('api-version')) {
    return badParameter(
      'The api-version query parameter (?api-version=) is required for all requests.'
    )
  }
  if (!ctx.principal)
    return kvError(401, 'Unauthorized', 'Request is missing a Bearer or PoP token.')
  const r: HsmRequest = { ctx, hsm, plane, callerId: ctx.principal.objectId }
  return (await route(r)) ?? notEmulated(req.host, req.method, req.path)
}

export const hsmService: Service = {
  name: 'Managed HSM',
  matches: host => host.endsWith('.managedhsm.azure.net'),
  audiences: ['https://managedhsm.azure.net'],
  challenge: {
    authorization: tenantId => `https://login.microsoftonline.com/${tenantId}`,
    resource: 'https://managedhsm.azure.net'
  },
  handle
}
