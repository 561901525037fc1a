import type { EmuResponse } from '../../core/service.js'
import type { CosmosAccount } from '../../core/world.js'
import { parseDefaultIdentity } from '../../model/cosmos-identity.js'
import type { ArmRequest } from './context.js'
import type { AccountIdentity } from './cosmos-identity.js'
import { accepted, checkDefaultIdentityAndKey, fail } from './cosmos-operations.js'

/*
 * A customer-managed key set or changed on an existing account (lifecycle reference sections 1
 * and 2; Cosmos DB's CMK troubleshooting guide, "troubleshoot-cmk.md", entries 1.4, 1.5, 1.6, 3.2
 * and 3.3). Enabling CMK on an account without one is a PATCH of `keyVaultKeyUri` alone that runs
 * as a long re-encryption (`cosmos-encrypt`, timing `cosmosEncryption`); switching to another key
 * is an update (`cosmos-rekey`); a key can never be taken away.
 */

const CMK_AND_OTHERS =
  'Cannot update Customer Managed Key settings and other properties at the same time.'

/** The account's identities as the default-identity checks take them. */
export function identityOf(account: CosmosAccount): AccountIdentity {
  return {
    type: account.identityType,
    userAssigned: account.userAssignedIdentities,
    ...(account.systemAssignedPrincipalId
      ? { systemPrincipalId: account.systemAssignedPrincipalId }
      : {})
  }
}

function sameKeyUri(x: string, y: string | undefined): boolean {
  const norm = (u: string) => u.replace(/\/+$/, '').toLowerCase()
  return y !== undefined && norm(x) === norm(y)
}

function isFirstParty(defaultIdentity: string): boolean {
  return parseDefaultIdentity(defaultIdentity)?.kind === 'FirstPartyIdentity'
}

function hasCapability(account: CosmosAccount, name: string): boolean {
  return account.capabilities.some(c => c.toLowerCase() === name.toLowerCase())
}

/** "Setting Non-FPI default identity is required for dedicated storage account features" (3.2). */
const DEDICATED_STORAGE =
  'Setting Non-FPI default identity is required for dedicated storage account features. ' +
  'Please set a valid System or User Assigned Identity to default and retry the request.'

/**
 * What Cosmos DB refuses before enabling CMK on an existing account: Cassandra (both versions of
 * the existing-accounts page), vector search (current page), materialized views and the
 * all-versions-and-deletes ("full fidelity") change feed (3.3), and continuous backup or the
 * analytical store while the default identity is still the first-party one (3.2; the current page
 * has these accounts set a managed identity as default identity first).
 */
function refuseEnablement(a: ArmRequest, account: CosmosAccount): void {
  const notSupported = (what: string) =>
    fail(a, `Customer Managed Key enablement on an existing ${what} is not supported`)
  if (hasCapability(account, 'EnableCassandra')) throw notSupported('Cassandra API account')
  if (hasCapability(account, 'EnableNoSQLVectorSearch')) {
    throw notSupported('Vector Search enabled Account')
  }
  if (account.materializedViews || account.allVersionsAndDeletesChangeFeed) {
    throw notSupported(
      'Analytical Store/Continuous Backup/Materialized View/Full Fidelity Change Feed enabled Account'
    )
  }
  const continuous = (account.backupPolicy ?? 'Periodic') !== 'Periodic'
  if ((continuous || account.enableAnalyticalStorage) && isFirstParty(account.defaultIdentity)) {
    throw fail(a, DEDICATED_STORAGE)
  }
}

/**
 * What a create that sets a key refuses: the system-assigned identity cannot be the default
 * identity at creation (1.6), and continuous backup or the analytical store need a default
 * identity other than the first-party one (3.2).
 */
export function refuseKeyAtCreation(
  a: ArmRequest,
  defaultIdentity: string,
  features: { continuousBackup: boolean; analyticalStorage: boolean }
): void {
  if (parseDefaultIdentity(defaultIdentity)?.kind === 'SystemAssignedIdentity') {
    throw fail(
      a,
      `Database account creation failed. Operation Id: ${a.ctx.newGuid()}, Error: Updating default identity not allowed. ` +
        'Cannot set SystemAssignedIdentity as the default identity during provision.'
    )
  }
  if ((features.continuousBackup || features.analyticalStorage) && isFirstParty(defaultIdentity)) {
    throw fail(a, DEDICATED_STORAGE)
  }
}

/** The key URI a request asks for: `undefined` when it leaves the key alone. */
export function requestedKeyChange(
  a: ArmRequest,
  account: CosmosAccount,
  props: Record<string, unknown>
): string | undefined {
  if (!('keyVaultKeyUri' in props)) return undefined
  const uri = props.keyVaultKeyUri
  if (uri === null || uri === '') {
    // troubleshoot 1.4: a CMK account cannot go back to service-managed keys
    if (account.keyVaultKeyUri) throw fail(a, 'Updating KeyVaultKeyUri is not supported')
    return undefined
  }
  if (typeof uri !== 'string') throw fail(a, `Provided KeyVaultKeyUri ${String(uri)} is Invalid.`)
  return sameKeyUri(uri, account.keyVaultKeyUri) ? undefined : uri
}

/**
 * Sets a (new) key on an existing account. The request must carry nothing else: "Cannot update
 * Customer Managed Key settings and other properties at the same time." (Azure/azure-service-
 * operator#5560, where a PUT re-sent unchanged properties).
 */
export function changeKey(
  a: ArmRequest,
  account: CosmosAccount,
  body: Record<string, unknown>,
  uri: string
): EmuResponse {
  const props = body.properties as Record<string, unknown>
  const others =
    Object.keys(body).some(k => k !== 'properties') ||
    Object.keys(props).some(k => k !== 'keyVaultKeyUri')
  if (others) throw fail(a, CMK_AND_OTHERS)
  const enabling = !account.keyVaultKeyUri
  if (enabling) refuseEnablement(a, account)
  checkDefaultIdentityAndKey(a, account.name, account.defaultIdentity, identityOf(account), uri)
  account.keyVaultKeyUri = uri
  delete account.pendingKeyVersion
  account.provisioningState = 'Updating'
  return accepted(a, account, enabling ? 'cosmos-encrypt' : 'cosmos-rekey')
}

/**
 * A revoked account takes only identity and default-identity changes (and deletion): "No Update
 * is allowed on Database Account with Customer Managed Key in Revoked Status" (1.5).
 */
export function refuseWhileRevoked(
  a: ArmRequest,
  account: CosmosAccount,
  body: Record<string, unknown>
): void {
  if (!account.revoked) return
  const props = (body.properties ?? {}) as Record<string, unknown>
  const allowed =
    Object.keys(body).every(k => ['identity', 'properties', 'location'].includes(k)) &&
    Object.keys(props).every(k => k === 'defaultIdentity')
  if (!allowed) {
    throw fail(
      a,
      'No Update is allowed on Database Account with Customer Managed Key in Revoked Status'
    )
  }
}
