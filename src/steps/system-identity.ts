import type { CosmosAccountState, HsmRbacApi } from '../azure/api.js'
import { ActionError } from '../errors.js'
import { hsmRoles } from '../roles.js'
import { hasSystemAssigned, sameIdentity, userAssignedIds } from './account-state.js'
import { record, type StepContext } from './context.js'
import { ensureSystemGrant, keyScopeOf } from './grants.js'
import { ensureDefaultIdentity, updateAccount } from './identity.js'
import { Step } from './names.js'
import type { GrantOutcome } from './role-assignment.js'

const SYSTEM_ASSIGNED = 'SystemAssignedIdentity'

export interface SystemAssignedOutcome {
  account: CosmosAccountState
  principalId?: string
  grant?: GrantOutcome
  /** Whether the account now reads back SystemAssignedIdentity. */
  verified: boolean
}

/**
 * The system-assigned identity exists once its account's creation is accepted: its grant starts
 * then, while the creation runs, and the switch joins it later.
 */
export class EarlySystemGrant {
  private started?: { principalId: string; grant: Promise<GrantOutcome> }

  constructor(
    private readonly ctx: StepContext,
    private readonly rbac: HsmRbacApi | undefined,
    private readonly attribute: (work: () => Promise<GrantOutcome>) => Promise<GrantOutcome>
  ) {}

  /** Starts the grant for the principal the creation reported (once). */
  readonly created = (principalId: string): void => {
    if (this.started || !this.rbac) return
    const rbac = this.rbac
    const grant = this.attribute(() => ensureSystemGrant(this.ctx, rbac, principalId))
    grant.catch(() => {})
    this.started = { principalId, grant }
  }

  /** The grant started for this principal, if any. */
  for(principalId: string): Promise<GrantOutcome> | undefined {
    const started = this.started
    return started && started.principalId.toLowerCase() === principalId.toLowerCase()
      ? started.grant
      : undefined
  }
}

/** The plan rows of an account that does not exist yet. */
export function planSystemAssigned(ctx: StepContext): void {
  record(ctx, {
    step: Step.SystemIdentity,
    observed: 'account not created yet',
    action: `enable, assign '${hsmRoles.cryptoServiceEncryptionUser.name}' at ${keyScopeOf(ctx)}, set default identity ${SYSTEM_ASSIGNED}`,
    result: 'would-change'
  })
}

/**
 * Switches an account to its system-assigned identity: enables it (keeping user-assigned ones),
 * grants it the key, then sets the default identity in a separate update and reads it back.
 */
export async function ensureSystemAssigned(
  ctx: StepContext,
  account: CosmosAccountState,
  rbac: HsmRbacApi | undefined,
  early?: EarlySystemGrant
): Promise<SystemAssignedOutcome> {
  const enabled = await ensureEnabled(ctx, account)
  if (!enabled) return { account, verified: false }
  const principalId = enabled.identity.principalId as string
  const started = early?.for(principalId)
  const grant = started
    ? await started
    : rbac
      ? await ensureSystemGrant(ctx, rbac, principalId)
      : undefined
  if (ctx.plan && !grant?.assignment) {
    const already = sameIdentity(enabled.defaultIdentity, SYSTEM_ASSIGNED)
    record(ctx, {
      step: Step.DefaultIdentity,
      observed: enabled.defaultIdentity ?? 'none',
      action: already ? 'none' : `set to ${SYSTEM_ASSIGNED}`,
      result: already ? 'ok' : 'would-change'
    })
    return { account: enabled, principalId, grant, verified: false }
  }
  const current = await ensureDefaultIdentity(ctx, enabled, SYSTEM_ASSIGNED)
  return {
    account: current,
    principalId,
    grant,
    verified: sameIdentity(current.defaultIdentity, SYSTEM_ASSIGNED)
  }
}

/** The account with its system-assigned identity on; undefined in plan mode when it would be enabled. */
async function ensureEnabled(
  ctx: StepContext,
  account: CosmosAccountState
): Promise<CosmosAccountState | undefined> {
  if (hasSystemAssigned(account) && account.identity.principalId) {
    record(ctx, {
      step: Step.SystemIdentity,
      observed: `enabled, principal ${account.identity.principalId}`,
      action: 'none',
      result: 'ok'
    })
    return account
  }
  const ids = userAssignedIds(account)
  const type = ids.length ? 'SystemAssigned,UserAssigned' : 'SystemAssigned'
  const action = `enable (identity type ${type})`
  const observed = `identity ${account.identity.type}`
  if (ctx.plan) {
    record(ctx, { step: Step.SystemIdentity, observed, action, result: 'would-change' })
    record(ctx, {
      step: Step.SystemGrant,
      observed: 'principal not created yet',
      action: `assign '${hsmRoles.cryptoServiceEncryptionUser.name}' at ${keyScopeOf(ctx)}`,
      result: 'would-change'
    })
    record(ctx, {
      step: Step.DefaultIdentity,
      observed: account.defaultIdentity ?? 'none',
      action: `set to ${SYSTEM_ASSIGNED}`,
      result: 'would-change'
    })
    return undefined
  }
  const name = account.name
  let current = await updateAccount(
    ctx,
    name,
    `enabling the system-assigned identity of Cosmos DB account '${name}'`,
    { identity: { type, userAssignedIdentityIds: ids } },
    a => hasSystemAssigned(a) && !!a.identity.principalId
  )
  if (!current.identity.principalId) {
    current = (await ctx.apis.cosmos.get(ctx.inputs.resourceGroup, name)) ?? current
  }
  if (!current.identity.principalId) {
    throw new ActionError(
      `Cosmos DB account '${name}' reports no system-assigned principal after enabling it.`
    )
  }
  record(ctx, {
    step: Step.SystemIdentity,
    observed,
    action: `${action}: principal ${current.identity.principalId}`,
    result: 'changed'
  })
  return current
}
