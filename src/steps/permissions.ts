import type { CosmosAccountState, Permission, ProviderState } from '../azure/api.js'
import { allows } from '../azure/permissions.js'
import type { StepContext } from './context.js'
import type { Observation } from './observe.js'
import { sameIdentity } from './account-state.js'

/** One ARM action a write of this run needs, where, why, and a built-in role that grants it. */
interface Needed {
  scope: string
  where: string
  action: string
  why: string
  role: string
}

/**
 * The caller's permissions, read once per scope; undefined where they cannot be read.
 */
export class PermissionReads {
  private readonly reads = new Map<string, Promise<Permission[] | undefined>>()

  constructor(private readonly ctx: StepContext) {}

  at(scope: string): Promise<Permission[] | undefined> {
    const key = scope.toLowerCase()
    let read = this.reads.get(key)
    if (!read) {
      read = this.ctx.apis.permissions.at(scope).catch(() => undefined)
      this.reads.set(key, read)
    }
    return read
  }

  /**
   * Starts, alongside the observation, the reads of every scope where a run that creates its
   * account writes: the subscription (provider registrations), the account's resource group and
   * the user-assigned identity. A run that finds everything in place has spent up to three reads;
   * one that creates has its check ready as the observation ends, a round trip before its first
   * write. None in plan mode.
   */
  startCreations(): void {
    const { inputs, plan } = this.ctx
    if (plan) return
    this.at(subscriptionScope(inputs.subscriptionId))
    this.at(groupScope(inputs.subscriptionId, inputs.resourceGroup))
    const uai = inputs.identity.userAssignedIdentity
    if (uai) this.at(uai.id)
  }
}

/**
 * The ARM actions the writes that the observation calls for need, with the caller's permissions
 * at each scope read side by side; answers one message per missing action. A scope whose
 * permissions cannot be read is left to the write itself. Plan mode checks nothing: plans often
 * run under a read-only identity.
 */
export async function missingPermissions(
  ctx: StepContext,
  seen: Observation,
  reads = new PermissionReads(ctx)
): Promise<string[]> {
  if (ctx.plan) return []
  const needed = neededPermissions(ctx, seen)
  const scopes = [...new Set(needed.map(n => n.scope))]
  const granted = new Map<string, Permission[] | undefined>(
    await Promise.all(scopes.map(async scope => [scope, await reads.at(scope)] as const))
  )
  const messages = needed
    .filter(n => {
      const permissions = granted.get(n.scope)
      return permissions !== undefined && !allows(permissions, n.action)
    })
    .map(
      n =>
        `The signed-in principal ${ctx.principal.objectId} may not perform ${n.action} on ${n.where}, ` +
        `which it needs to ${n.why}. A role that grants it: ${n.role}.`
    )
  // The accounts of a fleet that are created all need the same action at the resource group.
  return [...new Set(messages)]
}

const subscriptionScope = (subscriptionId: string) => `/subscriptions/${subscriptionId}`
const groupScope = (subscriptionId: string, name: string) =>
  `${subscriptionScope(subscriptionId)}/resourceGroups/${name}`
const unregistered = (provider: ProviderState) =>
  !/^(registered|registering)$/i.test(provider.registrationState)

function neededPermissions(ctx: StepContext, seen: Observation): Needed[] {
  const { inputs } = ctx
  const subscription = subscriptionScope(inputs.subscriptionId)
  const group = (name: string) => groupScope(inputs.subscriptionId, name)
  const needed: Needed[] = []
  const need = (scope: string, where: string, action: string, why: string, role: string) =>
    needed.push({ scope, where, action, why, role })

  for (const provider of seen.providers) {
    if (!unregistered(provider)) continue
    need(
      subscription,
      `subscription ${inputs.subscriptionId}`,
      `${provider.namespace}/register/action`,
      `register the ${provider.namespace} resource provider`,
      'Contributor on the subscription'
    )
  }

  const hsm = seen.hsm
  const hsmGroup = group(inputs.hsm.resourceGroup)
  const hsmScope = hsm ? hsm.id : hsmGroup
  const hsmWhere = hsm
    ? `Managed HSM '${hsm.name}'`
    : `resource group '${inputs.hsm.resourceGroup}'`
  if (!hsm && inputs.hsm.create) {
    need(
      hsmGroup,
      hsmWhere,
      'Microsoft.KeyVault/managedHSMs/write',
      'create the Managed HSM',
      'Managed HSM Contributor'
    )
  }
  if (hsm && !hsm.enablePurgeProtection) {
    need(
      hsmScope,
      hsmWhere,
      'Microsoft.KeyVault/managedHSMs/write',
      'turn purge protection on',
      'Managed HSM Contributor'
    )
  }
  if ((!hsm && inputs.hsm.create) || (hsm && hsm.activationStatus !== 'Active')) {
    need(
      hsmScope,
      hsmWhere,
      'Microsoft.Resources/tags/write',
      'record on the HSM whether its security domain was saved',
      'Tag Contributor'
    )
  }

  const uai = inputs.identity.userAssignedIdentity
  for (const account of seen.accounts.values()) {
    if (account && !accountNeedsUpdate(ctx, seen, account)) continue
    need(
      account ? account.id : group(inputs.resourceGroup),
      account ? `Cosmos DB account '${account.name}'` : `resource group '${inputs.resourceGroup}'`,
      'Microsoft.DocumentDB/databaseAccounts/write',
      account ? 'update the Cosmos DB account' : 'create the Cosmos DB account',
      'DocumentDB Account Contributor'
    )
    if (uai) {
      need(
        uai.id,
        `user-assigned identity '${uai.name}'`,
        'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action',
        'give the identity to the Cosmos DB account',
        'Managed Identity Operator on the identity'
      )
    }
  }
  return needed
}

/** Whether an existing account's identities differ from what `identity-mode` asks for. */
function accountNeedsUpdate(
  ctx: StepContext,
  seen: Observation,
  account: CosmosAccountState
): boolean {
  const { mode, userAssignedIdentity } = ctx.inputs.identity
  switch (mode) {
    case 'first-party':
      return !sameIdentity(account.defaultIdentity, 'FirstPartyIdentity')
    case 'user-assigned':
      return !sameIdentity(
        account.defaultIdentity,
        `UserAssignedIdentity=${seen.userAssignedIdentity?.id ?? userAssignedIdentity?.id ?? ''}`
      )
    case 'system-assigned':
      return !sameIdentity(account.defaultIdentity, 'SystemAssignedIdentity')
  }
}
