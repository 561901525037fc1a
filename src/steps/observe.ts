import type {
  CosmosAccountState,
  HsmKeyState,
  ManagedHsmState,
  ProviderState,
  RoleAssignment,
  UserAssignedIdentityState
} from '../azure/api.js'
import { hsmUriFor } from '../cloud.js'
import { ActionError, statusOf } from '../errors.js'
import type { Inputs } from '../inputs.js'
import { isVersioned, keyUriFor, sameKey } from '../keyUri.js'
import type { StepContext } from './context.js'
import { isRbacDenied, unusableKeyMessage } from './key.js'

export interface Observation {
  providers: ProviderState[]
  hsm?: ManagedHsmState
  userAssignedIdentity?: UserAssignedIdentityState
  account?: CosmosAccountState
  /** The key, when the signed-in principal could already read it (`key` undefined: absent). */
  key?: { key?: HsmKeyState }
  /** The signed-in principal's assignments at /keys, when they could be read. */
  adminGrants?: RoleAssignment[]
}

export function requiredNamespaces(inputs: Inputs): string[] {
  const namespaces = ['Microsoft.DocumentDB', 'Microsoft.KeyVault']
  if (inputs.identity.userAssignedIdentity) namespaces.push('Microsoft.ManagedIdentity')
  return namespaces
}

/**
 * Every read that depends on nothing else, in parallel. `accountSeen` learns the account's state
 * as soon as it is read, to start what depends on it alone.
 */
export async function observe(
  ctx: StepContext,
  accountSeen?: (account: CosmosAccountState | undefined) => void
): Promise<Observation> {
  const { inputs, apis } = ctx
  const uai = inputs.identity.userAssignedIdentity
  const observeHsm = async () => {
    const hsm = await apis.managedHsms.get(inputs.hsm.resourceGroup, inputs.hsm.name)
    if (hsm?.activationStatus !== 'Active') return { hsm }
    const [key, adminGrants] = await Promise.all([readableKey(ctx, hsm), readableGrants(ctx, hsm)])
    return { hsm, key, adminGrants }
  }
  const [providers, { hsm, key, adminGrants }, userAssignedIdentity, account] = await Promise.all([
    Promise.all(requiredNamespaces(inputs).map(ns => apis.providers.get(ns))),
    observeHsm(),
    uai
      ? apis.identities.getUserAssigned(uai.subscriptionId, uai.resourceGroup, uai.name)
      : undefined,
    apis.cosmos.get(inputs.resourceGroup, inputs.account.name).then(account => {
      accountSeen?.(account)
      return account
    })
  ])
  return { providers, hsm, userAssignedIdentity, account, key, adminGrants }
}

/** The signed-in principal's assignments at /keys; undefined when they cannot be read (yet). */
async function readableGrants(
  ctx: StepContext,
  hsm: ManagedHsmState
): Promise<RoleAssignment[] | undefined> {
  try {
    return await ctx.apis
      .hsm(hsmBaseUri(ctx, hsm))
      .rbac.listForPrincipal('/keys', ctx.principal.objectId)
  } catch (error) {
    // The grant step reads again and explains a refusal.
    if (statusOf(error) === 403) return undefined
    throw error
  }
}

/**
 * The key, if the signed-in principal may read it already (e.g. on a re-run), so that a key
 * Cosmos DB cannot use is refused before anything is written. Undefined while access is denied.
 */
async function readableKey(
  ctx: StepContext,
  hsm: ManagedHsmState
): Promise<{ key?: HsmKeyState } | undefined> {
  try {
    return { key: await ctx.apis.hsm(hsmBaseUri(ctx, hsm)).keys.get(ctx.inputs.key.name) }
  } catch (error) {
    if (isRbacDenied(error)) return undefined
    throw error
  }
}

/** Base URI of the HSM data plane, without a trailing slash. */
export function hsmBaseUri(ctx: StepContext, hsm?: ManagedHsmState): string {
  return (hsm?.hsmUri || hsmUriFor(ctx.cloud, ctx.inputs.hsm.name)).replace(/\/+$/, '')
}

export function activationSteps(hsmName: string, resourceGroup: string): string {
  return [
    `Managed HSM '${hsmName}' (resource group '${resourceGroup}') is not activated: it cannot create or use keys until its security domain is downloaded. Either let this action activate it by setting`,
    '  security-domain-certificates: 3 to 10 PEM files with RSA public keys, e.g. sd0.cer, sd1.cer, sd2.cer',
    '  security-domain-quorum: how many of their private keys are needed to recover, e.g. 2',
    '  security-domain-file: where to write the encrypted security domain, e.g. security-domain.json',
    'or activate it yourself and re-run:',
    '  openssl req -newkey rsa:2048 -nodes -keyout sd0.key -x509 -days 365 -out sd0.cer   (again for sd1 and sd2)',
    `  az keyvault security-domain download --hsm-name ${hsmName} --sd-wrapping-keys sd0.cer sd1.cer sd2.cer --sd-quorum 2 --security-domain-file ${hsmName}-security-domain.json`,
    'Keep the private keys and the security domain file offline and apart: they are the only way to recover the HSM.'
  ].join('\n')
}

