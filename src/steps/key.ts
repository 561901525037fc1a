import type { HsmDataPlane, HsmKeysApi, HsmKeyState, HsmSettingsApi } from '../azure/api.js'
import { ActionError, codeOf, describeError, isRbacDenied, isRefusal, statusOf } from '../errors.js'
import { WaitTimeoutError } from '../wait.js'
import { record, retryIn, waitIn, type StepContext } from './context.js'
import { Step } from './names.js'
import { writeOnce } from './write-once.js'

const STEP = Step.Key
const requiredOps = ['wrapKey', 'unwrapKey']

/** Every way an existing key falls short of what Cosmos DB needs, as readable phrases. */
export function keyMismatches(key: HsmKeyState, wantedSize: number, now: Date): string[] {
  const problems: string[] = []
  if (!/^RSA(-HSM)?$/.test(key.kty)) problems.push(`its type is ${key.kty}, not RSA-HSM`)
  if (key.keySize !== undefined && key.keySize !== wantedSize) {
    problems.push(`it is ${key.keySize} bits, but key-size is ${wantedSize}`)
  }
  const missing = requiredOps.filter(op => !key.keyOps.includes(op))
  if (missing.length) problems.push(`its allowed operations lack ${missing.join(' and ')}`)
  if (!key.enabled) problems.push('it is disabled')
  if (key.expiresOn && key.expiresOn.getTime() <= now.getTime()) {
    problems.push(`it expired on ${key.expiresOn.toISOString()}`)
  }
  if (key.notBefore && key.notBefore.getTime() > now.getTime()) {
    problems.push(`it is not valid before ${key.notBefore.toISOString()}`)
  }
  return problems
}

function describeKey(key: HsmKeyState): string {
  return `${key.kty} ${key.keySize ?? '?'} bits, ops ${key.keyOps.join('/') || 'none'}, ${key.enabled ? 'enabled' : 'disabled'}, version ${key.version}`
}

/** Why an existing key cannot serve Cosmos DB, as the whole message; undefined when it can. */
export function unusableKeyMessage(ctx: StepContext, key: HsmKeyState): string | undefined {
  const problems = keyMismatches(key, ctx.inputs.key.size, new Date(ctx.clock.now()))
  if (!problems.length) return undefined
  return (
    `Key '${ctx.inputs.key.name}' on Managed HSM '${ctx.inputs.hsm.name}' cannot be used: ${problems.join('; ')}. ` +
    'This action never modifies an existing key or adds a version to it: choose another key-name, or fix ' +
    'the key yourself.'
  )
}

/**
 * Checks the key when it was observed, reads it otherwise (waiting out the HSM's 403 while the
 * admin grant propagates), and creates it when absent. An existing key is never modified, and no
 * second version is ever created. Answers undefined in plan mode when the key would be created or
 * cannot be read yet.
 */
export async function ensureKey(
  ctx: StepContext,
  { keys, settings }: Pick<HsmDataPlane, 'keys' | 'settings'>,
  /** What the observation saw (`key` undefined: absent); undefined when it could not read it. */
  observed?: { key?: HsmKeyState }
): Promise<HsmKeyState | undefined> {
  const { name, size } = ctx.inputs.key
  // Read alongside the key, for when it must be created: an HSM that does not trust ARM with key
  // management refuses ARM's create-if-not-exist, which would show as a failed operation.
  const armTrust =
    observed?.key || ctx.plan || ctx.inputs.hsm.allowArmKeyManagement
      ? undefined
      : armTrustOf(settings)
  let key: HsmKeyState | undefined
  try {
    key = observed ? observed.key : await readKey(ctx, keys)
  } catch (error) {
    if (ctx.plan && isRbacDenied(error)) {
      record(ctx, {
        step: STEP,
        observed: 'unreadable until the admin grant takes effect',
        action: `create RSA-HSM ${size} '${name}' if absent`,
        result: 'would-change'
      })
      return undefined
    }
    throw error
  }
  if (key) {
    const problem = unusableKeyMessage(ctx, key)
    if (problem) throw new ActionError(problem)
    record(ctx, { step: STEP, observed: describeKey(key), action: 'none', result: 'ok' })
    return key
  }

  if (ctx.inputs.hsm.allowArmKeyManagement) await ensureArmKeyManagement(ctx, settings)
  const action = `create RSA-HSM ${size} with wrapKey, unwrapKey`
  if (ctx.plan) {
    record(ctx, { step: STEP, observed: 'absent', action, result: 'would-change' })
    return undefined
  }
  const created = await createIfNotExist(ctx, keys, (await armTrust) !== false)
  record(ctx, {
    step: STEP,
    observed: 'absent',
    action: `${action}: version ${created.version}`,
    result: 'changed'
  })
  return created
}

