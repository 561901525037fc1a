import type {
  CosmosAccountState,
  HsmDataPlane,
  ManagedHsmState,
  RoleAssignment
} from '../azure/api.js'
import type { Inputs } from '../inputs/settings.js'
import { versionlessKeyUri } from '../key-uri.js'
import { buildOutputs, type AccountOutcome, type ActionOutputs } from '../outputs.js'
import { ensureAccount } from '../steps/account.js'
import { ensureAccountKey } from '../steps/account-key.js'
import { ensureActivated } from '../steps/activation.js'
import { inTurn, Slots } from '../concurrency.js'
import { describeError } from '../errors.js'
import { accountNames } from '../inputs/settings.js'
import { removeBootstrapAssignment, type BootstrapRemoval } from '../steps/bootstrap.js'
import { dataPlaneUri, eachAccount, record, runKeyUri } from '../steps/context.js'
import type { Phases, StepContext } from '../steps/context.js'
import { ensureKeyAccess, type CreationIdentity, type KeyAccess } from '../steps/grants.js'
import { ensureHsm } from '../steps/hsm.js'
import { ensureDefaultIdentity, ensureUserAssignedAttached } from '../steps/identity.js'
import { Step, type StepName } from '../steps/names.js'
import { StepGraph } from './step-graph.js'
import { observe, type Observation } from '../steps/observe.js'
import { missingPermissions, PermissionReads } from '../steps/permissions.js'
import { preflight } from '../steps/preflight.js'
import { firstPartyPrincipalId } from '../steps/principals.js'
import { ensureProviders, type ProviderRegistrations } from '../steps/providers.js'
import {
  EarlySystemGrant,
  ensureSystemAssigned,
  planSystemAssigned
} from '../steps/system-identity.js'

/** What every account of the run shares: done once, before the accounts. */
interface Shared {
  seen: Observation
  /** Accounts of a fleet that cannot succeed (name: why); the others go on. */
  refused: Map<string, string>
  creation: CreationIdentity
  providers: ProviderRegistrations
  gate: RegistrationGate
  hsm?: ManagedHsmState
  plane?: HsmDataPlane
  access: KeyAccess
  keyUri: string
}

/**
 * One call per phase, each returning what it produced; the phases that can overlap do. The
 * accounts come last: one in its own log groups, or a fleet `account-concurrency` at a time (mode
 * prepare: none, for the jobs of a matrix to do).
 */
export async function provision(ctx: StepContext, phases: Phases): Promise<ActionOutputs> {
  const shared = await prepare(ctx, phases)
  const fleet = accountNames(ctx.inputs).length !== 1
  const { outcomes, removed } = fleet
    ? await provisionFleet(ctx, phases, shared)
    : oneAccount(await provisionAccount(ctx, phases, shared, { removeBootstrap: true }))
  await shared.providers.done()
  const failed = outcomes.filter(o => o.failure)
  const outputs = outputsOf(ctx, shared, { outcomes, removed }, fleet)
  if (failed.length) throw new FleetFailure(failed, outcomes.length, outputs)
  return outputs
}