/**
 * Everything that would make the run fail, found from the observation alone and reported
 * together before the first write.
 */
export function preflight(ctx: StepContext, seen: Observation): void {
  const { inputs } = ctx
  const problems: string[] = []
  const { hsm, account } = seen
  const hsmWhere = `resource group '${inputs.hsm.resourceGroup}' of subscription ${inputs.subscriptionId}`

  if (!hsm) {
    if (!inputs.hsm.create) {
      problems.push(
        `Managed HSM '${inputs.hsm.name}' does not exist in ${hsmWhere}. Check hsm-name and hsm-resource-group, ` +
          'or set create-hsm: true to create it (billing starts at creation).'
      )
    } else {
      if (!inputs.location) {
        problems.push(`Input 'location' is required to create Managed HSM '${inputs.hsm.name}'.`)
      }
      if (!inputs.securityDomain)
        problems.push(activationSteps(inputs.hsm.name, inputs.hsm.resourceGroup))
    }
  } else {
    if (!hsm.enableSoftDelete) {
      problems.push(
        `Managed HSM '${hsm.name}' has soft delete turned off; Azure Cosmos DB requires it.`
      )
    }
    if (/^(Failed|Deleting)$/i.test(hsm.provisioningState)) {
      problems.push(
        `Managed HSM '${hsm.name}' is in provisioning state ${hsm.provisioningState}` +
          `${hsm.statusMessage ? `: ${hsm.statusMessage}` : ''}.`
      )
    }
    if (!hsm.enablePurgeProtection && !inputs.hsm.enablePurgeProtection) {
      problems.push(
        `Managed HSM '${hsm.name}' does not have purge protection, which Azure Cosmos DB requires for ` +
          'customer-managed keys. Turning it on is irreversible. Set enable-purge-protection: true to let this ' +
          `action turn it on, or run: az keyvault update-hsm --hsm-name ${hsm.name} --resource-group ` +
          `${inputs.hsm.resourceGroup} --enable-purge-protection true`
      )
    }
    if (hsm.activationStatus !== 'Active' && !inputs.securityDomain) {
      problems.push(activationSteps(hsm.name, inputs.hsm.resourceGroup))
    }
  }

  const existingKey = seen.key?.key
  const keyProblem = existingKey && unusableKeyMessage(ctx, existingKey)
  if (keyProblem) problems.push(keyProblem)

  const uai = inputs.identity.userAssignedIdentity
  if (uai && !seen.userAssignedIdentity) {
    problems.push(
      `User-assigned identity '${uai.id}' was not found. This action does not create identities: create it ` +
        `first (az identity create --resource-group ${uai.resourceGroup} --name ${uai.name}), or fix ` +
        'user-assigned-identity.'
    )
  }

  const wantedKey = keyUriFor(hsmBaseUri(ctx, hsm), inputs.key.name)
  if (account) {
    if (!account.keyVaultKeyUri) {
      problems.push(
        `Cosmos DB account '${account.name}' exists without a customer-managed key. This action encrypts new ` +
          'accounts only; adding a key to an existing account is asynchronous and irreversible and is left to ' +
          `you (az cosmosdb update --name ${account.name} --resource-group ${inputs.resourceGroup} --key-uri ${wantedKey}). ` +
          'Or choose another account-name.'
      )
    } else if (!sameKey(account.keyVaultKeyUri, wantedKey)) {
      problems.push(
        `Cosmos DB account '${account.name}' is encrypted with key ${account.keyVaultKeyUri}, not ${wantedKey}. ` +
          'This action never changes the key of an existing account: check hsm-name, key-name and account-name.'
      )
    } else if (isVersioned(account.keyVaultKeyUri)) {
      ctx.log.warning(
        `Cosmos DB account '${account.name}' pins a key version (${account.keyVaultKeyUri}); new key versions will not be used.`
      )
    }
    const wantedKind = inputs.account.api === 'mongodb' ? 'MongoDB' : 'GlobalDocumentDB'
    if (account.kind && account.kind !== wantedKind) {
      ctx.log.warning(
        `Cosmos DB account '${account.name}' is of kind ${account.kind}, not ${wantedKind} as api '${inputs.account.api}' implies; it is left as it is.`
      )
    }
  } else if (!inputs.account.locations.length) {
    problems.push(
      `Input 'location' (or 'account-locations') is required to create Cosmos DB account '${inputs.account.name}'.`
    )
  }

  if (problems.length) {
    throw new ActionError(
      problems.length === 1
        ? problems[0]
        : `Nothing was changed, because:\n${problems.map(p => `- ${p}`).join('\n')}`
    )
  }
}
