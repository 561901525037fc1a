import type { HsmDataPlane, HsmKeyState, HsmRbacApi, RoleAssignment } from '../azure/api.js'
import { hsmRoles } from '../roles.js'
import { record, type Phases, type StepContext } from './context.js'
import { ensureKey } from './key.js'
import { ensureRotation } from './rotation.js'
import { Step, type StepName } from './names.js'
import type { Observation } from './observe.js'
import { firstPartyPrincipalId } from './principals.js'
import { ensureRoleAssignment, type GrantOutcome } from './role-assignment.js'

/** The identity Cosmos DB uses to reach the key while the account is created. */
export interface CreationIdentity {
  kind: 'first-party' | 'user-assigned'
  /** Whether the account still needs that identity's grant (a system-assigned account only until it exists). */
  needsGrant: boolean
  userAssigned?: { id: string; principalId?: string }
}

export interface KeyAccess {
  /** Undefined in plan mode when the key would be created or cannot be read yet. */
  key?: HsmKeyState
  /** The principal the creation grant went to, once known. */
  creationPrincipal?: string
  /** Assignments made or found: the admin's and the creation identity's. */
  assignments: RoleAssignment[]
}

/** The HSM-local scope of the key grants (`role-scope`). */
export function keyScopeOf(ctx: StepContext): string {
  return ctx.inputs.roleScope === 'key' ? `/keys/${ctx.inputs.key.name}` : '/keys'
}

/**
 * The signed-in principal's grant, then the key, while the creation identity's grant runs side
 * by side: a grant at /keys/<name> does not need the key to exist, so both propagation waits
 * overlap.
 */
export async function ensureKeyAccess(
  ctx: StepContext,
  { step }: Phases,
  plane: HsmDataPlane | undefined,
  seen: Observation,
  creation: CreationIdentity
): Promise<KeyAccess> {
  const adminThenKey = async () => {
    const admin = await step(Step.AdminGrant, () => ensureAdminGrant(ctx, plane, seen))
    const key = await step(Step.Key, () => ensureKeyOn(ctx, plane, seen))
    return { admin, key }
  }
  const [{ admin, key }, cosmos] = await Promise.all([
    adminThenKey(),
    step(Step.CosmosGrant, () => ensureCreationGrant(ctx, plane, creation))
  ])
  const assignments = [admin?.assignment, cosmos.grant?.assignment].filter(
    (a): a is RoleAssignment => !!a
  )
  return { key, creationPrincipal: cosmos.principalId, assignments }
}

function ensureAdminGrant(
  ctx: StepContext,
  plane: HsmDataPlane | undefined,
  seen: Observation
): Promise<GrantOutcome | undefined> {
  const role = hsmRoles.cryptoUser
  if (!plane) {
    notReadable(ctx, Step.AdminGrant, `assign '${role.name}' at /keys to ${ctx.principal.objectId}`)
    return Promise.resolve(undefined)
  }
  return ensureRoleAssignment(
    ctx,
    plane.rbac,
    {
      step: Step.AdminGrant,
      role,
      scope: '/keys',
      principalId: ctx.principal.objectId,
      principalLabel: 'the signed-in principal',
      mayBeNew: false
    },
    seen.adminGrants
  )
}

async function ensureKeyOn(
  ctx: StepContext,
  plane: HsmDataPlane | undefined,
  seen: Observation
): Promise<HsmKeyState | undefined> {
  const { name, size } = ctx.inputs.key
  if (!plane) {
    notReadable(ctx, Step.Key, `create RSA-HSM ${size} '${name}' if absent`)
    return undefined
  }
  const key = await ensureKey(ctx, plane, seen.key)
  return key && ensureRotation(ctx, plane.keys, key)
}

async function ensureCreationGrant(
  ctx: StepContext,
  plane: HsmDataPlane | undefined,
  creation: CreationIdentity
): Promise<{ principalId?: string; grant?: GrantOutcome }> {
  if (!creation.needsGrant) return {}
  const firstParty = creation.kind === 'first-party'
  const principalId = firstParty
    ? await firstPartyPrincipalId(ctx)
    : creation.userAssigned?.principalId
  const label = firstParty
    ? 'the Azure Cosmos DB service principal'
    : `user-assigned identity ${creation.userAssigned?.id}`
  const role = hsmRoles.cryptoServiceEncryptionUser
  const scope = keyScopeOf(ctx)
  if (!plane || !principalId) {
    notReadable(ctx, Step.CosmosGrant, `assign '${role.name}' at ${scope} to ${label}`)
    return { principalId }
  }
  const grant = await ensureRoleAssignment(ctx, plane.rbac, {
    step: Step.CosmosGrant,
    role,
    scope,
    principalId,
    principalLabel: label,
    // A user-assigned identity may have been created just before the run.
    mayBeNew: !firstParty,
    principalInput: firstParty
      ? ctx.inputs.identity.cosmosPrincipalId && 'cosmos-principal-id'
      : 'user-assigned-identity'
  })
  return { principalId, grant }
}

/** Grants an account's system-assigned identity the key (waiting for it to replicate). */
export function ensureSystemGrant(
  ctx: StepContext,
  rbac: HsmRbacApi,
  principalId: string
): Promise<GrantOutcome> {
  return ensureRoleAssignment(ctx, rbac, {
    step: Step.SystemGrant,
    role: hsmRoles.cryptoServiceEncryptionUser,
    scope: keyScopeOf(ctx),
    principalId,
    principalLabel: "the account's system-assigned identity",
    mayBeNew: true
  })
}

/** The plan row of a step whose state cannot be read before the HSM exists and is active. */
function notReadable(ctx: StepContext, step: StepName, action: string): void {
  record(ctx, {
    step,
    observed: 'not readable until the HSM exists and is active',
    action,
    result: 'would-change'
  })
}
