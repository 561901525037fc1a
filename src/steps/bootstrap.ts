import type { CosmosAccountState, HsmRbacApi } from '../azure/api.js'
import { describeError } from '../errors.js'
import { sameKey } from '../key-uri.js'
import { hsmRoles, roleAssignmentName } from '../roles.js'
import { sameIdentity } from './account-state.js'
import { record, type StepContext } from './context.js'
import { Step } from './names.js'
import { keyScopeOf } from './grants.js'
import { firstPartyPrincipalId } from './principals.js'

const STEP = Step.Bootstrap

export interface BootstrapRemoval {
  rbac?: HsmRbacApi
  /** Whether the account reads back SystemAssignedIdentity. */
  verified: boolean
  account: CosmosAccountState
  keyUri: string
  userAssignedIdentity?: { id: string; principalId: string }
}

function hostOf(uri: string): string {
  try {
    return new URL(uri).host.toLowerCase()
  } catch {
    return ''
  }
}

/**
 * Removes the grant that let the bootstrap identity create the account, once the account is
 * verified on its system-assigned identity. Only the assignment under this action's deterministic
 * name is touched, and it is kept while another account of the subscription still reaches a key
 * through it. Answers the id of the removed assignment.
 */
export async function removeBootstrapAssignment(
  ctx: StepContext,
  removal: BootstrapRemoval
): Promise<string | undefined> {
  const { rbac, account } = removal
  const scope = keyScopeOf(ctx)
  if (!removal.verified || !rbac) {
    record(ctx, {
      step: STEP,
      observed: 'the account does not use SystemAssignedIdentity yet',
      action: 'remove the bootstrap grant once it does',
      result: ctx.plan ? 'would-change' : 'skipped'
    })
    return undefined
  }
  const firstParty = ctx.inputs.identity.bootstrap === 'first-party'
  const principalId = firstParty
    ? await firstPartyPrincipalId(ctx)
    : removal.userAssignedIdentity?.principalId
  if (!principalId) return undefined
  const bootstrapIdentity = firstParty
    ? 'FirstPartyIdentity'
    : `UserAssignedIdentity=${removal.userAssignedIdentity?.id ?? ''}`

  const role = hsmRoles.cryptoServiceEncryptionUser
  const name = roleAssignmentName(ctx.inputs.hsm.name, scope, role.id, principalId)
  const existing = await rbac.get(scope, name)
  const ours =
    existing &&
    existing.principalId.toLowerCase() === principalId.toLowerCase() &&
    existing.roleDefinitionId.toLowerCase().endsWith(role.id)
  if (!existing || !ours) {
    record(ctx, { step: STEP, observed: `${name} absent`, action: 'none', result: 'ok' })
    return undefined
  }

  // The same grant serves every account that reaches a key under its scope with that identity.
  let accounts: CosmosAccountState[]
  try {
    accounts = await ctx.apis.cosmos.list()
  } catch (error) {
    ctx.log.warning(
      `Keeping role assignment ${name}: the accounts of the subscription could not be listed to make sure ` +
        `no other account still needs it (${describeError(error)}).`
    )
    record(ctx, {
      step: STEP,
      observed: `${name} present; other accounts could not be checked`,
      action: 'keep it',
      result: 'skipped'
    })
    return undefined
  }
  const wholeKeys = scope === '/keys'
  const dependents = accounts.filter(
    other =>
      other.id.toLowerCase() !== account.id.toLowerCase() &&
      !!other.keyVaultKeyUri &&
      hostOf(other.keyVaultKeyUri) === hostOf(removal.keyUri) &&
      (wholeKeys || sameKey(other.keyVaultKeyUri, removal.keyUri)) &&
      sameIdentity(other.defaultIdentity, bootstrapIdentity)
  )
  if (dependents.length) {
    const names = dependents.map(d => d.name).join(', ')
    ctx.log.warning(
      `Keeping role assignment ${name}: Cosmos DB account(s) ${names} still use ${bootstrapIdentity} with a key under ${scope}.`
    )
    record(ctx, {
      step: STEP,
      observed: `${name} present, still used by ${names}`,
      action: 'keep it',
      result: 'skipped'
    })
    return undefined
  }

  const action = `remove ${name} ('${role.name}' for ${principalId} at ${scope})`
  if (ctx.plan) {
    record(ctx, { step: STEP, observed: `${name} present`, action, result: 'would-change' })
    return undefined
  }
  await rbac.delete(scope, name)
  record(ctx, { step: STEP, observed: `${name} present`, action, result: 'changed' })
  return existing.id
}
