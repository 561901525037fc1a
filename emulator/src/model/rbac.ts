import type { HsmDataPlane, HsmRoleAssignment, World } from '../core/world.js'
import { findBuiltInRole, roleDefinitionId } from './role-definitions.js'

const MHSM = 'Microsoft.KeyVault/managedHsm'

/** The data actions the emulated operations check. */
export const DataActions = {
  keysCreate: `${MHSM}/keys/create`,
  keysRead: `${MHSM}/keys/read/action`,
  keysWrite: `${MHSM}/keys/write/action`,
  keysRotate: `${MHSM}/keys/rotate/action`,
  keysWrap: `${MHSM}/keys/wrap/action`,
  keysUnwrap: `${MHSM}/keys/unwrap/action`,
  roleAssignmentsRead: `${MHSM}/roleAssignments/read/action`,
  roleAssignmentsWrite: `${MHSM}/roleAssignments/write/action`,
  roleAssignmentsDelete: `${MHSM}/roleAssignments/delete/action`,
  roleDefinitionsRead: `${MHSM}/roleDefinitions/read/action`,
  securityDomainDownload: `${MHSM}/securitydomain/download/action`,
  securityDomainDownloadRead: `${MHSM}/securitydomain/download/read`
} as const

/**
 * Normalises a local RBAC scope: `/`, `/keys` or `/keys/{name}` (slashes collapsed, no trailing
 * slash, `keys` lower case). Undefined for anything else.
 */
export function normalizeScope(scope: string): string | undefined {
  const parts = scope.split('/').filter(p => p !== '')
  if (parts.length === 0) return '/'
  if (parts[0]!.toLowerCase() !== 'keys' || parts.length > 2) return undefined
  return parts.length === 1 ? '/keys' : `/keys/${parts[1]}`
}

/** An assignment at `assigned` applies to `target` when `target` is the same scope or below it. */
export function scopeCovers(assigned: string, target: string): boolean {
  const a = assigned.toLowerCase()
  const t = target.toLowerCase()
  if (a === '/') return true
  return t === a || t.startsWith(`${a}/`)
}

function actionMatches(pattern: string, action: string): boolean {
  if (!pattern.includes('*')) return pattern.toLowerCase() === action.toLowerCase()
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map(s => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
    'i'
  )
  return re.test(action)
}

/** Whether a role (by definition id, GUID or name) grants a data action. */
function roleGrants(roleRef: string, dataAction: string): boolean {
  const role = findBuiltInRole(roleRef)
  if (!role) return false
  return (
    role.dataActions.some(p => actionMatches(p, dataAction)) &&
    !role.notDataActions.some(p => actionMatches(p, dataAction))
  )
}

function findDataPlane(world: World, hsmName: string): HsmDataPlane | undefined {
  return world.hsmDataPlanes[hsmName.toLowerCase()]
}

/**
 * The local RBAC decision: does `principalId` hold, at `now`, an assignment whose scope covers
 * `scope` and whose role grants `dataAction`? Assignments count only from their `effectiveAt`
 * (propagation delay). The Cosmos DB key-access check uses the same rule.
 */
export function principalMayPerform(
  world: World,
  hsmName: string,
  principalId: string,
  dataAction: string,
  scope: string,
  now: number
): boolean {
  const plane = findDataPlane(world, hsmName)
  if (!plane) return false
  const target = normalizeScope(scope) ?? scope
  return Object.values(plane.roleAssignments).some(
    a =>
      a.principalId.toLowerCase() === principalId.toLowerCase() &&
      a.effectiveAt <= now &&
      scopeCovers(a.scope, target) &&
      roleGrants(a.roleDefinitionId, dataAction)
  )
}

/** Whether `principalId` holds, at `now`, the role (by GUID) at `scope` itself. */
export function principalHoldsRole(
  world: World,
  hsmName: string,
  principalId: string,
  roleGuid: string,
  scope: string,
  now: number
): boolean {
  const plane = findDataPlane(world, hsmName)
  return Object.values(plane?.roleAssignments ?? {}).some(
    a =>
      a.principalId.toLowerCase() === principalId.toLowerCase() &&
      a.effectiveAt <= now &&
      a.scope === scope &&
      findBuiltInRole(a.roleDefinitionId)?.guid === roleGuid
  )
}

/** Stores a role assignment in an HSM's local RBAC; it counts from `effectiveAt` on. */
export function addRoleAssignment(
  plane: HsmDataPlane,
  a: { name: string; scope: string; roleGuid: string; principalId: string },
  createdAt: number,
  effectiveAt: number
): HsmRoleAssignment {
  const assignment: HsmRoleAssignment = {
    name: a.name.toLowerCase(),
    scope: a.scope,
    roleDefinitionId: roleDefinitionId(a.roleGuid),
    principalId: a.principalId.toLowerCase(),
    createdAt,
    effectiveAt
  }
  plane.roleAssignments[assignment.name] = assignment
  return assignment
}
