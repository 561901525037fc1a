import type {
  CosmosAccountState,
  HsmKeyState,
  ManagedHsmState,
  ProviderState,
  RoleAssignment,
  RotationPolicy,
  SecurityDomainStatus,
  UserAssignedIdentityState
} from '../azure/api.js'
import { isRbacDenied, statusOf } from '../errors.js'
import { hsmBaseUri } from '../key-uri.js'
import { accountNames, type Inputs } from '../inputs/settings.js'
import { mapLimited } from '../concurrency.js'
import {
  dataPlaneUri,
  type DataPlaneAhead,
  type SignedInPrincipal,
  type StepContext
} from './context.js'

export interface Observation {
  providers: ProviderState[]
  hsm?: ManagedHsmState
  userAssignedIdentity?: UserAssignedIdentityState
  /** The first account of the run (the only one, unless `account-name` lists a fleet). */
  account?: CosmosAccountState
  /** Every account of the run by name; undefined: it does not exist. */
  accounts: Map<string, CosmosAccountState | undefined>
  /** The key, when the signed-in principal could already read it (`key` undefined: absent). */
  key?: { key?: HsmKeyState }
  /** The signed-in principal's assignments at /keys, when they could be read. */
  adminGrants?: RoleAssignment[]
  /** A security domain download under way on an HSM that is not active yet, when it could be read. */
  securityDomainDownload?: SecurityDomainStatus
  /** With `rotate-key`: the key's rotation policy (null: none), when it could be read. */
  rotationPolicy?: RotationPolicy | null
}

function requiredNamespaces(inputs: Inputs): string[] {
  const namespaces = ['Microsoft.DocumentDB', 'Microsoft.KeyVault']
  if (inputs.identity.userAssignedIdentity) namespaces.push('Microsoft.ManagedIdentity')
  return namespaces
}

/** Learns reads as they arrive, to start what depends on them alone. */
export interface EarlyReads {
  account?(name: string, account: CosmosAccountState | undefined): void
}

/** Every read that depends on nothing else, in parallel; `early` learns each as it arrives. */
export async function observe(ctx: StepContext, early: EarlyReads = {}): Promise<Observation> {
  const { inputs, apis } = ctx
  const uai = inputs.identity.userAssignedIdentity
  const observeHsm = async () => {
    // Read ahead by the run while it signed in, or now; one observation takes them.
    const early = ctx.dataPlaneAhead ?? readDataPlaneAhead(ctx)
    ctx.dataPlaneAhead = undefined
    try {
      const hsm = await apis.managedHsms.get(inputs.hsm.resourceGroup, inputs.hsm.name)
      if (hsm && hsm.activationStatus !== 'Active') {
        return { hsm, securityDomainDownload: await downloadStatus(ctx, hsm) }
      }
      if (hsm?.activationStatus !== 'Active') return { hsm }
      const hsmUri = dataPlaneUri(ctx, hsm)
      const [key, adminGrants] = await (early?.at(hsmUri) ?? dataPlaneReads(ctx, hsmUri))
      const rotationPolicy = key?.key ? await readablePolicy(ctx, hsm, key.key) : undefined
      return { hsm, key, adminGrants, rotationPolicy }
    } finally {
      early?.cancel()
    }
  }
  const [
    providers,
    { hsm, key, adminGrants, securityDomainDownload, rotationPolicy },
    userAssignedIdentity,
    accounts
  ] = await Promise.all([
    Promise.all(requiredNamespaces(inputs).map(ns => apis.providers.get(ns))),
    observeHsm(),
    uai
      ? apis.identities.getUserAssigned(uai.subscriptionId, uai.resourceGroup, uai.name)
      : undefined,
    readAccounts(ctx, early)
  ])
  return {
    providers,
    hsm,
    userAssignedIdentity,
    account: accounts.get(inputs.account.name),
    accounts,
    key,
    adminGrants,
    securityDomainDownload,
    rotationPolicy
  }
}

/**
 * What the HSM's data-plane reads need. The principal may still be signing in: the key's read
 * goes first, and its challenge travels with the token exchanges.
 */
