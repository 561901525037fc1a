import type { DelayKind } from '../core/service.js'
import type { CosmosAccount, HsmKey, World } from '../core/world.js'
import { parseDefaultIdentity } from './cosmos-identity.js'
import { COSMOS_FIRST_PARTY_APP_ID, worldKey } from './ids.js'
import { findKey, latestVersion } from './keys.js'
import { findHsmByName } from './lookup.js'
import { DataActions, principalMayPerform } from './rbac.js'

/*
 * How a Cosmos DB account lives with its customer-managed key after it is set: which key version
 * it uses (`keyVaultKeyUriVersion`), and whether it can still reach the key
 * (`customerManagedKeyStatus`). The status strings and their codes are the service's, as the
 * 2023-09-15 models list them (hashicorp/pandora CustomerManagedKeyStatusConstant); "disabled or
 * expired" and a removed grant both give 4002 (cmk-troubleshooting-guide).
 */

const GUIDE = 'https://learn.microsoft.com/en-us/azure/cosmos-db/cmk-troubleshooting-guide'
const REVOKED = 'Access to your account is currently revoked because'
const RESTORE =
  'for more details about this error and how to restore access to your account please visit'

export const CMK_CONFIRMED = 'Access to the configured customer managed key confirmed.'

const REVOKED_STATUS: Record<number, string> = {
  4000: `${REVOKED} the Azure Cosmos DB service is unable to obtain the AAD authentication token for the account's default identity; ${RESTORE} ${GUIDE}#azure-active-directory-token-acquisition-error (4000).`,
  4002: `${REVOKED} the current default identity no longer has permission to the associated Key Vault key; ${RESTORE} ${GUIDE}#default-identity-is-unauthorized-to-access-the-azure-key-vault-key (4002).`,
  4003: `${REVOKED} the correspondent key is not found on the specified Key Vault; ${RESTORE} ${GUIDE}#azure-key-vault-resource-not-found (4003).`,
  4005: `${REVOKED} the Azure Cosmos DB service is unable to wrap or unwrap the key; ${RESTORE} ${GUIDE}#internal-unwrapping-procedure-error (4005).`,
  4006: `${REVOKED} the Azure Cosmos DB account's key vault key URI does not follow the expected format; ${RESTORE} ${GUIDE}#improper-syntax-detected-on-the-key-vault-uri-property (4006).`,
  4009: `${REVOKED} the Azure Key Vault DNS name specified by the account's keyvaultkeyuri property could not be resolved; ${RESTORE} ${GUIDE}#unable-to-resolve-the-key-vaults-dns (4009).`,
  4015: `${REVOKED} the Azure Cosmos DB account has an undefined default identity; ${RESTORE} ${GUIDE}#invalid-azure-cosmos-db-default-identity (4015).`
}

/** `customerManagedKeyStatus` of an account that has a customer-managed key. */
export function customerManagedKeyStatus(account: CosmosAccount): string {
  if (!account.revoked) return CMK_CONFIRMED
  return (
    REVOKED_STATUS[account.revoked.code] ??
    `Access to your account is currently revoked; ${RESTORE} ${GUIDE}`
  )
}

const VERSIONED_KEY_URI_MESSAGE =
  'Please provide KeyVault Key Uri without version. We will use latest version of the key'

/** The parts of a Cosmos DB key URI: `https://{host}/keys/{name}`. */
export function parseKeyUri(uri: string): { host: string; keyName: string } | { problem: string } {
  let url: URL
  try {
    url = new URL(uri)
  } catch {
    return { problem: `The KeyVault Key Uri '${uri}' is not a valid URI (InvalidKeyVaultKeyUri).` }
  }
  const segments = url.pathname.split('/').slice(1)
  if (
    url.protocol !== 'https:' ||
    url.search ||
    url.hash ||
    segments[0]?.toLowerCase() !== 'keys' ||
    !segments[1]
  ) {
    return {
      problem: `The KeyVault Key Uri '${uri}' is not valid (InvalidKeyVaultKeyUri). It must have the form https://{vault}/keys/{key name}.`
    }
  }
  if (segments.length === 3 && segments[2] === '') {
    return {
      problem: `The KeyVault Key Uri '${uri}' must not end with '/' (InvalidKeyVaultKeyUri). ${VERSIONED_KEY_URI_MESSAGE}`
    }
  }
  if (segments.length > 2) return { problem: VERSIONED_KEY_URI_MESSAGE }
  return { host: url.hostname.toLowerCase(), keyName: segments[1]! }
}

/** The key a key URI names, when its Managed HSM and the key exist. */
export function keyOfUri(
  world: World,
  uri: string
): { hsmName: string; key: HsmKey } | { code: number } {
  const parsed = parseKeyUri(uri)
  if ('problem' in parsed) return { code: 4006 }
  const hsmName = parsed.host.endsWith('.managedhsm.azure.net')
    ? parsed.host.split('.')[0]!
    : undefined
  const hsm = hsmName ? findHsmByName(world, hsmName) : undefined
  const plane = hsm && world.hsmDataPlanes[hsm.name.toLowerCase()]
  if (!hsm || !plane) return { code: 4009 }
  const key = findKey(plane, parsed.keyName)
  return key ? { hsmName: hsm.name, key } : { code: 4003 }
}

/**
 * The principal the account's default identity stands for, or the code of why it has none: a
 * deleted identity cannot get a token (4000), one the account does not have is undefined (4015).
 */
