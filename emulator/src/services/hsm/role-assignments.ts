import type { EmuResponse } from '../../core/service.js'
import type { HsmRoleAssignment } from '../../core/world.js'
import { isGuid } from '../../model/ids.js'
import { principalIsReplicated } from '../../model/principals.js'
import { addRoleAssignment, DataActions, normalizeScope, scopeCovers } from '../../model/rbac.js'
import {
  BUILT_IN_ROLES,
  findBuiltInRole,
  roleDefinitionId,
  type BuiltInRole
} from '../../model/role-definitions.js'
import { authorize, jsonBody, type HsmRequest } from './context.js'
import { badParameter, kvError } from './errors.js'

const ASSIGNMENT_TYPE = 'Microsoft.Authorization/roleAssignments'

function assignmentId(a: HsmRoleAssignment): string {
  return `${a.scope === '/' ? '' : a.scope}/providers/${ASSIGNMENT_TYPE}/${a.name}`
}

function roleAssignmentBody(a: HsmRoleAssignment): Record<string, unknown> {
  return {
    id: assignmentId(a),
    name: a.name,
    type: ASSIGNMENT_TYPE,
    properties: { scope: a.scope, roleDefinitionId: a.roleDefinitionId, principalId: a.principalId }
  }
}

/** The role definition as Managed HSM returns it. */
function roleDefinitionBody(role: BuiltInRole): Record<string, unknown> {
  return {
    id: roleDefinitionId(role.guid),
    name: role.guid,
    type: 'Microsoft.Authorization/roleDefinitions',
    properties: {
      roleName: role.roleName,
      description: '',
      type: 'AKVBuiltInRole',
      permissions: [
        {
          actions: [],
          notActions: [],
          dataActions: role.dataActions,
          notDataActions: role.notDataActions
        }
      ],
      assignableScopes: ['/']
    }
  }
}

/** The normalised scope of the request, once the caller may perform `dataAction` there. */
function authorizedScope(r: HsmRequest, rawScope: string, dataAction: string): string {
  const scope = normalizeScope(rawScope)
  if (!scope)
    throw badParameter(`Invalid scope '${rawScope}'. Use '/', '/keys' or '/keys/{key name}'.`)
  authorize(r, dataAction, scope)
  return scope
}

export function listRoleDefinitions(r: HsmRequest, rawScope: string): EmuResponse {
  authorizedScope(r, rawScope, DataActions.roleDefinitionsRead)
  const filter = r.ctx.req.query.get('$filter') ?? ''
  const byName = /roleName\s+eq\s+'([^']*)'/i.exec(filter)?.[1]
  const roles = BUILT_IN_ROLES.filter(
    role => byName === undefined || role.roleName.toLowerCase() === byName.toLowerCase()
  )
  return { status: 200, body: { value: roles.map(roleDefinitionBody) } }
}

export function getRoleDefinition(r: HsmRequest, rawScope: string, name: string): EmuResponse {
  authorizedScope(r, rawScope, DataActions.roleDefinitionsRead)
  const role = isGuid(name) ? findBuiltInRole(name) : undefined
  if (!role) {
    throw kvError(
      404,
      'RoleDefinitionNotFound',
      `The role definition '${name}' could not be found.`
    )
  }
  return { status: 200, body: roleDefinitionBody(role) }
}

export function listRoleAssignments(r: HsmRequest, rawScope: string): EmuResponse {
  const scope = authorizedScope(r, rawScope, DataActions.roleAssignmentsRead)
  const filter = r.ctx.req.query.get('$filter')?.trim() ?? ''
  const principal = /^principalId\s+eq\s+'?([0-9a-fA-F-]{36})'?$/i.exec(filter)?.[1]
  if (filter !== '' && !/^atScope\(\)$/i.test(filter) && !principal) {
    throw badParameter(`Unsupported $filter '${filter}'. Use atScope() or principalId eq '{id}'.`)
  }
  const all = Object.values(r.plane.roleAssignments)
  const value = all.filter(a => {
    if (/^atScope\(\)$/i.test(filter)) return scopeCovers(a.scope, scope)
    const related = scopeCovers(a.scope, scope) || scopeCovers(scope, a.scope)
    if (principal) return related && a.principalId.toLowerCase() === principal.toLowerCase()
    return related
  })
  return { status: 200, body: { value: value.map(roleAssignmentBody) } }
}