/**
 * Creates the key through ARM's create-if-not-exist, which never adds a version: runs that start
 * together on a new key end with one version and report the same one. ARM acts on the caller's
 * behalf, so it needs `Microsoft.KeyVault/managedHSMs/keys/write` on the HSM resource, the
 * HSM-local grant, and an HSM that trusts ARM with key management (the HSM setting
 * AllowKeyManagementOperationsThroughARM); without the first or the last, the key is created on
 * the data plane, observing before each try.
 */
async function createIfNotExist(
  ctx: StepContext,
  keys: HsmKeysApi,
  throughArm: boolean
): Promise<HsmKeyState> {
  const { name, size } = ctx.inputs.key
  const hsm = ctx.inputs.hsm
  if (!throughArm) {
    ctx.log.info(
      `The HSM does not let ARM manage keys (${ARM_TRUST} false); creating key '${name}' on its data plane.`
    )
    return createOnce(ctx, keys)
  }
  try {
    return await writeOnce(ctx, {
      what: `Managed HSM '${hsm.name}' to let ${ctx.principal.objectId} create key '${name}'`,
      timeoutMs: ctx.waits.rbacPropagationMs,
      hint:
        `Check the assignments: az keyvault role assignment list --hsm-name ${hsm.name} ` +
        `--assignee ${ctx.principal.objectId}`,
      landed: () => ctx.apis.managedHsms.getKey(hsm.resourceGroup, hsm.name, name),
      write: () =>
        ctx.apis.managedHsms.createKeyIfNotExist(hsm.resourceGroup, hsm.name, name, {
          kty: 'RSA-HSM',
          keySize: size,
          keyOps: requiredOps,
          tags: ctx.tags
        }),
      retryable: error =>
        isRbacDenied(error) ? `HSM answered 403 (${codeOf(error) ?? 'Forbidden'})` : undefined
    })
  } catch (error) {
    // ARM refuses outright when the caller lacks the ARM permission or the HSM does not trust
    // ARM with key management (the HSM setting AllowKeyManagementOperationsThroughARM).
    if (!isRefusal(error) || isRbacDenied(error)) throw error
    ctx.log.info(
      `ARM did not create key '${name}' (${describeError(error)}); creating it on the HSM's data plane instead.`
    )
    return (await readKey(ctx, keys)) ?? createOnce(ctx, keys)
  }
}

const ARM_TRUST = 'AllowKeyManagementOperationsThroughARM'

/**
 * Whether the HSM trusts ARM with key management; undefined when the setting cannot be read (it
 * takes the Managed HSM Administrator role), so that ARM is tried and its answer tells.
 */
async function armTrustOf(settings: HsmSettingsApi): Promise<boolean | undefined> {
  try {
    const value = await settings.get(ARM_TRUST)
    return value === undefined ? undefined : value.toLowerCase() === 'true'
  } catch {
    return undefined
  }
}

