import type { CosmosAccountPatch, CosmosAccountState } from '../azure/api.js'
import { isKeyAccessPending, isOperationInProgress } from '../errors.js'
import {
  hasSystemAssigned,
  hasUserAssigned,
  sameIdentity,
  userAssignedIds
} from './account-state.js'
import { inProgress, keyAccessHint, keyAccessPending } from './account.js'
import { record, withHeartbeat, type StepContext } from './context.js'
import { Step } from './names.js'
import { NotYetVisible, writeOnce } from './write-once.js'

/** Adds a user-assigned identity to an existing account (kept apart from any default identity change). */
export async function ensureUserAssignedAttached(
  ctx: StepContext,
  account: CosmosAccountState,
  identityId: string
): Promise<CosmosAccountState> {
  if (hasUserAssigned(account, identityId)) return account
  const type = hasSystemAssigned(account) ? 'SystemAssigned,UserAssigned' : 'UserAssigned'
  const observed = `identity ${account.identity.type}`
  const action = `attach user-assigned identity ${identityId}`
  if (ctx.plan) {
    record(ctx, { step: Step.AccountIdentity, observed, action, result: 'would-change' })
    return account
  }
  const updated = await updateAccount(
    ctx,
    account.name,
    `identity update of Cosmos DB account '${account.name}'`,
    { identity: { type, userAssignedIdentityIds: [...userAssignedIds(account), identityId] } },
    a => hasUserAssigned(a, identityId)
  )
  record(ctx, { step: Step.AccountIdentity, observed, action, result: 'changed' })
  return updated
}

/**
 * One account update, repeated while another operation holds the account's lock. Before each
 * repetition the account is read again, and the update is skipped when `applied` says the change
 * is there already (made by a parallel run, or by an attempt of ours whose answer was lost).
 */
export function updateAccount(
  ctx: StepContext,
  name: string,
  what: string,
  patch: CosmosAccountPatch,
  applied: (account: CosmosAccountState) => boolean
): Promise<CosmosAccountState> {
  const rg = ctx.inputs.resourceGroup
  return writeOnce(ctx, {
    what: `Cosmos DB account '${name}' to accept an update`,
    timeoutMs: ctx.waits.accountProvisioningMs,
    hint: `Check what else changes the account: az cosmosdb show --name ${name} --resource-group ${rg}`,
    landed: async () => {
      const current = await ctx.apis.cosmos.get(rg, name)
      return current && applied(current) ? current : undefined
    },
    write: () => withHeartbeat(ctx, what, ctx.apis.cosmos.update(rg, name, patch)),
    retryable: error => (isOperationInProgress(error) ? inProgress : undefined)
  })
}

/**
 * Sets the account's default identity in an update of its own (changing it together with the
 * identity can be ignored silently by the service), retried while the identity cannot reach the
 * key yet, and read back until the account reports it.
 */
export async function ensureDefaultIdentity(
  ctx: StepContext,
  account: CosmosAccountState,
  desired: string
): Promise<CosmosAccountState> {
  const observed = account.defaultIdentity ?? 'none'
  if (sameIdentity(account.defaultIdentity, desired)) {
    record(ctx, { step: Step.DefaultIdentity, observed, action: 'none', result: 'ok' })
    return account
  }
  const action = `set to ${desired}`
  if (ctx.plan) {
    record(ctx, { step: Step.DefaultIdentity, observed, action, result: 'would-change' })
    return account
  }
  const rg = ctx.inputs.resourceGroup
  const readIfSet = async () => {
    const current = await ctx.apis.cosmos.get(rg, account.name)
    return current && sameIdentity(current.defaultIdentity, desired) ? current : undefined
  }
  const verified = await writeOnce(ctx, {
    what: `Cosmos DB account '${account.name}' to use ${desired}`,
    timeoutMs: ctx.waits.keyAccessMs,
    hint: keyAccessHint,
    landed: readIfSet,
    write: async () => {
      const updated = await withHeartbeat(
        ctx,
        `default identity update of Cosmos DB account '${account.name}'`,
        ctx.apis.cosmos.update(rg, account.name, { defaultIdentity: desired })
      )
      // The operation's final answer is a read of the account once the update ended.
      if (sameIdentity(updated.defaultIdentity, desired)) return updated
      const readBack = await readIfSet()
      if (!readBack) throw new NotYetVisible(updated.defaultIdentity ?? 'none')
      return readBack
    },
    retryable: error => {
      if (error instanceof NotYetVisible) return `the account still reports ${error.observed}`
      if (isKeyAccessPending(error)) return keyAccessPending
      return isOperationInProgress(error) ? inProgress : undefined
    }
  })
  record(ctx, { step: Step.DefaultIdentity, observed, action, result: 'changed' })
  return verified
}
