import { existsSync } from 'node:fs'
import { chmod, writeFile } from 'node:fs/promises'
import type { TokenCredential } from '@azure/core-auth'
import { createCredential } from './auth/credential.js'
import { signedInPrincipal } from './auth/principal.js'
import type { AzureApis, CosmosAccountState, HsmDataPlane, HsmKeyState } from './azure/api.js'
import { createAzureApis } from './azure/clients.js'
import { defaultTransport, type TransportSettings } from './azure/http.js'
import { systemClock, type Clock } from './clock.js'
import { getCloud } from './cloud.js'
import type { Inputs } from './inputs.js'
import { keyUriFor, versionlessKeyUri } from './keyUri.js'
import { hsmRoles } from './roles.js'
import type { Runner } from './runner/runner.js'
import {
  ensureAccount,
  ensureDefaultIdentity,
  ensureSystemAssigned,
  grantSystemIdentity,
  ensureUserAssignedAttached
} from './steps/account.js'
import {
  defaultWaitLimits,
  logFor,
  record,
  type SecretFileWriter,
  type SignedInPrincipal,
  type StepContext,
  type StepRecord,
  type WaitLimits
} from './steps/context.js'
import { removeBootstrapAssignment } from './steps/bootstrap.js'
import { ensureActivated, ensureHsm } from './steps/hsm.js'
import { ensureKey } from './steps/key.js'
import { hsmBaseUri, observe, preflight, type Observation } from './steps/observe.js'
import { firstPartyPrincipalId } from './steps/principals.js'
import { ensureProviders } from './steps/providers.js'
import { ensureRoleAssignment, type GrantOutcome } from './steps/roleAssignments.js'

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
  fileExists?: (path: string) => boolean
  writeSecretFile?: SecretFileWriter
}

export const outputNames = [
  'hsm-uri',
  'key-uri',
  'key-id',
  'key-version',
  'admin-principal-id',
  'cosmos-principal-id',
  'user-assigned-principal-id',
  'system-assigned-principal-id',
  'default-identity',
  'account-id',
  'account-endpoint',
  'role-assignment-ids',
  'changed'
] as const

export type OutputName = (typeof outputNames)[number]
export type ActionOutputs = Partial<Record<OutputName, string>>

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
    readonly step: string,
    readonly records: StepRecord[]
  ) {
    super(cause instanceof Error ? cause.message : String(cause))
    this.name = 'ProvisioningError'
  }
}

export const writeSecretFileOwnerOnly: SecretFileWriter = async (path, content) => {
  await writeFile(path, content, { mode: 0o600, flag: 'wx' })
  await chmod(path, 0o600)
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
  const log = logFor(deps.runner)
  const records: StepRecord[] = []
  let current = 'Sign in'
  // The step that failed first, when steps run side by side or one joins another.
  let failedIn: string | undefined
  const steps: Steps = {
    phase: async (name, work) => {
      current = name
      return deps.runner.group(name, work)
    },
    step: async (name, work) => {
      try {
        return await work()
      } catch (error) {
        failedIn ??= name
        throw error
      }
    }
  }
  const { phase } = steps
  // Ends whatever may still run in the background (a registration wait) once the run is over.
  const run = new AbortController()
  const forward = () => run.abort(deps.signal?.reason)
  if (deps.signal?.aborted) forward()
  deps.signal?.addEventListener('abort', forward, { once: true })
  const signal = run.signal

  try {
    const credential =
      deps.credential ?? createCredential({ inputs, cloud, runner: deps.runner, transport })
    const principal: SignedInPrincipal = await phase('Sign in', () =>
      signedInPrincipal(credential, cloud, signal)
    )
    records.push({
      step: 'Sign in',
      observed: `${inputs.auth.type}: object ${principal.objectId}, tenant ${principal.tenantId}`,
      action: 'none',
      result: 'ok'
    })
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
      log,
      waits: { ...defaultWaitLimits, ...deps.waits },
      plan: inputs.mode === 'plan',
      principal,
      tags: { ...deps.runner.resourceTags(), ...inputs.tags },
      records,
      fileExists: deps.fileExists ?? existsSync,
      writeSecretFile: deps.writeSecretFile ?? writeSecretFileOwnerOnly,
      changed: false
    }
    if (ctx.plan) log.info('mode: plan: reading everything, writing nothing.')
    const outputs = await provision(ctx, steps)
    return { mode: inputs.mode, changed: ctx.changed, outputs, records }
  } catch (error) {
    const step = failedIn ?? current
    records.push({ step, observed: '', action: '', result: 'failed' })
    throw new ProvisioningError(error, step, records)
  } finally {
    deps.signal?.removeEventListener('abort', forward)
    run.abort(new Error('The run is over.'))
  }
}

interface Steps {
  /** A step (or steps) on its own: a log group, and the step named if it fails. */
  phase<T>(name: string, work: () => Promise<T>): Promise<T>
  /** A step within a phase, e.g. one of several side by side: named if it fails first. */
  step<T>(name: string, work: () => Promise<T>): Promise<T>
}