export type DataPlaneView = Pick<StepContext, 'inputs' | 'cloud' | 'apis'> & {
  principal: SignedInPrincipal | Promise<SignedInPrincipal>
}

/** The key and the signed-in principal's grants at /keys, as far as they can be read yet. */
function dataPlaneReads(view: DataPlaneView, hsmUri: string, signal?: AbortSignal) {
  return Promise.all([readableKey(view, hsmUri, signal), readableGrants(view, hsmUri, signal)])
}

/**
 * The data-plane reads, started before ARM has answered from the host the HSM's name gives, for
 * an HSM the inputs say exists (not `create-hsm`): they count when ARM answers that the HSM is
 * active at that host (`at`), and are cancelled otherwise, so that nothing keeps retrying a host
 * that does not answer.
 */
export function readDataPlaneAhead(view: DataPlaneView): DataPlaneAhead | undefined {
  if (view.inputs.hsm.create) return undefined
  const guessed = hsmBaseUri(view.cloud, view.inputs.hsm.name)
  const controller = new AbortController()
  const reads = dataPlaneReads(view, guessed, controller.signal)
  // Awaited only when they count; until then a refusal is not this run's failure.
  reads.catch(() => {})
  let counted = false
  return {
    at: (hsmUri: string) => {
      counted = hsmUri.toLowerCase() === guessed.toLowerCase()
      return counted ? reads : undefined
    },
    cancel: () => {
      if (!counted) controller.abort()
    }
  }
}

/** Every account of the run, `account-concurrency` reads at a time. */
async function readAccounts(
  ctx: StepContext,
  early: EarlyReads
): Promise<Map<string, CosmosAccountState | undefined>> {
  const { inputs, apis } = ctx
  const names = accountNames(inputs)
  const states = await mapLimited(names, inputs.account.concurrency, async name => {
    const account = await apis.cosmos.get(inputs.resourceGroup, name)
    early.account?.(name, account)
    return account
  })
  return new Map(names.map((name, i) => [name, states[i]]))
}

/**
 * The download under way on a provisioned HSM that is not active, read only when this run would
 * activate it; undefined when there is none or the data plane does not answer yet.
 */
async function downloadStatus(
  ctx: StepContext,
  hsm: ManagedHsmState
): Promise<SecurityDomainStatus | undefined> {
  if (!ctx.inputs.securityDomain || !/^(Succeeded|Activated)$/i.test(hsm.provisioningState)) {
    return undefined
  }
  try {
    return await ctx.apis.hsm(dataPlaneUri(ctx, hsm)).securityDomain.downloadStatus()
  } catch {
    return undefined
  }
}

/** The rotation policy, read only when `rotate-key` needs one to exist; undefined if unreadable. */
async function readablePolicy(
  ctx: StepContext,
  hsm: ManagedHsmState,
  key: HsmKeyState
): Promise<RotationPolicy | null | undefined> {
  if (!ctx.inputs.key.rotateNow || ctx.inputs.key.rotation) return undefined
  try {
    return (await ctx.apis.hsm(dataPlaneUri(ctx, hsm)).keys.getRotationPolicy(key.name)) ?? null
  } catch (error) {
    if (isRbacDenied(error)) return undefined
    throw error
  }
}

/** The signed-in principal's assignments at /keys; undefined when they cannot be read (yet). */
async function readableGrants(
  view: DataPlaneView,
  hsmUri: string,
  signal?: AbortSignal
): Promise<RoleAssignment[] | undefined> {
  const { objectId } = await view.principal
  try {
    return await view.apis.hsm(hsmUri).rbac.listForPrincipal('/keys', objectId, { signal })
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
  view: DataPlaneView,
  hsmUri: string,
  signal?: AbortSignal
): Promise<{ key?: HsmKeyState } | undefined> {
  try {
    return { key: await view.apis.hsm(hsmUri).keys.get(view.inputs.key.name, { signal }) }
  } catch (error) {
    if (isRbacDenied(error)) return undefined
    throw error
  }
}
