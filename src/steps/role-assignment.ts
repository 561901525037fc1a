import type { HsmRbacApi, RoleAssignment } from '../azure/api.js'
import { ActionError, describeError, isConflict, isPrincipalNotFound, statusOf } from '../errors.js'
import {
  normaliseScope,
  roleAssignmentName,
  roleDefinitionId,
  roleGuidOf,
  scopeCovers,
  type HsmRole
} from '../roles.js'
import { record, type StepContext } from './context.js'
import type { StepName } from './names.js'
import { writeOnce } from './write-once.js'

export interface RoleGrant {
  step: StepName
  role: HsmRole
  scope: string
  principalId: string
  /** e.g. "the signed-in principal", "the Azure Cosmos DB service principal". */
  principalLabel: string
  /**
   * Whether the principal may be too new for the directory (an identity just created): only then
   * is PrincipalNotFound waited out; otherwise it fails at once, naming `principalInput`.
   */
  mayBeNew: boolean
  /** The input the principal id came from, if any. */
  principalInput?: string
}

export interface GrantOutcome {
  /** Undefined in plan mode when it would be created. */
  assignment?: RoleAssignment
  /** The deterministic name this action uses for the grant. */
  name: string
  created: boolean
}

function findGrant(assignments: RoleAssignment[], grant: RoleGrant): RoleAssignment | undefined {
  const principal = grant.principalId.toLowerCase()
  return assignments.find(
    a =>
      a.principalId.toLowerCase() === principal &&
      roleGuidOf(a.roleDefinitionId) === grant.role.id &&
      scopeCovers(a.scope, grant.scope)
  )
}

/**
 * Observes the principal's assignments at the scope and creates the grant only when none covers
 * it, under a deterministic name. A principal the directory does not know yet is waited for; an
 * assignment created concurrently (409) is read back.
 */
export async function ensureRoleAssignment(
  ctx: StepContext,
  rbac: HsmRbacApi,
  grant: RoleGrant,
  /** The principal's assignments at the scope, when observed already. */
  observed?: RoleAssignment[]
): Promise<GrantOutcome> {
  const scope = normaliseScope(grant.scope)
  const name = roleAssignmentName(ctx.inputs.hsm.name, scope, grant.role.id, grant.principalId)
  const what = `'${grant.role.name}' at ${scope} for ${grant.principalLabel} ${grant.principalId}`

  let existing: RoleAssignment | undefined
  try {
    existing = findGrant(observed ?? (await rbac.listForPrincipal(scope, grant.principalId)), grant)
  } catch (error) {
    throw forbiddenHelp(ctx, error, 'read role assignments')
  }
  if (existing) {
    record(ctx, {
      step: grant.step,
      observed: `${what} present (${existing.name} at ${existing.scope})`,
      action: 'none',
      result: 'ok'
    })
    return { assignment: existing, name, created: false }
  }
  if (ctx.plan) {
    record(ctx, {
      step: grant.step,
      observed: `${what} absent`,
      action: `assign as ${name}`,
      result: 'would-change'
    })
    return { name, created: false }
  }

  let assignment: RoleAssignment
  try {
    assignment = await writeOnce(ctx, {
      what: `${grant.principalLabel} ${grant.principalId} to be known to the directory`,
      timeoutMs: ctx.waits.principalReplicationMs,
      hint: 'A new identity can take minutes to replicate; check that the principal id is right.',
      landed: () => rbac.get(scope, name),
      write: () => rbac.create(scope, name, roleDefinitionId(grant.role), grant.principalId),
      retryable: error =>
        isPrincipalNotFound(error) && grant.mayBeNew
          ? 'the directory does not know the principal yet'
          : undefined
    })
  } catch (error) {
    if (isPrincipalNotFound(error)) {
      const source = grant.principalInput ? ` (input '${grant.principalInput}')` : ''
      throw new ActionError(
        `The directory does not know ${grant.principalLabel} ${grant.principalId}${source}, so it cannot be ` +
          `assigned '${grant.role.name}' at ${scope}: check that this is the principal's object id (${describeError(error)}).`
      )
    }
    if (!isConflict(error)) throw forbiddenHelp(ctx, error, 'create role assignments')
    const readBack =
      (await rbac.get(scope, name)) ??
      findGrant(await rbac.listForPrincipal(scope, grant.principalId), grant)
    if (!readBack) {
      throw new ActionError(
        `Assigning ${what} conflicted with an assignment that cannot be found: ${describeError(error)}`
      )
    }
    assignment = readBack
  }
  record(ctx, {
    step: grant.step,
    observed: `${what} absent`,
    action: `assigned as ${name}`,
    result: 'changed'
  })
  return { assignment, name, created: true }
}

function forbiddenHelp(ctx: StepContext, error: unknown, what: string): unknown {
  if (statusOf(error) !== 403) return error
  const { name } = ctx.inputs.hsm
  return new ActionError(
    `The signed-in principal ${ctx.principal.objectId} may not ${what} on Managed HSM '${name}' ` +
      `(${describeError(error)}). It needs 'Managed HSM Administrator' at '/': ask an HSM administrator to run ` +
      `az keyvault role assignment create --hsm-name ${name} --role "Managed HSM Administrator" ` +
      `--assignee-object-id ${ctx.principal.objectId} --scope /`
  )
}
