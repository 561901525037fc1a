import type { EmuResponse } from '../../core/service.js'
import type { HsmRoleAssignment } from '../../core/world.js'
import { isGuid } from '../resources/ids.js'
import { principalIsReplicated } from '../resources/principals.js'
import { badParameter, kvError } from './kv-errors.js'
import { authorize, isResponse, parseBody, type HsmRequest } from './keys.js'
import { DataActions, normalizeScope, scopeCovers } from './rbac.js'
import {
  BUILT_IN_ROLES,
  findBuiltInRole,
  roleDefinitionBody,
  roleDefinitionId
} from './role-definitions.js'

const ASSIGNMENT_TYPE = 'Microsoft.Authorization/roleAssignments'

function assignmentId(a: HsmRoleAssignment): string {
  return `${a.scope === '/' ? '' : a.scope}/providers/${ASSIGNMENT_TYPE}/${a.name}`
}

export function roleAssignmentBody(a: HsmRoleAssignment): Record<string, unknown> {
  return {
    id: assignmentId(a),
    name: a.name,
    type: ASSIGNMENT_TYPE,
    properties: { scope: a.scope, roleDefinitionId: a.roleDefinitionId, principalId: a.principalId }
  }
}

function invalidScope(scope: string): EmuResponse {
  return badParameter(`Invalid scope '${scope}'. Use '/', '/keys' or '/keys/{key name}'.`)
}

export function listRoleDefinitions(r: HsmRequest, rawScope: string): EmuResponse {
  const scope = normalizeScope(rawScope)
  if (!scope) return invalidScope(rawScope)
  const denied = authorize(r, DataActions.roleDefinitionsRead, scope)
  if (denied) return denied
  const filter = r.ctx.req.query.get('$filter') ?? ''
  const byName = /roleName\s+eq\s+'([^']*)'/i.exec(filter)?.[1]
  const roles = BUILT_IN_ROLES.filter(
    role => byName === undefined || role.roleName.toLowerCase() === byName.toLowerCase()
  )
  return { status: 200, body: { value: roles.map(roleDefinitionBody) } }
}

export function getRoleDefinition(r: HsmRequest, rawScope: string, name: string): EmuResponse {
  const scope = normalizeScope(rawScope)
  if (!scope) return invalidScope(rawScope)
  const denied = authorize(r, DataActions.roleDefinitionsRead, scope)
  if (denied) return denied
  const role = isGuid(name) ? findBuiltInRole(name) : undefined
  if (!role) {
    return kvError(
      404,
      'RoleDefinitionNotFound',
      `The role definition '${name}' could not be found.`
    )
  }
  return { status: 200, body: roleDefinitionBody(role) }
}

export function listRoleAssignments(r: HsmRequest, rawScope: string): EmuResponse {
  const scope = normalizeScope(rawScope)
  if (!scope) return invalidScope(rawScope)
  const denied = authorize(r, DataActions.roleAssignmentsRead, scope)
  if (denied) return denied
  const filter = r.ctx.req.query.get('$filter')?.trim() ?? ''
  const principal = /^principalId\s+eq\s+'?([0-9a-fA-F-]{36})'?$/i.exec(filter)?.[1]
  if (filter !== '' && !/^atScope\(\)$/i.test(filter) && !principal) {
    return badParameter(`Unsupported $filter '${filter}'. Use atScope() or principalId eq '{id}'.`)
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

function findAssignment(r: HsmRequest, scope: string, name: string): HsmRoleAssignment | undefined {
  const a = r.plane.roleAssignments[name.toLowerCase()]
  return a && a.scope.toLowerCase() === scope.toLowerCase() ? a : undefined
}

function assignmentNotFound(name: string, r: HsmRequest): EmuResponse {
  return kvError(
    404,
    'RoleAssignmentNotFound',
    `Requested role assignment not found: ${name} (Activity ID: ${r.ctx.newGuid()})`
  )
}

export function getRoleAssignment(r: HsmRequest, rawScope: string, name: string): EmuResponse {
  const scope = normalizeScope(rawScope)
  if (!scope) return invalidScope(rawScope)
  const denied = authorize(r, DataActions.roleAssignmentsRead, scope)
  if (denied) return denied
  const a = findAssignment(r, scope, name)
  return a ? { status: 200, body: roleAssignmentBody(a) } : assignmentNotFound(name, r)
}

export function deleteRoleAssignment(r: HsmRequest, rawScope: string, name: string): EmuResponse {
  const scope = normalizeScope(rawScope)
  if (!scope) return invalidScope(rawScope)
  const denied = authorize(r, DataActions.roleAssignmentsDelete, scope)
  if (denied) return denied
  const a = findAssignment(r, scope, name)
  if (!a) return assignmentNotFound(name, r)
  delete r.plane.roleAssignments[a.name.toLowerCase()]
  return { status: 200, body: roleAssignmentBody(a) }
}

export function createRoleAssignment(r: HsmRequest, rawScope: string, name: string): EmuResponse {
  const scope = normalizeScope(rawScope)
  if (!scope) return invalidScope(rawScope)
  const denied =
    authorize(r, DataActions.roleAssignmentsWrite, scope) ??
    // Managed HSM also reads the assignments at "/" before it writes (az CLI issue 32719).
    authorize(r, DataActions.roleAssignmentsRead, '/')
  if (denied) return denied
  if (!isGuid(name)) return badParameter(`The role assignment name '${name}' is not a valid GUID.`)
  const body = parseBody(r.ctx)
  if (isResponse(body)) return body
  const props = body.properties as Record<string, unknown> | undefined
  const roleRef = props?.roleDefinitionId
  const principalId = props?.principalId
  if (typeof roleRef !== 'string' || typeof principalId !== 'string') {
    return badParameter('The properties "roleDefinitionId" and "principalId" are required.')
  }
  const role = findBuiltInRole(roleRef)
  if (!role || !/roleDefinitions\//i.test(roleRef)) {
    return kvError(
      400,
      'RoleDefinitionDoesNotExist',
      `The specified role definition with ID '${roleRef}' does not exist.`
    )
  }
  if (!isGuid(principalId))
    return badParameter(`The principal id '${principalId}' is not a valid GUID.`)
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
    return kvError(
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
    return kvError(
      409,
      'RoleAssignmentExists',
      `The role assignment already exists. The ID of the existing role assignment is ${duplicate.name.replace(/-/g, '')}.`
    )
  }
  if (!principalIsReplicated(r.ctx.world, principalId, now)) {
    return kvError(
      400,
      'PrincipalNotFound',
      `Principal ${principalId} does not exist in the directory ${r.ctx.world.tenantId}. Check that ` +
        'you have the correct principal ID. If you are creating this principal and then immediately ' +
        'assigning a role, this error might be related to a replication delay.'
    )
  }
  const assignment: HsmRoleAssignment = {
    name: name.toLowerCase(),
    ...wanted,
    createdAt: now,
    effectiveAt: now + r.ctx.delay('rbacPropagation')
  }
  r.plane.roleAssignments[assignment.name] = assignment
  return { status: 201, body: roleAssignmentBody(assignment) }
}
