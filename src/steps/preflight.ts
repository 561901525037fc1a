import { ActionError } from '../errors.js'
import { hsmRoles, nonAssigningRoles, roleGuidOf, scopeCovers } from '../roles.js'
import { isVersioned, sameKey } from '../key-uri.js'
import { activationSteps, securityDomainProblems } from './activation.js'
import { runKeyUri, type StepContext } from './context.js'
import { unusableKeyMessage } from './key.js'
import { enableConsequences } from './account-key.js'
import type { CosmosAccountState } from '../azure/api.js'
import type { Observation } from './observe.js'

/**
 * Everything that would make the run fail, found from the observation alone and reported
 * together before the first write. In a fleet, an account that cannot succeed is answered (name:
 * why) and the others go on; the run is refused only when none could.
 */
export function preflight(
  ctx: StepContext,
  seen: Observation,
  /** ARM permissions the run's writes need and the caller lacks (see permissions.ts). */
  missing: string[] = []
): Map<string, string> {
  const { inputs } = ctx
  const problems: string[] = []
  const { hsm } = seen
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
  problems.push(...securityDomainProblems(ctx, hsm, seen.securityDomainDownload))
  problems.push(...regionProblems(ctx, seen))
  problems.push(...hsmRoleProblems(ctx, seen))
  problems.push(...missing)

  if (seen.rotationPolicy === null) {
    problems.push(
      `rotate-key is true, but key '${inputs.key.name}' has no rotation policy, which Managed HSM needs before ` +
        'it rotates a key on demand. Set key-rotate-after (and key-expire-after) to give it one.'
    )
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

  const refused = new Map<string, string>()
  for (const [name, account] of seen.accounts) {
    const own = accountProblems(ctx, name, account, hsm)
    if (seen.accounts.size === 1) problems.push(...own)
    else if (own.length) refused.set(name, own.join(' '))
  }
  if (refused.size && refused.size === seen.accounts.size) problems.push(...refused.values())

  if (problems.length) {
    throw new ActionError(
      problems.length === 1
        ? problems[0]
        : `Nothing was changed, because:\n${problems.map(p => `- ${p}`).join('\n')}`
    )
  }
  return refused
}

/** Why the run cannot bring one account onto the key, if it cannot. */
function accountProblems(
  ctx: StepContext,
  name: string,
  account: CosmosAccountState | undefined,
  hsm: Observation['hsm']
): string[] {
  const { inputs } = ctx
  const wantedKey = runKeyUri(ctx, hsm)
  if (!account) {
    return inputs.account.locations.length
      ? []
      : [
          `Input 'location' (or 'account-locations') is required to create Cosmos DB account '${name}'.`
        ]
  }
  const problems: string[] = []
  if (!account.keyVaultKeyUri) {
    problems.push(...enableProblems(ctx, account, wantedKey))
  } else if (!sameKey(account.keyVaultKeyUri, wantedKey)) {
    if (!inputs.account.keySwitch) {
      problems.push(
        `Cosmos DB account '${account.name}' is encrypted with key ${account.keyVaultKeyUri}, not ${wantedKey}. ` +
          'Check hsm-name, key-name and account-name; to move the account to this key, set key-switch: true.'
      )
    }
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
  return problems
}

/** Regions where something would be created but that the subscription is not offered. */
function regionProblems(ctx: StepContext, seen: Observation): string[] {
  const { inputs } = ctx
  const offered = (namespace: string, type: string) =>
    seen.providers.find(p => p.namespace.toLowerCase() === namespace.toLowerCase())?.locations?.[
      type
    ]
  const check = (input: string, where: string[], what: string, regions?: string[]) =>
    regions?.length
      ? where
          .filter(location => !regions.includes(location))
          .map(
            location =>
              `Input '${input}' is '${location}': ${what} is not offered in that region for subscription ` +
              `${inputs.subscriptionId}. It is offered in: ${regions.join(', ')}.`
          )
      : []
  const problems: string[] = []
  if (!seen.hsm && inputs.hsm.create && inputs.location) {
    problems.push(
      ...check(
        'location',
        [inputs.location],
        'Managed HSM',
        offered('Microsoft.KeyVault', 'managedhsms')
      )
    )
  }
  if ([...seen.accounts.values()].some(account => !account)) {
    const fromLocation =
      inputs.account.locations.length === 1 && inputs.account.locations[0] === inputs.location
    const input = fromLocation ? 'location' : 'account-locations'
    problems.push(
      ...check(
        input,
        inputs.account.locations,
        'Azure Cosmos DB',
        offered('Microsoft.DocumentDB', 'databaseaccounts')
      )
    )
  }
  return problems
}

/**
 * Whether the caller may create the HSM role assignments it needs, told from the roles it holds:
 * refused only on evidence (the assignments cannot be read, or every role held is a built-in one
 * that may not assign roles), never on a custom role this action cannot judge. Plan mode checks
 * nothing (plans often run under a read-only identity).
 */
function hsmRoleProblems(ctx: StepContext, seen: Observation): string[] {
  const { hsm, adminGrants } = seen
  if (ctx.plan || hsm?.activationStatus !== 'Active') return []
  const name = ctx.inputs.hsm.name
  const fix =
    `It needs 'Managed HSM Administrator' (or 'Managed HSM Policy Administrator') at '/': ask an HSM administrator to run ` +
    `az keyvault role assignment create --hsm-name ${name} --role "Managed HSM Administrator" ` +
    `--assignee-object-id ${ctx.principal.objectId} --scope /`
  if (!adminGrants) {
    return [
      `The signed-in principal ${ctx.principal.objectId} may not read the role assignments of Managed HSM '${name}'. ${fix}`
    ]
  }
  const held = adminGrants
    .filter(a => scopeCovers(a.scope, '/keys'))
    .map(a => roleGuidOf(a.roleDefinitionId))
  const granted = held.includes(hsmRoles.cryptoUser.id)
  const initialAdmin = hsm.initialAdminObjectIds.some(
    id => id.toLowerCase() === ctx.principal.objectId.toLowerCase()
  )
  // No role at all may still be an administrator's implicit one: only built-ins tell for sure.
  const cannotAssign = held.length > 0 && held.every(role => nonAssigningRoles.has(role))
  if (granted || initialAdmin || !cannotAssign) return []
  return [
    `The signed-in principal ${ctx.principal.objectId} holds no role on Managed HSM '${name}' that may create the ` +
      `role assignments this run needs (it holds: ${held.join(', ')}). ${fix}`
  ]
}

/** Capabilities with which Azure Cosmos DB cannot turn customer-managed keys on in place. */
const blockingCapabilities: Record<string, string> = {
  enablecassandra: 'the Cassandra API',
  enablenosqlvectorsearch: 'vector search',
  enablematerializedviews: 'materialized views',
  enableallversionsanddeleteschangefeed: 'the all-versions-and-deletes change feed'
}

/** Why customer-managed keys cannot be turned on for an existing account, if they cannot. */
function enableProblems(
  ctx: StepContext,
  account: CosmosAccountState,
  wantedKey: string
): string[] {
  const { inputs } = ctx
  const name = account.name
  if (!inputs.account.enableOnExisting) {
    return [
      `Cosmos DB account '${name}' exists without a customer-managed key. Turning one on is irreversible and ` +
        `re-encrypts every document in the background (${enableConsequences}). Set enable-on-existing: true to ` +
        'do it, or choose another account-name.'
    ]
  }
  const problems = account.capabilities
    .map(c => blockingCapabilities[c.toLowerCase()])
    .filter((what): what is string => !!what)
    .map(
      what =>
        `Cosmos DB account '${name}' uses ${what}, with which Azure Cosmos DB does not support turning ` +
        'customer-managed keys on for an existing account. Create a new account with the key instead.'
    )
  const dedicatedStorage =
    account.backupPolicyType?.toLowerCase() === 'continuous' || !!account.enableAnalyticalStorage
  const firstParty =
    !account.defaultIdentity || /^FirstPartyIdentity$/i.test(account.defaultIdentity)
  if (dedicatedStorage && firstParty && inputs.identity.mode === 'first-party') {
    const feature = account.enableAnalyticalStorage ? 'an analytical store' : 'continuous backup'
    problems.push(
      `Cosmos DB account '${name}' has ${feature}, and its default identity is FirstPartyIdentity: Azure Cosmos DB ` +
        'turns customer-managed keys on for such an account only with a managed identity as default identity. ' +
        "Set identity-mode 'system-assigned' or 'user-assigned': this action switches the account to it, grants " +
        `it the key, and then turns the key on (${wantedKey}), in the same run.`
    )
  }
  return problems
}