/** The assignment named in the request at its scope; RoleAssignmentNotFound otherwise. */
function existingAssignment(r: HsmRequest, scope: string, name: string): HsmRoleAssignment {
  const a = r.plane.roleAssignments[name.toLowerCase()]
  if (a && a.scope.toLowerCase() === scope.toLowerCase()) return a
  throw kvError(
    404,
    'RoleAssignmentNotFound',
    `Requested role assignment not found: ${name} (Activity ID: ${r.ctx.newGuid()})`
  )
}

export function getRoleAssignment(r: HsmRequest, rawScope: string, name: string): EmuResponse {
  const scope = authorizedScope(r, rawScope, DataActions.roleAssignmentsRead)
  const a = existingAssignment(r, scope, name)
  return { status: 200, body: roleAssignmentBody(a) }
}

export function deleteRoleAssignment(r: HsmRequest, rawScope: string, name: string): EmuResponse {
  const scope = authorizedScope(r, rawScope, DataActions.roleAssignmentsDelete)
  const a = existingAssignment(r, scope, name)
  delete r.plane.roleAssignments[a.name.toLowerCase()]
  return { status: 200, body: roleAssignmentBody(a) }
}

export function createRoleAssignment(r: HsmRequest, rawScope: string, name: string): EmuResponse {
  const scope = authorizedScope(r, rawScope, DataActions.roleAssignmentsWrite)
  // Managed HSM also reads the assignments at "/" before it writes (az CLI issue 32719).
  authorize(r, DataActions.roleAssignmentsRead, '/')
  if (!isGuid(name)) throw badParameter(`The role assignment name '${name}' is not a valid GUID.`)
  const body = jsonBody(r)
  const props = body.properties as Record<string, unknown> | undefined
  const roleRef = props?.roleDefinitionId
  const principalId = props?.principalId
  if (typeof roleRef !== 'string' || typeof principalId !== 'string') {
    throw badParameter('The properties "roleDefinitionId" and "principalId" are required.')
  }
  const role = findBuiltInRole(roleRef)
  if (!role || !/roleDefinitions\//i.test(roleRef)) {
    throw kvError(
      400,
      'RoleDefinitionDoesNotExist',
      `The specified role definition with ID '${roleRef}' does not exist.`
    )
  }
  if (!isGuid(principalId))
    throw badParameter(`The principal id '${principalId}' is not a valid GUID.`)
  const now = r.ctx.now()
  const wanted = {
    scope,
    roleDefinitionId: roleDefinitionId(role.guid),
    principalId: principalId.toLowerCase()
  }

  const sameName = r.plane.roleAssignments[name.toLowerCase()]
  if (sameName) {
    const identical =
      sameName.scope.toLowerCase() === scope.toLowerCase() &&
      sameName.roleDefinitionId === wanted.roleDefinitionId &&
      sameName.principalId.toLowerCase() === wanted.principalId
    if (identical) return { status: 201, body: roleAssignmentBody(sameName) }
    throw kvError(
      409,
      'RoleAssignmentUpdateNotPermitted',
      'Tenant ID, application ID, principal ID, and scope are not allowed to be updated.'
    )
  }
  const duplicate = Object.values(r.plane.roleAssignments).find(
    a =>
      a.scope.toLowerCase() === scope.toLowerCase() &&
      a.roleDefinitionId === wanted.roleDefinitionId &&
      a.principalId.toLowerCase() === wanted.principalId
  )
  if (duplicate) {
    throw kvError(
      409,
      'RoleAssignmentExists',
      `The role assignment already exists. The ID of the existing role assignment is ${duplicate.name.replace(/-/g, '')}.`
    )
  }
  if (!principalIsReplicated(r.ctx.world, principalId, now)) {
    throw kvError(
      400,
      'PrincipalNotFound',
      `Principal ${principalId} does not exist in the directory ${r.ctx.world.tenantId}. Check that ` +
        'you have the correct principal ID. If you are creating this principal and then immediately ' +
        'assigning a role, this error might be related to a replication delay.'
    )
  }
  const assignment = addRoleAssignment(
    r.plane,
    { name, scope, roleGuid: role.guid, principalId },
    now,
    now + r.ctx.delay('rbacPropagation')
  )
  return { status: 201, body: roleAssignmentBody(assignment) }
}
