import type { TokenCredential } from '@azure/core-auth'
import { createCredential } from './auth/credential.js'
import { signedInPrincipal } from './auth/principal.js'
import type {
  AzureApis,
  CosmosAccountState,
  HsmDataPlane,
  ManagedHsmState,
  RoleAssignment
} from './azure/api.js'
import { createAzureApis } from './azure/clients.js'
import { defaultTransport, type TransportSettings } from './azure/http.js'
import { systemClock, type Clock } from './clock.js'
import { getCloud } from './cloud.js'
import type { Inputs } from './inputs/settings.js'
import { keyUriFor, versionlessKeyUri } from './key-uri.js'
import { buildOutputs, type ActionOutputs } from './outputs.js'
import type { Runner } from './runner/runner.js'
import { nodeSecretFiles, type SecretFiles } from './secret-file.js'
import { ensureAccount } from './steps/account.js'
import { ensureActivated } from './steps/activation.js'
import { removeBootstrapAssignment } from './steps/bootstrap.js'
import {
  dataPlaneUri,
  defaultWaitLimits,
  logFor,
  record,
  type Phases,
  type StepContext,
  type StepRecord,
  type WaitLimits
} from './steps/context.js'
import { ensureKeyAccess, type CreationIdentity, type KeyAccess } from './steps/grants.js'
import { ensureHsm } from './steps/hsm.js'
import { ensureDefaultIdentity, ensureUserAssignedAttached } from './steps/identity.js'
import { Step, type StepName } from './steps/names.js'
import { observe, type Observation } from './steps/observe.js'
import { missingPermissions } from './steps/permissions.js'
import { preflight } from './steps/preflight.js'
import { firstPartyPrincipalId } from './steps/principals.js'
import { ensureProviders, type ProviderRegistrations } from './steps/providers.js'
import {
  EarlySystemGrant,
  ensureSystemAssigned,
  planSystemAssigned
} from './steps/system-identity.js'

export interface ProvisioningDeps {
  runner: Runner
  /** Default: the credential for `auth-type`. */
  credential?: TokenCredential
  /** Default: the Azure SDK clients, built on `credential`. */
  apis?: AzureApis
  clock?: Clock
  /** Aborts everything (the action wires `timeout-minutes` to it). */
  signal?: AbortSignal
  transport?: Partial<TransportSettings>
  waits?: Partial<WaitLimits>
  /** Default: the file system. */
  secretFiles?: SecretFiles
}

export interface ProvisioningResult {
  mode: Inputs['mode']
  changed: boolean
  outputs: ActionOutputs
  records: StepRecord[]
}

/** A failed run: the error, the step it failed in, and the records of the steps before it. */
export class ProvisioningError extends Error {
  constructor(
    override readonly cause: unknown,
    readonly step: StepName | 'unknown',
    readonly records: StepRecord[]
  ) {
    super(cause instanceof Error ? cause.message : String(cause))
    this.name = 'ProvisioningError'
  }
}

/**
 * The whole sequence: sign in, observe everything that can be read up front, refuse before any
 * write if the run cannot succeed, then let each step write only what differs. In plan mode every
 * read is done and nothing is written.
 */
export async function runProvisioning(
  inputs: Inputs,
  deps: ProvisioningDeps
): Promise<ProvisioningResult> {
  const cloud = getCloud(inputs.environment)
  const transport = { ...defaultTransport, ...deps.transport }
  const records: StepRecord[] = []
  const blame = new Blame(deps.runner)
  // Ends whatever may still run in the background (a registration wait) once the run is over.
  const run = new AbortController()
  const forward = () => run.abort(deps.signal?.reason)
  if (deps.signal?.aborted) forward()
  deps.signal?.addEventListener('abort', forward, { once: true })
  const signal = run.signal

  try {
    const credential =
      deps.credential ?? createCredential({ inputs, cloud, runner: deps.runner, transport })
    const principal = await blame.phase(Step.SignIn, () =>
      signedInPrincipal(credential, cloud, signal)
    )
    const ctx: StepContext = {
      inputs,
      cloud,
      apis:
        deps.apis ??
        createAzureApis({
          credential,
          cloud,
          subscriptionId: inputs.subscriptionId,
          transport,
          signal
        }),
      clock: deps.clock ?? systemClock,
      signal,
      log: logFor(deps.runner),
      waits: { ...defaultWaitLimits, ...deps.waits },
      plan: inputs.mode === 'plan',
      principal,
      tags: { ...deps.runner.resourceTags(), ...inputs.tags },
      records,
      secretFiles: deps.secretFiles ?? nodeSecretFiles,
      changed: false
    }
    record(ctx, {
      step: Step.SignIn,
      observed: `${inputs.auth.type}: object ${principal.objectId}, tenant ${principal.tenantId}`,
      action: 'none',
      result: 'ok'
    })
    if (ctx.plan) ctx.log.info('mode: plan: reading everything, writing nothing.')
    const outputs = await provision(ctx, blame)
    return { mode: inputs.mode, changed: ctx.changed, outputs, records }
  } catch (error) {
    const step = blame.failedStep()
    records.push({ step, observed: '', action: '', result: 'failed' })
    throw new ProvisioningError(error, step, records)
  } finally {
    deps.signal?.removeEventListener('abort', forward)
    run.abort(new Error('The run is over.'))
  }
}

/** Runs phases in log groups and remembers which step failed first. */
class Blame implements Phases {
  private current: StepName = Step.SignIn
  // The step that failed first, when steps run side by side or one joins another.
  private failedIn?: StepName

  constructor(private readonly runner: Runner) {}

  phase = async <T>(name: StepName, work: () => Promise<T>): Promise<T> => {
    this.current = name
    return this.runner.group(name, work)
  }

  step = async <T>(name: StepName, work: () => Promise<T>): Promise<T> => {
    try {
      return await work()
    } catch (error) {
      this.failedIn ??= name
      throw error
    }
  }

  failedStep(): StepName {
    return this.failedIn ?? this.current
  }
}

/** One call per phase, each returning what it produced; the phases that can overlap do. */
async function provision(ctx: StepContext, phases: Phases): Promise<ActionOutputs> {
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
  await providers.done()

  return buildOutputs({
    hsmUri: hsm?.hsmUri || `${dataPlaneUri(ctx, hsm)}/`,
    keyUri,
    key: access.key,
    adminPrincipalId: ctx.principal.objectId,
    keyHolder: identity.keyHolder,
    userAssignedPrincipalId: creation.userAssigned?.principalId,
    systemAssignedPrincipalId: identity.systemPrincipalId,
    account: identity.account,
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
