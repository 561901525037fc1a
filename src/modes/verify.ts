import type { CosmosAccountState, HsmKeyState } from '../azure/api.js'
import { describeError } from '../errors.js'
import { sameKey, versionlessKeyUri } from '../key-uri.js'
import { buildOutputs, keyStatusCode, type ActionOutputs } from '../outputs.js'
import { hsmRoles, roleGuidOf, scopeCovers } from '../roles.js'
import { isSucceeded, sameIdentity } from '../steps/account-state.js'
import { accountNames } from '../inputs/settings.js'
import { dataPlaneUri, eachAccount, record, runKeyUri } from '../steps/context.js'
import type { Phases, StepContext } from '../steps/context.js'
import { keyScopeOf } from '../steps/grants.js'
import { keyMismatches } from '../steps/key.js'
import { Step, type StepName } from '../steps/names.js'
import { StepGraph } from './step-graph.js'
import { observe, type Observation } from '../steps/observe.js'
import { firstPartyPrincipalId } from '../steps/principals.js'
import { wantedPolicy } from '../steps/rotation.js'

/** One check of mode verify: what it expects, what it saw, and how it ended. */
export interface Finding {
  step: StepName
  /** In a fleet: the account checked; none for the checks of the HSM and the key. */
  account?: string
  check: string
  result: 'ok' | 'warning' | 'failed'
  observed: string
}

/** What each revocation code of `customerManagedKeyStatus` means (Azure Cosmos DB's substatus codes). */
export const revocationCodes: Record<string, string> = {
  '4000': "Microsoft Entra ID gave the account's default identity no token",
  '4002': 'the default identity may not use the key (no grant), or the key is disabled or expired',
  '4003': 'the key was not found',
  '4005': 'wrapping or unwrapping with the key failed',
  '4006': 'the key URI is not valid',
  '4009': "the HSM's host name does not resolve",
  '4015': 'the account has no default identity',
  '4016': "the HSM's network rules block Azure Cosmos DB",
  '4017': 'the HSM was not found'
}

/** How long Azure Cosmos DB may take to move to a new key version. */
const CATCH_UP_MS = 24 * 3600_000
const EXPIRY_WARNING_MS = 30 * 24 * 3600_000

/**
 * Reads everything and writes nothing: whether each account really uses the expected key through
 * an identity that holds it, and whether the key and the HSM are fit. One finding per check; the
 * HSM's and the key's once, the accounts' for each account (a fleet side by side).
 */
export async function verify(ctx: StepContext, { phase }: Phases): Promise<ActionOutputs> {
  const names = accountNames(ctx.inputs)
  const fleet = names.length > 1
  const { seen, findings } = await new StepGraph()
    .add('seen', [], () => phase(Step.Observe, () => observe(ctx)))
    .add('findings', ['seen'], ({ seen }) =>
      phase(Step.Verify, async () => {
        const shared = await sharedChecks(ctx, seen)
        // Looked up once for all the accounts that need it.
        if (ctx.inputs.identity.mode === 'first-party') firstPartyPrincipalId(ctx).catch(() => {})
        const perAccount = await eachAccount(ctx, ctx.inputs.account.concurrency, (actx, name) =>
          accountChecks(actx, seen, seen.accounts.get(name))
        )
        return [...shared, ...perAccount.flat()]
      })
    )
    .run()
  for (const f of findings) {
    record(ctx, {
      step: f.step,
      ...(f.account ? { account: f.account } : {}),
      observed: f.observed,
      action: `check: ${f.check}`,
      result: f.result
    })
  }
  const healthy = findings.every(f => f.result !== 'failed')
  const failedChecks = (name: string) =>
    findings.filter(f => f.account === name && f.result === 'failed')
  return buildOutputs({
    hsmUri: dataPlaneUri(ctx, seen.hsm),
    keyUri: runKeyUri(ctx, seen.hsm),
    key: seen.key?.key,
    adminPrincipalId: ctx.principal.objectId,
    account: fleet ? undefined : seen.account,
    assignments: [],
    changed: false,
    verdict: { healthy, findings },
    fleet: fleet
      ? names.map(name => {
          const failed = failedChecks(name)
          return {
            name,
            account: seen.accounts.get(name),
            changed: false,
            ...(failed.length
              ? {
                  failure: {
                    step: Step.Verify,
                    message: failed.map(f => `${f.check}: ${f.observed}`).join('; ')
                  }
                }
              : {})
          }
        })
      : undefined
  })
}

