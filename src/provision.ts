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
import { hsmBaseUri, observe, preflight } from './steps/observe.js'
import { firstPartyPrincipalId } from './steps/principals.js'
import { ensureProviders } from './steps/providers.js'
import { ensureRoleAssignment } from './steps/roleAssignments.js'

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
  const phase = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    current = name
    return deps.runner.group(name, work)
  }

  try {
    const credential =
      deps.credential ?? createCredential({ inputs, cloud, runner: deps.runner, transport })
    const principal: SignedInPrincipal = await phase('Sign in', () =>
      signedInPrincipal(credential, cloud, deps.signal)
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
          signal: deps.signal
        }),
      clock: deps.clock ?? systemClock,
      signal: deps.signal,
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
    const outputs = await provision(ctx, phase)
    return { mode: inputs.mode, changed: ctx.changed, outputs, records }
  } catch (error) {
    records.push({ step: current, observed: '', action: '', result: 'failed' })
    throw new ProvisioningError(error, current, records)
  }
}

type Phase = <T>(name: string, work: () => Promise<T>) => Promise<T>

async function provision(ctx: StepContext, phase: Phase): Promise<ActionOutputs> {
  const { inputs } = ctx
  const seen = await phase('Observe', async () => {
    const observation = await observe(ctx)
    preflight(ctx, observation)
    return observation
  })

  await phase('Resource providers', () => ensureProviders(ctx, seen.providers))
  let hsm = await phase('Managed HSM', () => ensureHsm(ctx, seen.hsm))
  hsm = await phase('HSM activation', () => ensureActivated(ctx, hsm))

  // The data plane answers only for a provisioned, active HSM; in plan mode it may be neither yet.
  const ready = hsm?.activationStatus === 'Active'
  const base = hsmBaseUri(ctx, hsm)
  const plane: HsmDataPlane | undefined = ready ? ctx.apis.hsm(base) : undefined
  const assignmentIds: string[] = []
  const keyScope = inputs.roleScope === 'key' ? `/keys/${inputs.key.name}` : '/keys'

  await phase('Admin key access', async () => {
    if (!plane) {
      return notReadable(
        ctx,
        'Admin key access',
        `assign '${hsmRoles.cryptoUser.name}' at /keys to ${ctx.principal.objectId}`
      )
    }
    const grant = await ensureRoleAssignment(ctx, plane.rbac, {
      step: 'Admin key access',
      role: hsmRoles.cryptoUser,
      scope: '/keys',
      principalId: ctx.principal.objectId,
      principalLabel: 'the signed-in principal'
    })
    if (grant.assignment) assignmentIds.push(grant.assignment.id)
  })

  const key: HsmKeyState | undefined = await phase('Key', async () => {
    if (!plane) {
      notReadable(ctx, 'Key', `create RSA-HSM ${inputs.key.size} '${inputs.key.name}' if absent`)
      return undefined
    }
    return ensureKey(ctx, plane.keys)
  })
  const keyUri = key ? versionlessKeyUri(key.id) : keyUriFor(base, inputs.key.name)

  // The principal Cosmos DB uses to reach the key while the account is created.
  const mode = inputs.identity.mode
  const createsWith =
    mode === 'system-assigned'
      ? inputs.identity.bootstrap
      : mode === 'user-assigned'
        ? 'user-assigned'
        : 'first-party'
  const uaiId = seen.userAssignedIdentity?.id || inputs.identity.userAssignedIdentity?.id
  const uaiPrincipal = seen.userAssignedIdentity?.principalId
  const needsCreationGrant = mode !== 'system-assigned' || !seen.account
  let creationPrincipal: string | undefined

  if (needsCreationGrant) {
    await phase('Cosmos DB key access', async () => {
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
      if (grant.assignment) assignmentIds.push(grant.assignment.id)
    })
  }

  const creationDefault =
    createsWith === 'first-party' ? 'FirstPartyIdentity' : `UserAssignedIdentity=${uaiId}`
  let account: CosmosAccountState | undefined = await phase('Cosmos DB account', () =>
    ensureAccount(ctx, seen.account, {
      keyVaultKeyUri: keyUri,
      defaultIdentity: creationDefault,
      userAssignedIdentityId: createsWith === 'user-assigned' ? uaiId : undefined
    })
  )

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
        ensureSystemAssigned(ctx, existing, plane?.rbac, keyScope)
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

function notReadable(ctx: StepContext, step: string, action: string): void {
  record(ctx, {
    step,
    observed: 'not readable until the HSM exists and is active',
    action,
    result: 'would-change'
  })
}
