import type {
  CosmosAccountState,
  HsmDataPlane,
  ManagedHsmState,
  RoleAssignment
} from '../azure/api.js'
import type { Inputs } from '../inputs/settings.js'
import { keyUriFor, versionlessKeyUri } from '../key-uri.js'
import { buildOutputs, type ActionOutputs } from '../outputs.js'
import { ensureAccount } from '../steps/account.js'
import { ensureAccountKey } from '../steps/account-key.js'
import { ensureActivated } from '../steps/activation.js'
import { removeBootstrapAssignment } from '../steps/bootstrap.js'
import { dataPlaneUri, type Phases, type StepContext } from '../steps/context.js'
import { ensureKeyAccess, type CreationIdentity, type KeyAccess } from '../steps/grants.js'
import { ensureHsm } from '../steps/hsm.js'
import { ensureDefaultIdentity, ensureUserAssignedAttached } from '../steps/identity.js'
import { Step } from '../steps/names.js'
import { observe, type Observation } from '../steps/observe.js'
import { missingPermissions } from '../steps/permissions.js'
import { preflight } from '../steps/preflight.js'
import { firstPartyPrincipalId } from '../steps/principals.js'
import { ensureProviders, type ProviderRegistrations } from '../steps/providers.js'
import {
  EarlySystemGrant,
  ensureSystemAssigned,
  planSystemAssigned
} from '../steps/system-identity.js'

/** One call per phase, each returning what it produced; the phases that can overlap do. */
export async function provision(ctx: StepContext, phases: Phases): Promise<ActionOutputs> {
  const { phase } = phases
  const seen = await phase(Step.Observe, () => observeAndCheck(ctx))
  const creation = creationIdentity(ctx.inputs, seen)
  const providers = await phase(Step.Providers, async () => ensureProviders(ctx, seen.providers))
  const gate = registrationGate(providers, phases)

  const provisioned = await phase(Step.Hsm, async () => {
    if (!seen.hsm?.enablePurgeProtection) await gate.registered('Microsoft.KeyVault')
    return ensureHsm(ctx, seen.hsm)
  })
  const hsm = await phase(Step.Activation, () =>
    gate.alongside(ensureActivated(ctx, provisioned, seen.securityDomainDownload))
  )
  const plane = dataPlaneOf(ctx, hsm)

  const access = await phase(Step.KeyAccess, () =>
    gate.alongside(ensureKeyAccess(ctx, phases, plane, seen, creation))
  )
  const keyUri = access.key
    ? versionlessKeyUri(access.key.id)
    : keyUriFor(dataPlaneUri(ctx, hsm), ctx.inputs.key.name)

  const early =
    ctx.inputs.identity.mode === 'system-assigned'
      ? new EarlySystemGrant(ctx, plane?.rbac, work => phases.step(Step.SystemIdentity, work))
      : undefined
  const accountNamespaces = creation.userAssigned
    ? ['Microsoft.DocumentDB', 'Microsoft.ManagedIdentity']
    : ['Microsoft.DocumentDB']
  const account = await phase(Step.Account, async () => {
    if (!seen.account) await gate.registered(...accountNamespaces)
    return ensureAccount(ctx, seen.account, {
      keyVaultKeyUri: keyUri,
      defaultIdentity: creationDefaultIdentity(creation),
      userAssignedIdentityId:
        creation.kind === 'user-assigned' ? creation.userAssigned?.id : undefined,
      // Created with the account, so that its grant can start right away; the switch of the
      // default identity to it stays a separate update.
      systemAssigned: !!early,
      systemPrincipalCreated: early?.created
    })
  })
  // Updates of an existing account need the namespaces too.
  await gate.registered(...accountNamespaces)
  const identity = await ensureAccountIdentity(ctx, phases, {
    account,
    plane,
    creation,
    access,
    keyUri,
    early
  })
  // An existing account moves to the key only once its identity holds the grant.
  const encrypted = identity.account
    ? await phase(Step.AccountKey, () => ensureAccountKey(ctx, identity.account!, keyUri))
    : undefined
  await providers.done()

  return buildOutputs({
    hsmUri: hsm?.hsmUri || `${dataPlaneUri(ctx, hsm)}/`,
    keyUri,
    key: access.key,
    adminPrincipalId: ctx.principal.objectId,
    keyHolder: identity.keyHolder,
    userAssignedPrincipalId: creation.userAssigned?.principalId,
    systemAssignedPrincipalId: identity.systemPrincipalId,
    account: encrypted,
    assignments: [...access.assignments, ...identity.assignments].filter(
      a => a.id.toLowerCase() !== identity.removed?.toLowerCase()
    ),
    changed: ctx.changed
  })
}

/** Every read up front, then every refusal before the first write. */
async function observeAndCheck(ctx: StepContext): Promise<Observation> {
  const firstParty = creationKind(ctx.inputs) === 'first-party'
  // Looked up before any write, so that a Graph refusal changes nothing; alongside the other
  // reads, and only needed while the account does not exist (which the reads tell).
  const seen = await observe(ctx, account => {
    if (firstParty && needsCreationGrant(ctx.inputs, account)) {
      firstPartyPrincipalId(ctx).catch(() => {})
    }
  })
  preflight(ctx, seen, await missingPermissions(ctx, seen))
  if (firstParty && needsCreationGrant(ctx.inputs, seen.account)) await firstPartyPrincipalId(ctx)
  return seen
}

