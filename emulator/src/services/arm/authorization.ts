import type { ArmRoleAssignment, ArmRoleName, World } from '../../core/world.js'

/** What a role definition allows, as `Microsoft.Authorization/permissions` reports it. */
export interface ArmPermission {
  actions: string[]
  notActions: string[]
  dataActions: string[]
  notDataActions: string[]
}

function role(actions: string[], notActions: string[] = []): ArmPermission {
  return { actions, notActions, dataActions: [], notDataActions: [] }
}

/**
 * The built-in ARM roles the local Azure enforces, with their permissions as the built-in role
 * definitions list them (learn.microsoft.com/azure/role-based-access-control/built-in-roles).
 */
const ROLES: Record<ArmRoleName, ArmPermission> = {
  Owner: role(['*']),
  Contributor: role(
    ['*'],
    [
      'Microsoft.Authorization/*/Delete',
      'Microsoft.Authorization/*/Write',
      'Microsoft.Authorization/elevateAccess/Action',
      'Microsoft.Blueprint/blueprintAssignments/write',
      'Microsoft.Blueprint/blueprintAssignments/delete',
      'Microsoft.Compute/galleries/share/action',
      'Microsoft.Purview/consents/write',
      'Microsoft.Purview/consents/delete',
      'Microsoft.Resources/deploymentStacks/manageDenySetting/action',
      'Microsoft.Subscription/cancel/action',
      'Microsoft.Subscription/enable/action'
    ]
  ),
  Reader: role(['*/read']),
  'Managed Identity Operator': role([
    'Microsoft.ManagedIdentity/userAssignedIdentities/*/read',
    'Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action',
    'Microsoft.Authorization/*/read',
    'Microsoft.Insights/alertRules/*',
    'Microsoft.Resources/subscriptions/resourceGroups/read',
    'Microsoft.Resources/deployments/*',
    'Microsoft.Support/*'
  ]),
  'Tag Contributor': role([
    'Microsoft.Authorization/*/read',
    'Microsoft.Resources/subscriptions/resourceGroups/read',
    'Microsoft.Resources/subscriptions/resourceGroups/resources/read',
    'Microsoft.Resources/subscriptions/resources/read',
    'Microsoft.Resources/deployments/*',
    'Microsoft.Insights/alertRules/*',
    'Microsoft.Support/*',
    'Microsoft.Resources/tags/*'
  ])
}

export const ARM_ROLE_NAMES = Object.keys(ROLES) as ArmRoleName[]

function escape(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')
}

/** ARM wildcard semantics: a star spans any characters, and a star segment may also be empty. */
export function actionMatches(pattern: string, action: string): boolean {
  const source = pattern
    .split('/*/')
    .map(part => part.split('*').map(escape).join('.*'))
    .join('(?:/.*)?/')
  return new RegExp(`^${source}$`, 'i').test(action)
}

function scopeCovers(assigned: string, target: string): boolean {
  const a = assigned.toLowerCase().replace(/\/+$/, '')
  const t = target.toLowerCase().replace(/\/+$/, '')
  return a === '' || t === a || t.startsWith(`${a}/`)
}

/** ARM role assignments of a caller: its application's, or those of a managed identity. */
export function armRolesOf(world: World, objectId: string): ArmRoleAssignment[] {
  const app = Object.values(world.applications).find(
    a => a.servicePrincipalId.toLowerCase() === objectId.toLowerCase()
  )
  return [...(app?.armRoles ?? []), ...(world.managedIdentityArmRoles[objectId] ?? [])]
}

/**
 * The permissions the caller holds at `scope`: one entry per role it holds there or above it
 * (assignments below the scope do not count). A role held twice is listed once.
 */
export function armPermissionsAt(world: World, objectId: string, scope: string): ArmPermission[] {
  const roles = new Set(
    armRolesOf(world, objectId)
      .filter(assignment => scopeCovers(assignment.scope, scope))
      .map(assignment => assignment.role)
  )
  return [...roles].flatMap(name => (ROLES[name] ? [structuredClone(ROLES[name])] : []))
}

/** Whether the permissions allow `action`: some entry lists it and does not exclude it. */
export function permissionsAllow(permissions: ArmPermission[], action: string): boolean {
  return permissions.some(
    p =>
      p.actions.some(pattern => actionMatches(pattern, action)) &&
      !p.notActions.some(pattern => actionMatches(pattern, action))
  )
}

/**
 * Whether the caller may perform `action` on `scope` (inherited from subscription and group):
 * decided on exactly what `Microsoft.Authorization/permissions` reports for that scope.
 */
export function armPermits(world: World, objectId: string, action: string, scope: string): boolean {
  return permissionsAllow(armPermissionsAt(world, objectId, scope), action)
}
