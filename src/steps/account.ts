import type { CosmosAccountState, HsmRbacApi } from '../azure/api.js'
import { ActionError, describeError, mentions, statusOf } from '../errors.js'
import type { Api } from '../inputs.js'
import { hsmRoles } from '../roles.js'
import { record, retryIn, waitIn, withHeartbeat, type StepContext } from './context.js'
import { ensureRoleAssignment, type GrantOutcome } from './roleAssignments.js'

const ACCOUNT = 'Cosmos DB account'

export function isKeyAccessPending(error: unknown): boolean {
  return mentions(error, 'KeyVaultAuthenticationFailure')
}

/**
 * Another operation holds the account's lock: a parallel run's, or an earlier attempt of this run
 * that was cut off but went through (Cosmos DB answers 412 PreconditionFailed).
 */
export function isOperationInProgress(error: unknown): boolean {
  return (
    statusOf(error) === 412 || (statusOf(error) === 409 && mentions(error, 'operation in progress'))
  )
}

const inProgress = 'another operation on the account is in progress'

export function kindAndCapabilities(api: Api): {
  kind: 'GlobalDocumentDB' | 'MongoDB'
  capabilities: string[]
} {
  switch (api) {
    case 'nosql':
      return { kind: 'GlobalDocumentDB', capabilities: [] }
    case 'mongodb':
      return { kind: 'MongoDB', capabilities: [] }
    case 'cassandra':
      return { kind: 'GlobalDocumentDB', capabilities: ['EnableCassandra'] }
    case 'gremlin':
      return { kind: 'GlobalDocumentDB', capabilities: ['EnableGremlin'] }
    case 'table':
      return { kind: 'GlobalDocumentDB', capabilities: ['EnableTable'] }
  }
}

export function sameIdentity(a: string | undefined, b: string): boolean {
  return (a ?? '').trim().toLowerCase() === b.trim().toLowerCase()
}

function describeAccount(account: CosmosAccountState): string {
  return `${account.provisioningState ?? '?'}, key ${account.keyVaultKeyUri ?? 'none'}, default identity ${account.defaultIdentity ?? 'none'}`
}

const keyAccessHint =
  'The identity was granted the key a while ago but Azure Cosmos DB still cannot use it: check the HSM ' +
  "role assignment ('Managed HSM Crypto Service Encryption User' for that principal) and that the key is enabled."

/**
 * Creates the account with the customer-managed key (retrying while the identity cannot reach the
 * key yet), or checks and waits for an existing one. The key itself was checked by preflight().
 */