/** Collects findings; in an account's context each carries the account's name. */
function findingsOf(ctx: StepContext): { findings: Finding[]; add: Add } {
  const findings: Finding[] = []
  const add: Add = (step, check, ok, observed) =>
    findings.push({
      step,
      ...(ctx.account ? { account: ctx.account } : {}),
      check,
      observed,
      result: ok === 'warning' ? 'warning' : ok ? 'ok' : 'failed'
    })
  return { findings, add }
}

/** The HSM and the key, once for every account. */
async function sharedChecks(ctx: StepContext, seen: Observation): Promise<Finding[]> {
  const { findings, add } = findingsOf(ctx)
  const { hsm } = seen
  const key = seen.key?.key
  if (!hsm) {
    add(Step.Hsm, 'the HSM exists', false, `no Managed HSM '${ctx.inputs.hsm.name}'`)
  } else {
    add(
      Step.Hsm,
      'soft delete on',
      hsm.enableSoftDelete,
      `soft delete ${hsm.enableSoftDelete ? 'on' : 'off'}`
    )
    add(
      Step.Hsm,
      'purge protection on',
      hsm.enablePurgeProtection,
      `purge protection ${hsm.enablePurgeProtection ? 'on' : 'off'}`
    )
    add(
      Step.Activation,
      'the HSM is active',
      hsm.activationStatus === 'Active',
      `activationStatus ${hsm.activationStatus}`
    )
  }

  if (!seen.key) {
    add(
      Step.Key,
      'the key is readable',
      false,
      'the signed-in principal may not read the key (it needs Managed HSM Crypto User or Crypto Auditor)'
    )
  } else if (!key) {
    add(Step.Key, 'the key exists', false, `no key '${ctx.inputs.key.name}'`)
  } else {
    const now = new Date(ctx.clock.now())
    const problems = keyMismatches(key, ctx.inputs.key.size, now)
    add(
      Step.Key,
      'RSA-HSM with wrapKey and unwrapKey, enabled, not expired',
      !problems.length,
      problems.join('; ') || describeKey(key)
    )
    if (key.expiresOn && !problems.length) {
      const left = key.expiresOn.getTime() - now.getTime()
      add(
        Step.Key,
        'not expiring within 30 days',
        left > EXPIRY_WARNING_MS || 'warning',
        `expires ${key.expiresOn.toISOString()}`
      )
    }
    if (hsm) await checkRotationPolicy(ctx, dataPlaneUri(ctx, hsm), key, add)
  }
  return findings
}

/** One account: on the key, healthy, on the current version, through an identity that holds it. */
async function accountChecks(
  ctx: StepContext,
  seen: Observation,
  account: CosmosAccountState | undefined
): Promise<Finding[]> {
  const { findings, add } = findingsOf(ctx)
  const { hsm } = seen
  const key = seen.key?.key
  if (!account) {
    add(
      Step.Account,
      'the account exists',
      false,
      `no Cosmos DB account '${ctx.inputs.account.name}'`
    )
    return findings
  }
  const expected = runKeyUri(ctx, hsm)
  const onKey = !!account.keyVaultKeyUri && sameKey(account.keyVaultKeyUri, expected)
  add(
    Step.Account,
    `uses ${expected}`,
    onKey && account.keyVaultKeyUri === versionlessKeyUri(account.keyVaultKeyUri ?? ''),
    `key ${account.keyVaultKeyUri ?? 'none'}`
  )
  add(
    Step.Account,
    'provisioning succeeded',
    isSucceeded(account),
    `provisioningState ${account.provisioningState ?? 'unknown'}`
  )
  const code = keyStatusCode(account.customerManagedKeyStatus)
  add(
    Step.AccountKey,
    'customer-managed key status is healthy',
    !code && !/revoked/i.test(account.customerManagedKeyStatus ?? ''),
    code
      ? `revoked with code ${code}: ${revocationCodes[code] ?? 'see the Azure Cosmos DB CMK troubleshooting guide'} (${account.customerManagedKeyStatus})`
      : (account.customerManagedKeyStatus ?? 'no status reported')
  )
  if (key) checkVersionInUse(ctx, account, key, add)
  await checkIdentity(ctx, seen, account, add)
  return findings
}

type Add = (step: StepName, check: string, ok: boolean | 'warning', observed: string) => void

function describeKey(key: HsmKeyState): string {
  return `${key.kty} ${key.keySize ?? '?'} bits, ops ${key.keyOps.join('/')}, version ${key.version}`
}

