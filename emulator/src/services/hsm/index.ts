import type { EmuResponse, Service, ServiceContext } from '../../core/service.js'
import { notEmulated } from '../../core/errors.js'
import { MANAGED_HSM_SUFFIX } from '../../core/hosts.js'
import { findRoute, type Route } from '../../core/routes.js'
import { advanceWorld } from '../../model/advance.js'
import { findHsmByName } from '../../model/lookup.js'
import type { HsmRequest } from './context.js'
import { badParameter, kvError, notActivated } from './errors.js'
import {
  createKey,
  getKey,
  getRotationPolicy,
  listKeys,
  listKeyVersions,
  rotate,
  updateKey,
  updateRotationPolicy,
  wrapOrUnwrap
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
import { getSetting, listSettings, updateSetting } from './settings.js'

interface HsmRoute extends Omit<Route<HsmRequest>, 'handler'> {
  /** Absent on routes that only claim a path, so that the activation check covers it. */
  handler?: Route<HsmRequest>['handler']
  /** Served only once the HSM is activated (checked before the method). */
  active?: true
}

const AUTHZ = '{scope*}/providers/Microsoft.Authorization'
const scopeOf = (p: Record<string, string>) => `/${p.scope}`

/** First match wins (see findRoute). */
const ROUTES: HsmRoute[] = [
  { methods: ['POST'], template: '/securitydomain/download', handler: downloadSecurityDomain },
  {
    methods: ['GET'],
    template: '/securitydomain/download/pending',
    handler: securityDomainDownloadStatus
  },
  {
    methods: ['GET'],
    template: `${AUTHZ}/roleDefinitions`,
    handler: (r, p) => listRoleDefinitions(r, scopeOf(p)),
    active: true
  },
  {
    methods: ['GET'],
    template: `${AUTHZ}/roleDefinitions/{name}`,
    handler: (r, p) => getRoleDefinition(r, scopeOf(p), p.name!),
    active: true
  },
  {
    methods: ['GET'],
    template: `${AUTHZ}/roleAssignments`,
    handler: (r, p) => listRoleAssignments(r, scopeOf(p)),
    active: true
  },
  {
    methods: ['GET'],
    template: `${AUTHZ}/roleAssignments/{name}`,
    handler: (r, p) => getRoleAssignment(r, scopeOf(p), p.name!),
    active: true
  },
  {
    methods: ['PUT'],
    template: `${AUTHZ}/roleAssignments/{name}`,
    handler: (r, p) => createRoleAssignment(r, scopeOf(p), p.name!),
    active: true
  },
  {
    methods: ['DELETE'],
    template: `${AUTHZ}/roleAssignments/{name}`,
    handler: (r, p) => deleteRoleAssignment(r, scopeOf(p), p.name!),
    active: true
  },
  { methods: [], template: `${AUTHZ}/{collection}`, active: true },
  { methods: [], template: `${AUTHZ}/{collection}/{name}`, active: true },
  { methods: ['GET'], template: '/keys', handler: r => listKeys(r), active: true },
  {
    methods: ['GET'],
    template: '/keys/{name}',
    handler: (r, p) => getKey(r, p.name!),
    active: true
  },
  {
    methods: ['PATCH'],
    template: '/keys/{name}',
    handler: (r, p) => updateKey(r, p.name!),
    active: true
  },
  {
    methods: ['GET'],
    template: '/keys/{name}/rotationpolicy',
    handler: (r, p) => getRotationPolicy(r, p.name!),
    active: true
  },
  {
    methods: ['PUT'],
    template: '/keys/{name}/rotationpolicy',
    handler: (r, p) => updateRotationPolicy(r, p.name!),
    active: true
  },
  {
    methods: ['POST'],
    template: '/keys/{name}/rotate',
    handler: (r, p) => rotate(r, p.name!),
    active: true
  },
  {
    methods: ['POST'],
    template: '/keys/{name}/create',
    handler: (r, p) => createKey(r, p.name!),
    active: true
  },
  {
    methods: ['POST'],
    template: '/keys/{name}/wrapKey',
    handler: (r, p) => wrapOrUnwrap(r, 'wrapKey', p.name!),
    active: true
  },
  {
    methods: ['POST'],
    template: '/keys/{name}/unwrapKey',
    handler: (r, p) => wrapOrUnwrap(r, 'unwrapKey', p.name!),
    active: true
  },
  {
    methods: ['GET'],
    template: '/keys/{name}/versions',
    handler: (r, p) => listKeyVersions(r, p.name!),
    active: true
  },
  {
    methods: ['GET'],
    template: '/keys/{name}/{version}',
    handler: (r, p) => getKey(r, p.name!, p.version),
    active: true
  },
  {
    methods: ['PATCH'],
    template: '/keys/{name}/{version}',
    handler: (r, p) => updateKey(r, p.name!, p.version),
    active: true
  },
  {
    methods: ['POST'],
    template: '/keys/{name}/{version}/wrapKey',
    handler: (r, p) => wrapOrUnwrap(r, 'wrapKey', p.name!, p.version),
    active: true
  },
  {
    methods: ['POST'],
    template: '/keys/{name}/{version}/unwrapKey',
    handler: (r, p) => wrapOrUnwrap(r, 'unwrapKey', p.name!, p.version),
    active: true
  },
  { methods: [], template: '/keys/{rest*}', active: true },
  { methods: ['GET'], template: '/settings', handler: r => listSettings(r), active: true },
  {
    methods: ['GET'],
    template: '/settings/{name}',
    handler: (r, p) => getSetting(r, p.name!),
    active: true
  },
  {
    methods: ['PATCH'],
    template: '/settings/{name}',
    handler: (r, p) => updateSetting(r, p.name!),
    active: true
  }
]

async function handle(ctx: ServiceContext): Promise<EmuResponse> {
  const { req, world } = ctx
  advanceWorld(world, ctx.now(), ctx)
  const hsmName = req.host.split('.')[0] ?? ''
  const hsm = findHsmByName(world, hsmName)
  const plane = world.hsmDataPlanes[hsmName.toLowerCase()]
  if (!hsm || !plane) {
    throw kvError(
      404,
      'NotFound',
      `The managed HSM '${hsmName}' does not exist (no DNS record for ${req.host}).`
    )
  }
  if (hsm.provisioningState !== 'Succeeded' && hsm.provisioningState !== 'Updating') {
    throw kvError(
      503,
      'ServiceUnavailable',
      `The managed HSM '${hsm.name}' is not available: its provisioning state is ${hsm.provisioningState}.`
    )
  }
  if (!req.query.get('api-version')) {
    throw badParameter(
      'The api-version query parameter (?api-version=) is required for all requests.'
    )
  }
  if (!ctx.principal)
    throw kvError(401, 'Unauthorized', 'Request is missing a Bearer or PoP token.')
  const match = findRoute(ROUTES, req.method, req.path)
  if (match?.route.active && hsm.activationStatus !== 'Active') throw notActivated(hsm.name)
  if (!match?.allowed || !match.route.handler) throw notEmulated(req.host, req.method, req.path)
  const response = await match.route.handler(
    { ctx, hsm, plane, callerId: ctx.principal.objectId },
    match.params
  )
  // a key or grant changed here: accounts that use the key notice it now
  if (req.method !== 'GET') advanceWorld(world, ctx.now(), ctx)
  return response
}

export const hsmService: Service = {
  name: 'Managed HSM',
  matches: host => host.endsWith(MANAGED_HSM_SUFFIX),
  audiences: ['https://managedhsm.azure.net'],
  challenge: {
    authorization: tenantId => `https://login.microsoftonline.com/${tenantId}`,
    resource: 'https://managedhsm.azure.net'
  },
  handle
}
