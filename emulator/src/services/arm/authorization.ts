import type { ArmRoleAssignment, ArmRoleName, World } from '../../core/world.js'

/** The built-in ARM roles the local Azure enforces, with (a relevant part of) their real actions. */
const ROLES: Record<ArmRoleName, { actions: string[]; notActions: string[] }> = {
  Owner: { actions: ['*'], notActions: [] },
  Contributor: {
    actions: ['*'],
    notActions: [
      'Microsoft.Authorization/*/Delete',
      'Microsoft.Authorization/*/Write',
      'Microsoft.Authorization/elevateAccess/Action'
    ]
  },
  Reader: { actions: ['*/read'], notActions: [] },
  'Managed Identity Operator': {
    actions: [
      'Microsoft.ManagedIdentity/userAssignedIdentities/*/read',
      'Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action',
      'Microsoft.Authorization/*/read',
      'Microsoft.Insights/alertRules/*',
      'Microsoft.Resources/subscriptions/resourceGroups/read',
      'Microsoft.Resources/deployments/*',
      'Microsoft.Support/*'
    ],
    notActions: []
  }
}

function escape(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')
}

// ARM wildcard semantics: a star spans any characters, and a star segment may also be empty.
function actionMatches(pattern: string, action: string): boolean {
  const source = pattern
    .split('/*/')
    .map(part => part.split('*').map(escape).join('.*'))
    .join('(?:/.*)?/')
  return new RegExp(`^${source}$`, 'i').test(action)
}

function scopeCovers(assigned: string, target: string): boolean {
  const a = assigned.toLowerCase().replace(/\/+$/, '')
  const t = target.toLowerCase().replace(/\/+$/, '')
  return t === a || t.startsWith(`${a}/`)
}

/** ARM role assignments of a caller: its application's, or those of a managed identity. */
export function armRolesOf(world: World, objectId: string): ArmRoleAssignment[] {
  const app = Object.values(world.applications).find(
    a => a.servicePrincipalId.toLowerCase() === objectId.toLowerCase()
  )
  return [...(app?.armRoles ?? []), ...(world.managedIdentityArmRoles[objectId] ?? [])]
}

/** Whether the caller may perform `action` on `scope` (inherited from subscription and group). */
export function armPermits(world: World, objectId: string, action: string, scope: string): boolean {
  return armRolesOf(world, objectId).some(assignment => {
    const role = ROLES[assignment.role]
    return (
      role !== undefined &&
      scopeCovers(assignment.scope, scope) &&
      role.actions.some(p => actionMatches(p, action)) &&
      !role.notActions.some(p => actionMatches(p, action))
    )
  })
}