async function checkRotationPolicy(
  ctx: StepContext,
  hsmUri: string,
  key: HsmKeyState,
  add: Add
): Promise<void> {
  const wanted = wantedPolicy(ctx)
  if (!wanted) return
  const plane = ctx.apis.hsm(hsmUri)
  try {
    const policy = await plane.keys.getRotationPolicy(key.name)
    const same = (a?: string, b?: string) => (a ?? '').toUpperCase() === (b ?? '').toUpperCase()
    const ok =
      !!policy &&
      same(policy.rotateAfter, wanted.rotateAfter) &&
      same(policy.expireAfter, wanted.expireAfter)
    add(
      Step.RotationPolicy,
      `rotate ${wanted.rotateAfter} after creation${wanted.expireAfter ? `, expire after ${wanted.expireAfter}` : ''}`,
      ok,
      policy
        ? `rotate ${policy.rotateAfter ?? `${policy.rotateBeforeExpiry} before expiry`}, expire after ${policy.expireAfter ?? 'never'}`
        : 'no rotation policy'
    )
  } catch (error) {
    add(Step.RotationPolicy, 'the rotation policy is readable', false, describeError(error))
  }
}

/** The version in use against the current one; a new version gets Azure Cosmos DB's 24 hours. */
function checkVersionInUse(
  ctx: StepContext,
  account: CosmosAccountState,
  key: HsmKeyState,
  add: Add
): void {
  const inUse = account.keyVaultKeyUriVersion
  if (!inUse) {
    add(
      Step.AccountKey,
      'the key version in use is reported',
      'warning',
      'the account reports no key version in use'
    )
    return
  }
  if (inUse.toLowerCase() === key.version.toLowerCase()) {
    add(Step.AccountKey, 'uses the current key version', true, `version ${inUse}`)
    return
  }
  const age = key.createdOn ? ctx.clock.now() - key.createdOn.getTime() : Infinity
  const hours = Number.isFinite(age) ? `${Math.floor(age / 3600_000)} h` : 'an unknown time'
  add(
    Step.AccountKey,
    'uses the current key version (within 24 hours of a rotation)',
    age < CATCH_UP_MS ? 'warning' : false,
    `uses version ${inUse}; the current version ${key.version} is ${hours} old`
  )
}

/** The default identity is the one `identity-mode` asks for, and its principal holds the key. */
async function checkIdentity(
  ctx: StepContext,
  seen: Observation,
  account: CosmosAccountState,
  add: Add
): Promise<void> {
  const { mode } = ctx.inputs.identity
  const uaiId = seen.userAssignedIdentity?.id ?? ctx.inputs.identity.userAssignedIdentity?.id
  const expected =
    mode === 'first-party'
      ? 'FirstPartyIdentity'
      : mode === 'system-assigned'
        ? 'SystemAssignedIdentity'
        : `UserAssignedIdentity=${uaiId}`
  add(
    Step.DefaultIdentity,
    `default identity ${expected}`,
    sameIdentity(account.defaultIdentity, expected),
    account.defaultIdentity ?? 'none'
  )
  let principal: string | undefined
  try {
    principal =
      mode === 'first-party'
        ? await firstPartyPrincipalId(ctx)
        : mode === 'system-assigned'
          ? account.identity.principalId
          : seen.userAssignedIdentity?.principalId
  } catch (error) {
    add(Step.CosmosGrant, 'the default identity holds the key', false, describeError(error))
    return
  }
  if (!principal || !seen.hsm) {
    add(
      Step.CosmosGrant,
      'the default identity holds the key',
      false,
      'no principal for the default identity'
    )
    return
  }
  const scope = keyScopeOf(ctx)
  try {
    const assignments = await ctx.apis
      .hsm(dataPlaneUri(ctx, seen.hsm))
      .rbac.listForPrincipal(scope, principal)
    const holds = assignments.some(
      a =>
        roleGuidOf(a.roleDefinitionId) === hsmRoles.cryptoServiceEncryptionUser.id &&
        scopeCovers(a.scope, scope)
    )
    add(
      Step.CosmosGrant,
      `${principal} holds '${hsmRoles.cryptoServiceEncryptionUser.name}' at ${scope}`,
      holds,
      holds ? 'assignment present' : `no such assignment (${assignments.length} other assignments)`
    )
  } catch (error) {
    add(Step.CosmosGrant, 'the grants are readable', false, describeError(error))
  }
}
