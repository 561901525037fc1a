import type { CosmosAccountState } from '../azure/api.js'
import { isKeyAccessPending, isOperationInProgress } from '../errors.js'
import { sameKey } from '../key-uri.js'
import { isSucceeded } from './account-state.js'
import { inProgress, keyAccessHint, keyAccessPending } from './account.js'
import { record, withHeartbeat, type StepContext } from './context.js'
import { Step } from './names.js'
import { writeOnce } from './write-once.js'

/** What turning customer-managed keys on for an account with data means, said before it starts. */
export const enableConsequences =
  'irreversible: every document is re-encrypted in the background while the account keeps serving; ' +
  'adding regions waits until it ends; document ids must be 990 bytes or less; on a large account raise ' +
  'its throughput first, since the re-encryption uses spare request units'

/**
 * Brings an existing account onto the key: turns customer-managed keys on (`enable-on-existing`)
 * or moves it from another key (`key-switch`), in an update that carries the key URI alone, once
 * the account's identity holds its grant. The re-encryption is a long-running operation: a re-run
 * finds the account on the key while it runs and waits for it instead of asking again.
 */
export async function ensureAccountKey(
  ctx: StepContext,
  account: CosmosAccountState,
  keyUri: string
): Promise<CosmosAccountState> {
  if (account.keyVaultKeyUri && sameKey(account.keyVaultKeyUri, keyUri)) return account
  const observed = account.keyVaultKeyUri
    ? `key ${account.keyVaultKeyUri}`
    : 'no customer-managed key'
  const action = account.keyVaultKeyUri
    ? `move to ${keyUri}`
    : `turn customer-managed keys on with ${keyUri} (${enableConsequences})`
  if (ctx.plan) {
    record(ctx, { step: Step.AccountKey, observed, action, result: 'would-change' })
    return account
  }
  if (!account.keyVaultKeyUri) {
    ctx.log.warning(
      `Turning customer-managed keys on for Cosmos DB account '${account.name}': ${enableConsequences}.`
    )
  }
  const rg = ctx.inputs.resourceGroup
  const onKey = (a: CosmosAccountState) => !!a.keyVaultKeyUri && sameKey(a.keyVaultKeyUri, keyUri)
  const updated = await writeOnce(ctx, {
    what: `Azure Cosmos DB to encrypt account '${account.name}' with ${keyUri}`,
    timeoutMs: ctx.waits.accountProvisioningMs,
    hint: keyAccessHint,
    landed: async () => {
      const current = await ctx.apis.cosmos.get(rg, account.name)
      return current && onKey(current) && isSucceeded(current) ? current : undefined
    },
    write: () =>
      withHeartbeat(
        ctx,
        `encryption of Cosmos DB account '${account.name}' with ${keyUri} (it runs in Azure; a re-run resumes watching it)`,
        ctx.apis.cosmos.update(rg, account.name, { keyVaultKeyUri: keyUri })
      ),
    retryable: error => {
      if (isKeyAccessPending(error)) return keyAccessPending
      return isOperationInProgress(error) ? inProgress : undefined
    }
  })
  record(ctx, { step: Step.AccountKey, observed, action, result: 'changed' })
  return updated
}