export async function ensureAccount(
  ctx: StepContext,
  observed: CosmosAccountState | undefined,
  create: {
    keyVaultKeyUri: string
    defaultIdentity: string
    userAssignedIdentityId?: string
    /** Create the system-assigned identity with the account (its default identity stays `defaultIdentity`). */
    systemAssigned?: boolean
    /** Learns the system-assigned principal as soon as the creation is accepted. */
    systemPrincipalCreated?: (principalId: string) => void
  }
): Promise<CosmosAccountState | undefined> {
  const { inputs, apis } = ctx
  const { name } = inputs.account
  const rg = inputs.resourceGroup
  if (observed) {
    let account = observed
    if (!ctx.plan && !/^succeeded$/i.test(account.provisioningState ?? 'Succeeded')) {
      account = await waitUntilSucceeded(ctx, account)
    }
    record(ctx, { step: ACCOUNT, observed: describeAccount(account), action: 'none', result: 'ok' })
    return account
  }

  const { kind, capabilities } = kindAndCapabilities(inputs.account.api)
  const action =
    `create ${inputs.account.api} (${kind}${capabilities.length ? ` + ${capabilities.join(', ')}` : ''}) in ` +
    `${inputs.account.locations.join(', ')} with key ${create.keyVaultKeyUri} and default identity ${create.defaultIdentity}` +
    (create.systemAssigned ? ', system-assigned identity enabled' : '')
  if (ctx.plan) {
    record(ctx, { step: ACCOUNT, observed: 'absent', action, result: 'would-change' })
    return undefined
  }
  let account: CosmosAccountState
  // A PUT on an existing account would update it: look again before trying again, unless the
  // last attempt was refused outright (then nothing was created).
  let lookFirst = false
  try {
    account = await retryIn(
      ctx,
      async () => {
        const appeared = lookFirst ? await apis.cosmos.get(rg, name) : undefined
        if (appeared) return waitUntilSucceeded(ctx, appeared)
        lookFirst = true
        return withHeartbeat(
          ctx,
          `creation of Cosmos DB account '${name}'`,
          apis.cosmos.create(
            rg,
            name,
            {
              location: inputs.account.locations[0],
              kind,
              capabilities,
              locations: inputs.account.locations,
              keyVaultKeyUri: create.keyVaultKeyUri,
              defaultIdentity: create.defaultIdentity,
              userAssignedIdentityId: create.userAssignedIdentityId,
              systemAssigned: create.systemAssigned,
              tags: ctx.tags
            },
            answer => {
              if (answer.systemPrincipalId)
                create.systemPrincipalCreated?.(answer.systemPrincipalId)
            }
          )
        )
      },
      error => {
        if (isKeyAccessPending(error)) {
          lookFirst = !isRefusal(error)
          return 'the identity cannot use the key yet (KeyVaultAuthenticationFailure)'
        }
        return isOperationInProgress(error) ? inProgress : undefined
      },
      {
        what: `Azure Cosmos DB to accept key ${create.keyVaultKeyUri} for ${create.defaultIdentity}`,
        timeoutMs: ctx.waits.keyAccessMs,
        hint: keyAccessHint
      }
    )
  } catch (error) {
    // A concurrent run may be creating the same account: read back before failing.
    const again = statusOf(error) === 409 ? await apis.cosmos.get(rg, name) : undefined
    if (!again)
      throw new ActionError(`Creating Cosmos DB account '${name}' failed: ${describeError(error)}`)
    account = /^succeeded$/i.test(again.provisioningState ?? 'Succeeded')
      ? again
      : await waitUntilSucceeded(ctx, again)
  }
  record(ctx, { step: ACCOUNT, observed: 'absent', action, result: 'changed' })
  return account
}

/** The write was refused before anything changed (as opposed to an operation that failed later). */
function isRefusal(error: unknown): boolean {
  const status = statusOf(error)
  return status !== undefined && status >= 400 && status < 500
}

async function waitUntilSucceeded(
  ctx: StepContext,
  account: CosmosAccountState
): Promise<CosmosAccountState> {
  if (/^succeeded$/i.test(account.provisioningState ?? 'Succeeded')) return account
  const { name } = ctx.inputs.account
  const rg = ctx.inputs.resourceGroup
  return waitIn(ctx, {
    what: `Cosmos DB account '${name}' to finish ${account.provisioningState ?? 'provisioning'}`,
    timeoutMs: ctx.waits.accountProvisioningMs,
    hint: `Check: az cosmosdb show --name ${name} --resource-group ${rg} --query provisioningState`,
    poll: async () => {
      const current = await ctx.apis.cosmos.get(rg, name)
      if (!current)
        throw new ActionError(`Cosmos DB account '${name}' disappeared while being provisioned.`)
      if (/^succeeded$/i.test(current.provisioningState ?? 'Succeeded'))
        return { done: true, value: current }
      if (/^failed$/i.test(current.provisioningState ?? '')) {
        throw new ActionError(`Cosmos DB account '${name}' is in provisioning state Failed.`)
      }
      return { done: false, status: `provisioningState ${current.provisioningState}` }
    }
  })
}

function hasSystemAssigned(account: CosmosAccountState): boolean {
  return /systemassigned/i.test(account.identity.type)
}

function userAssignedIds(account: CosmosAccountState): string[] {
  return Object.keys(account.identity.userAssignedIdentities)
}