/** Sign-in is done: the providers, the HSM and its activation, the admin grant, the key and its grant. */
async function prepare(ctx: StepContext, phases: Phases): Promise<Shared> {
  const { phase } = phases
  const { observed, providers, activated, access } = await new StepGraph()
    .add('observed', [], () =>
      phase(Step.Observe, async () => {
        const { seen, refused } = await observeAndCheck(ctx)
        return { seen, refused, creation: creationIdentity(ctx.inputs, seen) }
      })
    )
    .add('providers', ['observed'], ({ observed }) =>
      phase(Step.Providers, async () => {
        const providers = ensureProviders(ctx, observed.seen.providers)
        return { providers, gate: registrationGate(providers, phases) }
      })
    )
    .add('provisioned', ['observed', 'providers'], ({ observed: { seen }, providers }) =>
      phase(Step.Hsm, async () => {
        if (!seen.hsm?.enablePurgeProtection) await providers.gate.registered('Microsoft.KeyVault')
        return ensureHsm(ctx, seen.hsm)
      })
    )
    .add(
      'activated',
      ['observed', 'providers', 'provisioned'],
      ({ observed, providers, provisioned }) =>
        phase(Step.Activation, async () => {
          const hsm = await providers.gate.alongside(
            ensureActivated(ctx, provisioned, observed.seen.securityDomainDownload)
          )
          return { hsm, plane: dataPlaneOf(ctx, hsm) }
        })
    )
    .add('access', ['observed', 'providers', 'activated'], ({ observed, providers, activated }) =>
      phase(Step.KeyAccess, () =>
        providers.gate.alongside(
          ensureKeyAccess(ctx, phases, activated.plane, observed.seen, observed.creation)
        )
      )
    )
    .run()
  const keyUri = access.key ? versionlessKeyUri(access.key.id) : runKeyUri(ctx, activated.hsm)
  return { ...observed, ...providers, ...activated, access, keyUri }
}

/** The accounts of a fleet side by side; one that fails is recorded and does not stop the others. */
async function provisionFleet(
  ctx: StepContext,
  phases: Phases,
  shared: Shared
): Promise<AccountsDone> {
  const names = accountNames(ctx.inputs)
  if (!names.length) return { outcomes: [] }
  ctx.log.info(
    `${names.length} accounts on key ${shared.keyUri}, ${ctx.inputs.account.concurrency} at a time.`
  )
  // Every account starts at once and takes one of `account-concurrency` places; an account that
  // waits for Azure (its creation, a propagation) gives its place to the next meanwhile.
  const slots = new Slots(ctx.inputs.account.concurrency)
  const results = await eachAccount(ctx, names.length, async (actx, name) => {
    const turn = slots.turn()
    const refusal = shared.refused.get(name)
    if (refusal) {
      record(actx, { step: Step.Account, observed: refusal, action: 'none', result: 'failed' })
      return failedAccount(name, Step.Observe, refusal, false)
    }
    const own = phases.forAccount(name)
    await turn.take()
    try {
      // The bootstrap grant is shared: removed once every account has moved off it (below).
      const result = await inTurn(turn, () =>
        provisionAccount(actx, own, shared, { removeBootstrap: false })
      )
      return { ...result, changed: actx.changed }
    } catch (error) {
      const step = own.failedStep() ?? Step.Account
      const message = describeError(error)
      record(actx, { step, observed: message, action: 'none', result: 'failed' })
      return failedAccount(name, step, message, actx.changed)
    } finally {
      turn.give()
    }
  })
  ctx.changed ||= results.some(r => r.changed)
  return { outcomes: results, removed: await removeSharedBootstrap(ctx, phases, shared, results) }
}

/** What the accounts' steps produced, and the bootstrap assignment the run removed, if it did. */
interface AccountsDone {
  outcomes: AccountResult[]
  removed?: string
}

function oneAccount(result: AccountResult): AccountsDone {
  return { outcomes: [result], removed: result.removed }
}

function failedAccount(
  name: string,
  step: StepName,
  message: string,
  changed: boolean
): AccountResult {
  return { name, changed, assignments: [], failure: { step, message } }
}

/** With `remove-bootstrap-assignment`: once, when every account of the fleet reads back its own identity. */
async function removeSharedBootstrap(
  ctx: StepContext,
  { phase }: Phases,
  shared: Shared,
  results: AccountResult[]
): Promise<string | undefined> {
  if (!ctx.inputs.identity.removeBootstrapAssignment) return undefined
  const last = results.at(-1)
  if (!last?.account || results.some(r => r.failure || !r.verified)) {
    record(ctx, {
      step: Step.Bootstrap,
      observed: 'not every account of the fleet uses SystemAssignedIdentity yet',
      action: 'remove the bootstrap grant once they all do',
      result: ctx.plan ? 'would-change' : 'skipped'
    })
    return undefined
  }
  return phase(Step.Bootstrap, () =>
    removeBootstrapAssignment(ctx, bootstrapRemoval(shared, last.account!, true))
  )
}