export function defaultIdentityPrincipalOf(
  world: World,
  account: CosmosAccount
): { principalId: string } | { code: number } {
  const identity = parseDefaultIdentity(account.defaultIdentity)
  if (!identity) return { code: 4015 }
  if (identity.kind === 'FirstPartyIdentity') {
    const sp = Object.values(world.servicePrincipals).find(
      s => s.appId.toLowerCase() === COSMOS_FIRST_PARTY_APP_ID
    )
    return sp ? { principalId: sp.id } : { code: 4000 }
  }
  if (identity.kind === 'SystemAssignedIdentity') {
    return account.systemAssignedPrincipalId
      ? { principalId: account.systemAssignedPrincipalId }
      : { code: 4015 }
  }
  const attached = account.userAssignedIdentities.some(
    id => id.toLowerCase() === identity.id.toLowerCase()
  )
  if (!attached) return { code: 4015 }
  const uai = world.userAssignedIdentities[worldKey(identity.id)]
  return uai ? { principalId: uai.principalId } : { code: 4000 }
}

/** Why the account cannot use its key at `now` (a substatus code), or undefined when it can. */
export function keyAccessCode(
  world: World,
  account: CosmosAccount,
  now: number
): number | undefined {
  if (!account.keyVaultKeyUri) return undefined
  const found = keyOfUri(world, account.keyVaultKeyUri)
  if ('code' in found) return found.code
  const principal = defaultIdentityPrincipalOf(world, account)
  if ('code' in principal) return principal.code
  const scope = `/keys/${found.key.name}`
  const granted = [DataActions.keysRead, DataActions.keysWrap, DataActions.keysUnwrap].every(
    action => principalMayPerform(world, found.hsmName, principal.principalId, action, scope, now)
  )
  if (!granted) return 4002
  const version =
    found.key.versions.find(v => v.version === account.keyVersionInUse) ?? latestVersion(found.key)
  const nowSeconds = Math.floor(now / 1000)
  const expired = version.exp !== undefined && version.exp <= nowSeconds
  const notYet = version.nbf !== undefined && version.nbf > nowSeconds
  if (!version.enabled || expired || notYet) return 4002
  return ['wrapKey', 'unwrapKey'].every(op => version.keyOps.includes(op)) ? undefined : 4005
}

/** Samples the delays of the timing configuration (the services' `ctx.delay`). */
export type DelaySampler = (kind: DelayKind) => number

/** Whether the account's data is still being encrypted with its new key (CMK enablement). */
export function isEncrypting(world: World, account: CosmosAccount): boolean {
  const id = worldKey(account.id)
  return Object.values(world.operations).some(
    op => op.resourceId === id && op.kind === 'cosmos-encrypt' && op.status === 'InProgress'
  )
}

/** When access was lost: when the version in use expired, if it did; otherwise now. */
function lossTime(world: World, account: CosmosAccount, now: number): number {
  const found = account.keyVaultKeyUri ? keyOfUri(world, account.keyVaultKeyUri) : undefined
  const version =
    found && 'key' in found
      ? found.key.versions.find(v => v.version === account.keyVersionInUse)
      : undefined
  const exp = version?.exp === undefined ? undefined : version.exp * 1000
  return exp !== undefined && exp <= now ? exp : now
}

/** Moves to a newer key version once its lag has passed (versionless key URI, auto-rotation). */
function followRotation(
  world: World,
  account: CosmosAccount,
  now: number,
  delay: DelaySampler
): void {
  const found = keyOfUri(world, account.keyVaultKeyUri!)
  if ('code' in found) return
  const latest = latestVersion(found.key)
  if (!account.keyVersionInUse) account.keyVersionInUse = latest.version
  if (latest.version === account.keyVersionInUse) {
    delete account.pendingKeyVersion
    return
  }
  if (account.pendingKeyVersion?.version !== latest.version) {
    account.pendingKeyVersion = {
      version: latest.version,
      adoptAt: latest.created * 1000 + delay('cosmosKeyVersionLag')
    }
  }
  if (account.pendingKeyVersion.adoptAt <= now) {
    account.keyVersionInUse = account.pendingKeyVersion.version
    delete account.pendingKeyVersion
  }
}

/**
 * Moves an account's key state to `now`: the key version it uses, and revocation. Losing access
 * shows after `cosmosRevocation`; once access is back a revoked account recovers after
 * `cosmosRevocationRecovery` ("wait upwards to one hour", cmk-troubleshooting-guide). An account
 * being created or encrypted is left alone: the key is checked when the operation starts.
 */
export function trackCustomerManagedKey(
  world: World,
  account: CosmosAccount,
  now: number,
  delay: DelaySampler
): void {
  if (!account.keyVaultKeyUri || account.provisioningState === 'Creating') return
  if (isEncrypting(world, account)) return
  if (!account.revoked) followRotation(world, account, now, delay)
  const code = keyAccessCode(world, account, now)
  if (code !== undefined) {
    if (account.revoked) {
      account.revoked.code = code
      delete account.revoked.recoverAt
      return
    }
    if (!account.keyAccessLost) {
      const lostAt = lossTime(world, account, now)
      account.keyAccessLost = { code, lostAt, revokeAt: lostAt + delay('cosmosRevocation') }
    }
    account.keyAccessLost.code = code
    if (account.keyAccessLost.revokeAt <= now) {
      account.revoked = { code, since: account.keyAccessLost.revokeAt }
      delete account.keyAccessLost
    }
    return
  }
  delete account.keyAccessLost
  if (!account.revoked) return
  account.revoked.recoverAt ??= now + delay('cosmosRevocationRecovery')
  if (account.revoked.recoverAt <= now) delete account.revoked
}