/** Adds a user-assigned identity to an existing account (kept apart from any default identity change). */
export async function ensureUserAssignedAttached(
  ctx: StepContext,
  account: CosmosAccountState,
  identityId: string
): Promise<CosmosAccountState> {
  const step = 'Account identity'
  const ids = userAssignedIds(account)
  if (ids.some(id => id.toLowerCase() === identityId.toLowerCase())) return account
  const type = hasSystemAssigned(account) ? 'SystemAssigned,UserAssigned' : 'UserAssigned'
  const action = `attach user-assigned identity ${identityId}`
  if (ctx.plan) {
    record(ctx, {
      step,
      observed: `identity ${account.identity.type}`,
      action,
      result: 'would-change'
    })
    return account
  }
  const attached = (a: CosmosAccountState) =>
    userAssignedIds(a).some(id => id.toLowerCase() === identityId.toLowerCase())
  const updated = await updateWhenFree(ctx, account.name, attached, () =>
    withHeartbeat(
      ctx,
      `identity update of Cosmos DB account '${account.name}'`,
      ctx.apis.cosmos.update(ctx.inputs.resourceGroup, account.name, {
        identity: { type, userAssignedIdentityIds: [...ids, identityId] }
      })
    )
  )
  record(ctx, { step, observed: `identity ${account.identity.type}`, action, result: 'changed' })
  return updated
}

/**
 * One account update, repeated while another operation holds the account's lock. Before each
 * repetition the account is read again, and the update is skipped when `applied` says the change
 * is there already (made by a parallel run, or by an attempt of ours whose answer was lost).
 */
async function updateWhenFree(
  ctx: StepContext,
  name: string,
  applied: (account: CosmosAccountState) => boolean,
  update: () => Promise<CosmosAccountState>
): Promise<CosmosAccountState> {
  let attempted = false
  return retryIn(
    ctx,
    async () => {
      if (attempted) {
        const current = await ctx.apis.cosmos.get(ctx.inputs.resourceGroup, name)
        if (current && applied(current)) return current
      }
      attempted = true
      return update()
    },
    error => (isOperationInProgress(error) ? inProgress : undefined),
    {
      what: `Cosmos DB account '${name}' to accept an update`,
      timeoutMs: ctx.waits.accountProvisioningMs,
      hint: `Check what else changes the account: az cosmosdb show --name ${name} --resource-group ${ctx.inputs.resourceGroup}`
    }
  )
}

class NotYetApplied extends Error {}

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
  const step = 'Default identity'
  const observed = account.defaultIdentity ?? 'none'
  if (sameIdentity(account.defaultIdentity, desired)) {
    record(ctx, { step, observed, action: 'none', result: 'ok' })
    return account
  }
  const action = `set to ${desired}`
  if (ctx.plan) {
    record(ctx, { step, observed, action, result: 'would-change' })
    return account
  }
  const rg = ctx.inputs.resourceGroup
  // Before a repetition the account is read again (the change may have landed after all), unless
  // the last attempt was refused outright or has just been read back.
  let lookFirst = false
  const verified = await retryIn(
    ctx,
    async () => {
      if (lookFirst) {
        const current = await ctx.apis.cosmos.get(rg, account.name)
        if (current && sameIdentity(current.defaultIdentity, desired)) return current
      }
      lookFirst = true
      const updated = await withHeartbeat(
        ctx,
        `default identity update of Cosmos DB account '${account.name}'`,
        ctx.apis.cosmos.update(rg, account.name, { defaultIdentity: desired })
      )
      // The operation's final answer is a read of the account once the update ended.
      const readBack = sameIdentity(updated.defaultIdentity, desired)
        ? updated
        : await ctx.apis.cosmos.get(rg, account.name)
      if (!readBack || !sameIdentity(readBack.defaultIdentity, desired)) {
        lookFirst = false
        throw new NotYetApplied(readBack?.defaultIdentity ?? 'none')
      }
      return readBack
    },
    error => {
      if (error instanceof NotYetApplied) return `the account still reports ${error.message}`
      if (isKeyAccessPending(error)) {
        lookFirst = !isRefusal(error)
        return 'the identity cannot use the key yet (KeyVaultAuthenticationFailure)'
      }
      return isOperationInProgress(error) ? inProgress : undefined
    },
    {
      what: `Cosmos DB account '${account.name}' to use ${desired}`,
      timeoutMs: ctx.waits.keyAccessMs,
      hint: keyAccessHint
    }
  )
  record(ctx, { step, observed, action, result: 'changed' })
  return verified
}