function creationKind(inputs: Inputs): CreationIdentity['kind'] {
  const { mode, bootstrap } = inputs.identity
  if (mode === 'system-assigned') return bootstrap
  return mode
}

/** A system-assigned account needs the bootstrap identity's grant only until it exists. */
function needsCreationGrant(inputs: Inputs, account: CosmosAccountState | undefined): boolean {
  return inputs.identity.mode !== 'system-assigned' || !account
}

function creationIdentity(inputs: Inputs, seen: Observation): CreationIdentity {
  const id = seen.userAssignedIdentity?.id || inputs.identity.userAssignedIdentity?.id
  return {
    kind: creationKind(inputs),
    needsGrant: needsCreationGrant(inputs, seen.account),
    userAssigned: id ? { id, principalId: seen.userAssignedIdentity?.principalId } : undefined
  }
}

function creationDefaultIdentity(creation: CreationIdentity): string {
  return creation.kind === 'first-party'
    ? 'FirstPartyIdentity'
    : `UserAssignedIdentity=${creation.userAssigned?.id}`
}

/** The data plane answers only for a provisioned, active HSM; in plan mode it may be neither yet. */
function dataPlaneOf(ctx: StepContext, hsm: ManagedHsmState | undefined): HsmDataPlane | undefined {
  return hsm?.activationStatus === 'Active' ? ctx.apis.hsm(dataPlaneUri(ctx, hsm)) : undefined
}

interface RegistrationGate {
  /** Waits for the namespaces a write needs; blamed on the providers step if one fails. */
  registered(...namespaces: string[]): Promise<void>
  /** Work that does not need the registrations, stopped early when one of them fails. */
  alongside<T>(work: Promise<T>): Promise<T>
}

/** Registration runs alongside; each write joins the namespace it needs right before it. */
function registrationGate(providers: ProviderRegistrations, { step }: Phases): RegistrationGate {
  const failed = step(Step.Providers, () => providers.failed)
  failed.catch(() => {})
  return {
    registered: (...namespaces) =>
      step(Step.Providers, async () => {
        await Promise.all(namespaces.map(ns => providers.ready(ns)))
      }),
    alongside: work => Promise.race([work, failed])
  }
}

interface AccountIdentity {
  account?: CosmosAccountState
  keyHolder?: string
  systemPrincipalId?: string
  assignments: RoleAssignment[]
  /** The id of the bootstrap assignment the run removed. */
  removed?: string
}

/** Brings an existing (or just created) account onto the identity `identity-mode` asks for. */
async function ensureAccountIdentity(
  ctx: StepContext,
  { phase }: Phases,
  given: {
    account?: CosmosAccountState
    plane?: HsmDataPlane
    creation: CreationIdentity
    access: KeyAccess
    keyUri: string
    early?: EarlySystemGrant
  }
): Promise<AccountIdentity> {
  const { account, creation, access } = given
  const mode = ctx.inputs.identity.mode
  const base = {
    account,
    keyHolder: access.creationPrincipal,
    systemPrincipalId: account?.identity.principalId,
    assignments: []
  }
  const uai = creation.userAssigned
  if (!account) {
    if (mode === 'system-assigned') planSystemAssigned(ctx)
    return base
  }
  if (mode === 'first-party') {
    const updated = await phase(Step.DefaultIdentity, () =>
      ensureDefaultIdentity(ctx, account, 'FirstPartyIdentity')
    )
    return { ...base, account: updated }
  }
  if (mode === 'user-assigned') {
    if (!uai) return base
    const updated = await phase(Step.DefaultIdentity, async () => {
      const attached = await ensureUserAssignedAttached(ctx, account, uai.id)
      return ensureDefaultIdentity(ctx, attached, `UserAssignedIdentity=${uai.id}`)
    })
    return { ...base, account: updated, keyHolder: uai.principalId }
  }
  const outcome = await phase(Step.SystemIdentity, () =>
    ensureSystemAssigned(ctx, account, given.plane?.rbac, given.early)
  )
  const removed = ctx.inputs.identity.removeBootstrapAssignment
    ? await phase(Step.Bootstrap, () =>
        removeBootstrapAssignment(ctx, {
          rbac: given.plane?.rbac,
          verified: outcome.verified,
          account: outcome.account,
          keyUri: given.keyUri,
          userAssignedIdentity: uai?.principalId
            ? { id: uai.id, principalId: uai.principalId }
            : undefined
        })
      )
    : undefined
  return {
    account: outcome.account,
    keyHolder: outcome.verified ? outcome.principalId : base.keyHolder,
    systemPrincipalId: outcome.principalId,
    assignments: outcome.grant?.assignment ? [outcome.grant.assignment] : [],
    removed
  }
}