/** Raised once every account of a fleet was tried, when one or more failed. */
export class FleetFailure extends Error {
  constructor(
    readonly failed: AccountResult[],
    total: number,
    readonly outputs: ActionOutputs
  ) {
    super(
      `${failed.length} of ${total} accounts failed (the others are done; a re-run finishes only what is missing):\n` +
        failed.map(f => `- ${f.name}: ${f.failure?.step}: ${f.failure?.message}`).join('\n')
    )
    this.name = 'FleetFailure'
  }
}

function outputsOf(
  ctx: StepContext,
  shared: Shared,
  { outcomes, removed }: AccountsDone,
  fleet: boolean
): ActionOutputs {
  const { hsm, access, keyUri, creation } = shared
  const one = fleet ? undefined : outcomes[0]
  const assignments = [...access.assignments, ...outcomes.flatMap(o => o.assignments)].filter(
    a => a.id.toLowerCase() !== removed?.toLowerCase()
  )
  return buildOutputs({
    hsmUri: hsm?.hsmUri || `${dataPlaneUri(ctx, hsm)}/`,
    keyUri,
    key: access.key,
    adminPrincipalId: ctx.principal.objectId,
    keyHolder: one ? one.keyHolder : sharedKeyHolder(ctx, access),
    userAssignedPrincipalId: creation.userAssigned?.principalId,
    systemAssignedPrincipalId: one?.systemPrincipalId,
    account: one?.account,
    assignments: uniqueById(assignments),
    changed: ctx.changed,
    fleet: fleet ? outcomes : undefined
  })
}

/** In a fleet, the key holder all accounts share, unless each holds the key with its own identity. */
function sharedKeyHolder(ctx: StepContext, access: KeyAccess): string | undefined {
  return ctx.inputs.identity.mode === 'system-assigned' ? undefined : access.creationPrincipal
}

function uniqueById(assignments: RoleAssignment[]): RoleAssignment[] {
  const seen = new Set<string>()
  return assignments.filter(a => {
    const id = a.id.toLowerCase()
    if (seen.has(id)) return false
    seen.add(id)
    return true
  })
}

/** What one account's steps produced. */
interface AccountResult extends AccountOutcome {
  systemPrincipalId?: string
  /** Whether the account reads back SystemAssignedIdentity (system-assigned mode). */
  verified?: boolean
  assignments: RoleAssignment[]
  /** The id of the bootstrap assignment the run removed. */
  removed?: string
}