/** Lets the HSM accept key management through ARM (`allow-arm-key-management`). */
async function ensureArmKeyManagement(ctx: StepContext, settings: HsmSettingsApi): Promise<void> {
  const step = Step.ArmKeyManagement
  let value: string | undefined
  try {
    value = await settings.get(ARM_TRUST)
  } catch (error) {
    throw new ActionError(
      `allow-arm-key-management is true, but the HSM setting ${ARM_TRUST} of '${ctx.inputs.hsm.name}' cannot ` +
        `be read (${describeError(error)}); changing it takes 'Managed HSM Administrator' at '/'.`
    )
  }
  const observed = `${ARM_TRUST} ${value ?? 'unset'}`
  if (value?.toLowerCase() === 'true') {
    record(ctx, { step, observed, action: 'none', result: 'ok' })
    return
  }
  const action = `set ${ARM_TRUST} to true`
  if (ctx.plan) {
    record(ctx, { step, observed, action, result: 'would-change' })
    return
  }
  await settings.update(ARM_TRUST, 'true')
  record(ctx, { step, observed, action, result: 'changed' })
}

async function readKey(ctx: StepContext, keys: HsmKeysApi): Promise<HsmKeyState | undefined> {
  const { name } = ctx.inputs.key
  const hsmName = ctx.inputs.hsm.name
  if (ctx.plan) return keys.get(name)
  return retryIn(
    ctx,
    () => keys.get(name),
    error =>
      isRbacDenied(error) ? `HSM answered 403 (${codeOf(error) ?? 'Forbidden'})` : undefined,
    {
      what: `'Managed HSM Crypto User' on /keys to take effect for ${ctx.principal.objectId}`,
      kind: 'propagation',
      timeoutMs: ctx.waits.rbacPropagationMs,
      hint:
        `Check the assignments: az keyvault role assignment list --hsm-name ${hsmName} ` +
        `--assignee ${ctx.principal.objectId}`
    }
  )
}

/**
 * Creates the key on the data plane. A repeated create would add a second version, so a create whose outcome is
 * unknown (cut off, timed out) is followed by a read, and repeated only while the key is still
 * absent; a cut-off create may still be under way at the HSM, so the key is watched for a while
 * before it is created again. A conflict is read back.
 */
async function createOnce(ctx: StepContext, keys: HsmKeysApi): Promise<HsmKeyState> {
  const { name, size } = ctx.inputs.key
  try {
    return await writeOnce(ctx, {
      what: `key '${name}' to be created`,
      timeoutMs: ctx.waits.keyAccessMs,
      hint: `Check the key: az keyvault key show --hsm-name ${ctx.inputs.hsm.name} --name ${name}`,
      landed: () => landedKey(ctx, keys),
      write: () => keys.createRsa(name, size, requiredOps, ctx.tags),
      retryable: () => undefined
    })
  } catch (error) {
    if (isRbacDenied(error)) {
      throw new ActionError(
        `The signed-in principal may read but not create keys on '${ctx.inputs.hsm.name}': ${describeError(error)}`
      )
    }
    if (statusOf(error) !== 409) throw error
    const existing = await readKey(ctx, keys)
    if (existing) return existing
    throw new ActionError(
      `Key '${name}' cannot be created: ${describeError(error)}. If a deleted key of that name is kept by ` +
        `soft delete, recover it (az keyvault key recover --hsm-name ${ctx.inputs.hsm.name} --name ${name}) ` +
        'or choose another key-name.'
    )
  }
}

/** The key, if a creation whose outcome is unknown lands within `waits.unknownOutcomeMs`. */
async function landedKey(ctx: StepContext, keys: HsmKeysApi): Promise<HsmKeyState | undefined> {
  const { name } = ctx.inputs.key
  try {
    return await waitIn(ctx, {
      what: `key '${name}' from a creation whose answer was lost`,
      kind: 'operation',
      timeoutMs: ctx.waits.unknownOutcomeMs,
      hint: '',
      poll: async () => {
        const key = await readKey(ctx, keys)
        return key ? { done: true, value: key } : { done: false, status: 'absent' }
      }
    })
  } catch (error) {
    if (!(error instanceof WaitTimeoutError)) throw error
    ctx.log.info(
      `The key creation's outcome was unknown and the key did not appear; creating it again.`
    )
    return undefined
  }
}