async function provision(ctx: StepContext, { phase, step }: Steps): Promise<ActionOutputs> {
  const { inputs } = ctx
  // The principal Cosmos DB uses to reach the key while the account is created.
  const mode = inputs.identity.mode
  const createsWith =
    mode === 'system-assigned'
      ? inputs.identity.bootstrap
      : mode === 'user-assigned'
        ? 'user-assigned'
        : 'first-party'
  const seen = await phase('Observe', async () => {
    // Looked up before any write, so that a Graph refusal changes nothing; alongside the other
    // reads, and only needed while the account does not exist (which the reads tell).
    const observation = await observe(ctx, account => {
      if (createsWith === 'first-party' && (mode !== 'system-assigned' || !account)) {
        firstPartyPrincipalId(ctx).catch(() => {})
      }
    })
    preflight(ctx, observation)
    if (createsWith === 'first-party' && needsCreationGrant(mode, observation)) {
      await firstPartyPrincipalId(ctx)
    }
    return observation
  })

  // Registration runs alongside; each write joins the namespace it needs right before it.
  const providers = await phase('Resource providers', async () =>
    ensureProviders(ctx, seen.providers)
  )
  const providersFailed = step('Resource providers', () => providers.failed)
  providersFailed.catch(() => {})
  const registered = (...namespaces: string[]) =>
    step('Resource providers', async () => {
      await Promise.all(namespaces.map(ns => providers.ready(ns)))
    })
  /** Work that does not need the registrations, stopped early when one of them fails. */
  const alongside = <T>(work: Promise<T>) => Promise.race([work, providersFailed])

  let hsm = await phase('Managed HSM', async () => {
    if (!seen.hsm || !seen.hsm.enablePurgeProtection) await registered('Microsoft.KeyVault')
    return ensureHsm(ctx, seen.hsm)
  })
  hsm = await phase('HSM activation', () => alongside(ensureActivated(ctx, hsm)))

  // The data plane answers only for a provisioned, active HSM; in plan mode it may be neither yet.
  const ready = hsm?.activationStatus === 'Active'
  const base = hsmBaseUri(ctx, hsm)
  const plane: HsmDataPlane | undefined = ready ? ctx.apis.hsm(base) : undefined
  const assignmentIds: string[] = []
  const keyScope = inputs.roleScope === 'key' ? `/keys/${inputs.key.name}` : '/keys'

  const uaiId = seen.userAssignedIdentity?.id || inputs.identity.userAssignedIdentity?.id
  const uaiPrincipal = seen.userAssignedIdentity?.principalId
  let creationPrincipal: string | undefined
  let adminGrantId: string | undefined
  let cosmosGrantId: string | undefined

  const adminAccess = () =>
    step('Admin key access', async () => {
      if (!plane) {
        return notReadable(
          ctx,
          'Admin key access',
          `assign '${hsmRoles.cryptoUser.name}' at /keys to ${ctx.principal.objectId}`
        )
      }
      const grant = await ensureRoleAssignment(
        ctx,
        plane.rbac,
        {
          step: 'Admin key access',
          role: hsmRoles.cryptoUser,
          scope: '/keys',
          principalId: ctx.principal.objectId,
          principalLabel: 'the signed-in principal'
        },
        seen.adminGrants
      )
      adminGrantId = grant.assignment?.id
    })

  const ensureTheKey = () =>
    step('Key', async (): Promise<HsmKeyState | undefined> => {
      if (!plane) {
        notReadable(ctx, 'Key', `create RSA-HSM ${inputs.key.size} '${inputs.key.name}' if absent`)
        return undefined
      }
      return ensureKey(ctx, plane.keys, seen.key?.key)
    })

  // A grant at /keys/<name> does not need the key to exist: the Cosmos DB principal's grant
  // propagates while the admin's grant propagates and the key is created.
  const cosmosAccess = () =>
    step('Cosmos DB key access', async () => {
      if (!needsCreationGrant(mode, seen)) return
      creationPrincipal =
        createsWith === 'first-party' ? await firstPartyPrincipalId(ctx) : uaiPrincipal
      const label =
        createsWith === 'first-party'
          ? 'the Azure Cosmos DB service principal'
          : `user-assigned identity ${uaiId}`
      if (!plane || !creationPrincipal) {
        return notReadable(
          ctx,
          'Cosmos DB key access',
          `assign '${hsmRoles.cryptoServiceEncryptionUser.name}' at ${keyScope} to ${label}`
        )
      }
      const grant = await ensureRoleAssignment(ctx, plane.rbac, {
        step: 'Cosmos DB key access',
        role: hsmRoles.cryptoServiceEncryptionUser,
        scope: keyScope,
        principalId: creationPrincipal,
        principalLabel: label
      })
      cosmosGrantId = grant.assignment?.id
    })

  const [key] = await phase('Key access', () =>
    alongside(
      Promise.all([
        (async () => {
          await adminAccess()
          return ensureTheKey()
        })(),
        cosmosAccess()
      ])
    )
  )
  for (const id of [adminGrantId, cosmosGrantId]) if (id) assignmentIds.push(id)
  const keyUri = key ? versionlessKeyUri(key.id) : keyUriFor(base, inputs.key.name)

  const creationDefault =
    createsWith === 'first-party' ? 'FirstPartyIdentity' : `UserAssignedIdentity=${uaiId}`
  // The system-assigned identity exists once its account's creation is accepted: its grant starts
  // then, while the creation runs.
  let earlySystemGrant: { principalId: string; grant: Promise<GrantOutcome> } | undefined
  const systemPrincipalCreated = (principalId: string) => {
    if (earlySystemGrant || !plane) return
    const grant = step('System-assigned identity', () =>
      grantSystemIdentity(ctx, plane.rbac, keyScope, principalId)
    )
    grant.catch(() => {})
    earlySystemGrant = { principalId, grant }
  }
  const accountWrites = ['Microsoft.DocumentDB']
  if (uaiId) accountWrites.push('Microsoft.ManagedIdentity')
  let account: CosmosAccountState | undefined = await phase('Cosmos DB account', async () => {
    if (!seen.account) await registered(...accountWrites)
    return ensureAccount(ctx, seen.account, {
      keyVaultKeyUri: keyUri,
      defaultIdentity: creationDefault,
      userAssignedIdentityId: createsWith === 'user-assigned' ? uaiId : undefined,
      // Created with the account, so that its grant can start right away; the switch of the
      // default identity to it stays a separate update.
      systemAssigned: mode === 'system-assigned',
      systemPrincipalCreated: mode === 'system-assigned' ? systemPrincipalCreated : undefined
    })
  })
  // Updates of an existing account need the namespace too.
  await registered(...accountWrites)

  let systemPrincipal = account?.identity.principalId
  let holder: string | undefined = creationPrincipal
  if (account) {
    const existing = account
    if (mode === 'first-party') {
      account = await phase('Default identity', () =>
        ensureDefaultIdentity(ctx, existing, 'FirstPartyIdentity')
      )
    } else if (mode === 'user-assigned' && uaiId) {
      account = await phase('Default identity', async () => {
        const attached = await ensureUserAssignedAttached(ctx, existing, uaiId)
        return ensureDefaultIdentity(ctx, attached, `UserAssignedIdentity=${uaiId}`)
      })
      holder = uaiPrincipal
    } else if (mode === 'system-assigned') {
      const outcome = await phase('System-assigned identity', () =>
        ensureSystemAssigned(ctx, existing, plane?.rbac, keyScope, earlySystemGrant)
      )
      account = outcome.account
      systemPrincipal = outcome.principalId
      if (outcome.grant?.assignment) assignmentIds.push(outcome.grant.assignment.id)
      if (outcome.verified) holder = outcome.principalId
      if (inputs.identity.removeBootstrapAssignment) {
        const removed = await phase('Bootstrap assignment', () =>
          removeBootstrapAssignment(ctx, {
            rbac: plane?.rbac,
            scope: keyScope,
            verified: outcome.verified,
            account: outcome.account,
            keyUri,
            userAssignedIdentity:
              uaiId && uaiPrincipal ? { id: uaiId, principalId: uaiPrincipal } : undefined
          })
        )
        if (removed) {
          const gone = assignmentIds.findIndex(id => id.toLowerCase() === removed.toLowerCase())
          if (gone >= 0) assignmentIds.splice(gone, 1)
        }
      }
    }
  } else if (mode === 'system-assigned') {
    record(ctx, {
      step: 'System-assigned identity',
      observed: 'account not created yet',
      action: `enable, assign '${hsmRoles.cryptoServiceEncryptionUser.name}' at ${keyScope}, set default identity SystemAssignedIdentity`,
      result: 'would-change'
    })
  }

  await providers.done()

  const outputs: ActionOutputs = {
    'hsm-uri': hsm?.hsmUri || `${base}/`,
    'key-uri': keyUri,
    'key-id': key?.id,
    'key-version': key?.version,
    'admin-principal-id': ctx.principal.objectId,
    'cosmos-principal-id': holder,
    'user-assigned-principal-id': uaiPrincipal,
    'system-assigned-principal-id': systemPrincipal,
    'default-identity': account?.defaultIdentity,
    'account-id': account?.id,
    'account-endpoint': account?.documentEndpoint,
    'role-assignment-ids': JSON.stringify(assignmentIds),
    changed: String(ctx.changed)
  }
  return outputs
}

/** A system-assigned account needs the bootstrap identity's grant only until it exists. */
function needsCreationGrant(mode: Inputs['identity']['mode'], seen: Observation): boolean {
  return mode !== 'system-assigned' || !seen.account
}

function notReadable(ctx: StepContext, step: string, action: string): void {
  record(ctx, {
    step,
    observed: 'not readable until the HSM exists and is active',
    action,
    result: 'would-change'
  })
}
