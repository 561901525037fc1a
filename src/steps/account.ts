import type { CosmosAccountState } from '../azure/api.js'
import {
  ActionError,
  describeError,
  isKeyAccessPending,
  isOperationInProgress,
  statusOf
} from '../errors.js'
import type { Api } from '../inputs/settings.js'
import { describeAccount, isSucceeded } from './account-state.js'
import { record, waitIn, withHeartbeat, type StepContext } from './context.js'
import { Step } from './names.js'
import { writeOnce } from './write-once.js'

export const inProgress = 'another operation on the account is in progress'

export const keyAccessPending =
  'the identity cannot use the key yet (KeyVaultAuthenticationFailure)'

export const keyAccessHint =
  'The identity was granted the key a while ago but Azure Cosmos DB still cannot use it: check the HSM ' +
  "role assignment ('Managed HSM Crypto Service Encryption User' for that principal) and that the key is enabled."

function kindAndCapabilities(api: Api): {
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

export interface AccountCreation {
  keyVaultKeyUri: string
  defaultIdentity: string
  userAssignedIdentityId?: string
  /** Create the system-assigned identity with the account (its default identity stays `defaultIdentity`). */
  systemAssigned?: boolean
  /** Learns the system-assigned principal as soon as the creation is accepted. */
  systemPrincipalCreated?: (principalId: string) => void
}

/**
 * Creates the account with the customer-managed key (retrying while the identity cannot reach the
 * key yet), or checks and waits for an existing one. The key itself was checked by preflight().
 */
export async function ensureAccount(
  ctx: StepContext,
  observed: CosmosAccountState | undefined,
  create: AccountCreation
): Promise<CosmosAccountState | undefined> {
  const { inputs, apis } = ctx
  const { name } = inputs.account
  const rg = inputs.resourceGroup
  if (observed) {
    const account = ctx.plan ? observed : await waitUntilSucceeded(ctx, observed)
    record(ctx, {
      step: Step.Account,
      observed: describeAccount(account),
      action: 'none',
      result: 'ok'
    })
    return account
  }

  const { kind, capabilities } = kindAndCapabilities(inputs.account.api)
  const action =
    `create ${inputs.account.api} (${kind}${capabilities.length ? ` + ${capabilities.join(', ')}` : ''}) in ` +
    `${inputs.account.locations.join(', ')} with key ${create.keyVaultKeyUri} and default identity ${create.defaultIdentity}` +
    (create.systemAssigned ? ', system-assigned identity enabled' : '')
  if (ctx.plan) {
    record(ctx, { step: Step.Account, observed: 'absent', action, result: 'would-change' })
    return undefined
  }
  let account: CosmosAccountState
  try {
    account = await writeOnce(ctx, {
      what: `Azure Cosmos DB to accept key ${create.keyVaultKeyUri} for ${create.defaultIdentity}`,
      timeoutMs: ctx.waits.keyAccessMs,
      hint: keyAccessHint,
      // A PUT on an existing account would update it: a creation that landed is only waited for.
      landed: async () => {
        const appeared = await apis.cosmos.get(rg, name)
        return appeared && waitUntilSucceeded(ctx, appeared)
      },
      write: () =>
        withHeartbeat(
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
        ),
      retryable: error => {
        if (isKeyAccessPending(error)) return keyAccessPending
        return isOperationInProgress(error) ? inProgress : undefined
      }
    })
  } catch (error) {
    // A concurrent run may be creating the same account: read back before failing.
    const again = statusOf(error) === 409 ? await apis.cosmos.get(rg, name) : undefined
    if (!again)
      throw new ActionError(`Creating Cosmos DB account '${name}' failed: ${describeError(error)}`)
    account = await waitUntilSucceeded(ctx, again)
  }
  record(ctx, { step: Step.Account, observed: 'absent', action, result: 'changed' })
  return account
}

async function waitUntilSucceeded(
  ctx: StepContext,
  account: CosmosAccountState
): Promise<CosmosAccountState> {
  if (isSucceeded(account)) return account
  const { name } = ctx.inputs.account
  const rg = ctx.inputs.resourceGroup
  return waitIn(ctx, {
    what: `Cosmos DB account '${name}' to finish ${account.provisioningState ?? 'provisioning'}`,
    kind: 'operation',
    timeoutMs: ctx.waits.accountProvisioningMs,
    hint: `Check: az cosmosdb show --name ${name} --resource-group ${rg} --query provisioningState`,
    poll: async () => {
      const current = await ctx.apis.cosmos.get(rg, name)
      if (!current)
        throw new ActionError(`Cosmos DB account '${name}' disappeared while being provisioned.`)
      if (isSucceeded(current)) return { done: true, value: current }
      if (/^failed$/i.test(current.provisioningState ?? '')) {
        throw new ActionError(`Cosmos DB account '${name}' is in provisioning state Failed.`)
      }
      return { done: false, status: `provisioningState ${current.provisioningState}` }
    }
  })
}