/** One account onto the key: created with it, or brought onto the identity and then the key. */
async function provisionAccount(
  ctx: StepContext,
  phases: Phases,
  shared: Shared,
  options: { removeBootstrap: boolean }
): Promise<AccountResult> {
  const { phase } = phases
  const { creation, gate, keyUri, plane } = shared
  const seenAccount = shared.seen.accounts.get(ctx.inputs.account.name)
  const early =
    ctx.inputs.identity.mode === 'system-assigned'
      ? new EarlySystemGrant(ctx, plane?.rbac, work => phases.step(Step.SystemIdentity, work))
      : undefined
  const accountNamespaces = creation.userAssigned
    ? ['Microsoft.DocumentDB', 'Microsoft.ManagedIdentity']
    : ['Microsoft.DocumentDB']
  const { identity, encrypted } = await new StepGraph()
    .add('account', [], () =>
      phase(Step.Account, async () => {
        if (!seenAccount) await gate.registered(...accountNamespaces)
        return ensureAccount(ctx, seenAccount, {
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
    )
    .add('identity', ['account'], async ({ account }) => {
      // Updates of an existing account need the namespaces too.
      await gate.registered(...accountNamespaces)
      return ensureAccountIdentity(ctx, phases, {
        account,
        shared,
        early,
        removeBootstrap: options.removeBootstrap
      })
    })
    // An existing account moves to the key only once its identity holds the grant.
    .add('encrypted', ['identity'], async ({ identity }) =>
      identity.account
        ? phase(Step.AccountKey, () => ensureAccountKey(ctx, identity.account!, keyUri))
        : undefined
    )
    .run()
  return {
    name: ctx.inputs.account.name,
    account: encrypted,
    keyHolder: identity.keyHolder,
    systemPrincipalId: identity.systemPrincipalId,
    verified: identity.verified,
    changed: ctx.changed,
    assignments: identity.assignments,
    removed: identity.removed
  }
}

/** Every read up front, then every refusal before the first write. */
async function observeAndCheck(
  ctx: StepContext
): Promise<{ seen: Observation; refused: Map<string, string> }> {
  const firstParty = creationKind(ctx.inputs) === 'first-party'
  const permissions = new PermissionReads(ctx)
  permissions.startCreations()
  // Looked up before any write, so that a Graph refusal changes nothing; alongside the other
  // reads. A system-assigned account needs it only while it does not exist (which the reads tell).
  const lookUpPrincipal = () => firstPartyPrincipalId(ctx).catch(() => {})
  if (firstParty && ctx.inputs.identity.mode !== 'system-assigned') lookUpPrincipal()
  const seen = await observe(ctx, {
    account: (_, account) => {
      if (firstParty && needsCreationGrant(ctx.inputs, [account])) lookUpPrincipal()
    }
  })
  const refused = preflight(ctx, seen, await missingPermissions(ctx, seen, permissions))
  if (firstParty && needsCreationGrant(ctx.inputs, [...seen.accounts.values()])) {
    await firstPartyPrincipalId(ctx)
  }
  return { seen, refused }
}

function creationKind(inputs: Inputs): CreationIdentity['kind'] {
  const { mode, bootstrap } = inputs.identity
  if (mode === 'system-assigned') return bootstrap
  return mode
}

/** A system-assigned account needs the bootstrap identity's grant only until it exists. */
function needsCreationGrant(inputs: Inputs, accounts: (CosmosAccountState | undefined)[]): boolean {
  // No account at all (mode prepare): the accounts' jobs will create theirs.
  return (
    inputs.identity.mode !== 'system-assigned' ||
    !accounts.length ||
    accounts.some(account => !account)
  )
}

function creationIdentity(inputs: Inputs, seen: Observation): CreationIdentity {
  const id = seen.userAssignedIdentity?.id || inputs.identity.userAssignedIdentity?.id
  return {
    kind: creationKind(inputs),
    needsGrant: needsCreationGrant(inputs, [...seen.accounts.values()]),
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
  /** Whether the account reads back SystemAssignedIdentity (system-assigned mode). */
  verified?: boolean
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
    shared: Shared
    early?: EarlySystemGrant
    removeBootstrap: boolean
  }
): Promise<AccountIdentity> {
  const { account, shared } = given
  const { creation, access, plane } = shared
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
    ensureSystemAssigned(ctx, account, plane?.rbac, given.early)
  )
  const removed =
    ctx.inputs.identity.removeBootstrapAssignment && given.removeBootstrap
      ? await phase(Step.Bootstrap, () =>
          removeBootstrapAssignment(
            ctx,
            bootstrapRemoval(shared, outcome.account, outcome.verified)
          )
        )
      : undefined
  return {
    account: outcome.account,
    keyHolder: outcome.verified ? outcome.principalId : base.keyHolder,
    systemPrincipalId: outcome.principalId,
    verified: outcome.verified,
    assignments: outcome.grant?.assignment ? [outcome.grant.assignment] : [],
    removed
  }
}

function bootstrapRemoval(
  { plane, keyUri, creation }: Shared,
  account: CosmosAccountState,
  verified: boolean
): BootstrapRemoval {
  const uai = creation.userAssigned
  return {
    rbac: plane?.rbac,
    verified,
    account,
    keyUri,
    userAssignedIdentity: uai?.principalId
      ? { id: uai.id, principalId: uai.principalId }
      : undefined
  }
}