/** Grants the account's system-assigned identity the key (waiting for it to replicate). */
export function grantSystemIdentity(
  ctx: StepContext,
  rbac: HsmRbacApi,
  scope: string,
  principalId: string
): Promise<GrantOutcome> {
  return ensureRoleAssignment(ctx, rbac, {
    step: 'System identity key access',
    role: hsmRoles.cryptoServiceEncryptionUser,
    scope,
    principalId,
    principalLabel: "the account's system-assigned identity"
  })
}

export interface SystemAssignedOutcome {
  account: CosmosAccountState
  principalId?: string
  grant?: GrantOutcome
  /** Whether the account now reads back SystemAssignedIdentity. */
  verified: boolean
}

/**
 * Switches an account to its system-assigned identity: enables it (keeping user-assigned ones),
 * grants it the key, then sets the default identity in a separate update and reads it back.
 */
export async function ensureSystemAssigned(
  ctx: StepContext,
  account: CosmosAccountState,
  rbac: HsmRbacApi | undefined,
  scope: string,
  /** The grant, when it was started already (while the account was being created). */
  early?: { principalId: string; grant: Promise<GrantOutcome> }
): Promise<SystemAssignedOutcome> {
  const step = 'System-assigned identity'
  let current = account
  if (!hasSystemAssigned(current) || !current.identity.principalId) {
    const ids = userAssignedIds(current)
    const type = ids.length ? 'SystemAssigned,UserAssigned' : 'SystemAssigned'
    const action = `enable (identity type ${type})`
    if (ctx.plan) {
      record(ctx, {
        step,
        observed: `identity ${current.identity.type}`,
        action,
        result: 'would-change'
      })
      record(ctx, {
        step: 'System identity key access',
        observed: 'principal not created yet',
        action: `assign '${hsmRoles.cryptoServiceEncryptionUser.name}' at ${scope}`,
        result: 'would-change'
      })
      record(ctx, {
        step: 'Default identity',
        observed: current.defaultIdentity ?? 'none',
        action: 'set to SystemAssignedIdentity',
        result: 'would-change'
      })
      return { account: current, verified: false }
    }
    const before = current.identity.type
    const name = current.name
    current = await updateWhenFree(
      ctx,
      name,
      a => hasSystemAssigned(a) && !!a.identity.principalId,
      () =>
        withHeartbeat(
          ctx,
          `enabling the system-assigned identity of Cosmos DB account '${name}'`,
          ctx.apis.cosmos.update(ctx.inputs.resourceGroup, name, {
            identity: { type, userAssignedIdentityIds: ids }
          })
        )
    )
    if (!current.identity.principalId) {
      current = (await ctx.apis.cosmos.get(ctx.inputs.resourceGroup, current.name)) ?? current
    }
    if (!current.identity.principalId) {
      throw new ActionError(
        `Cosmos DB account '${current.name}' reports no system-assigned principal after enabling it.`
      )
    }
    record(ctx, {
      step,
      observed: `identity ${before}`,
      action: `${action}: principal ${current.identity.principalId}`,
      result: 'changed'
    })
  } else {
    record(ctx, {
      step,
      observed: `enabled, principal ${current.identity.principalId}`,
      action: 'none',
      result: 'ok'
    })
  }
  const principalId = current.identity.principalId as string
  let grant: GrantOutcome | undefined
  if (early && early.principalId.toLowerCase() === principalId.toLowerCase()) {
    grant = await early.grant
  } else if (rbac) {
    grant = await grantSystemIdentity(ctx, rbac, scope, principalId)
  }
  if (ctx.plan && !grant?.assignment) {
    record(ctx, {
      step: 'Default identity',
      observed: current.defaultIdentity ?? 'none',
      action: 'set to SystemAssignedIdentity',
      result: sameIdentity(current.defaultIdentity, 'SystemAssignedIdentity')
        ? 'ok'
        : 'would-change'
    })
    return { account: current, principalId, grant, verified: false }
  }
  current = await ensureDefaultIdentity(ctx, current, 'SystemAssignedIdentity')
  return {
    account: current,
    principalId,
    grant,
    verified: sameIdentity(current.defaultIdentity, 'SystemAssignedIdentity')
  }
}
