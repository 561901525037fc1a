import type { HsmKeysApi, HsmKeyState, RotationPolicy } from '../azure/api.js'
import { ActionError } from '../errors.js'
import { record, type StepContext } from './context.js'
import { Step } from './names.js'

function describePolicy(policy: RotationPolicy | undefined): string {
  if (!policy) return 'no rotation policy'
  const rotate = policy.rotateAfter
    ? `rotate ${policy.rotateAfter} after creation`
    : policy.rotateBeforeExpiry
      ? `rotate ${policy.rotateBeforeExpiry} before expiry`
      : 'no rotation'
  return `${rotate}, versions expire ${policy.expireAfter ? `after ${policy.expireAfter}` : 'never'}`
}

function samePolicy(a: RotationPolicy | undefined, b: RotationPolicy): boolean {
  const same = (x?: string, y?: string) => (x ?? '').toUpperCase() === (y ?? '').toUpperCase()
  return (
    !!a &&
    same(a.rotateAfter, b.rotateAfter) &&
    same(a.rotateBeforeExpiry, b.rotateBeforeExpiry) &&
    same(a.expireAfter, b.expireAfter)
  )
}

/** The policy `key-rotate-after` / `key-expire-after` ask for, if any. */
export function wantedPolicy(ctx: StepContext): RotationPolicy | undefined {
  const rotation = ctx.inputs.key.rotation
  return rotation && { rotateAfter: rotation.rotateAfter, expireAfter: rotation.expireAfter }
}

/**
 * Keeps the key's rotation policy as the inputs ask (setting a policy creates no version), then
 * rotates now when `rotate-key` asks. Answers the key's current version.
 */
export async function ensureRotation(
  ctx: StepContext,
  keys: HsmKeysApi,
  key: HsmKeyState
): Promise<HsmKeyState> {
  const wanted = wantedPolicy(ctx)
  let policy: RotationPolicy | undefined
  if (wanted || ctx.inputs.key.rotateNow) policy = await keys.getRotationPolicy(key.name)
  if (wanted) {
    const observed = describePolicy(policy)
    if (samePolicy(policy, wanted)) {
      record(ctx, { step: Step.RotationPolicy, observed, action: 'none', result: 'ok' })
    } else {
      const action = `set: ${describePolicy(wanted)}`
      if (ctx.plan) {
        record(ctx, { step: Step.RotationPolicy, observed, action, result: 'would-change' })
      } else {
        policy = await keys.setRotationPolicy(key.name, wanted)
        record(ctx, { step: Step.RotationPolicy, observed, action, result: 'changed' })
      }
    }
    policy ??= wanted
  }
  if (!ctx.inputs.key.rotateNow) return key
  if (!policy) {
    throw new ActionError(
      `rotate-key is true, but key '${key.name}' has no rotation policy, which Managed HSM needs before it ` +
        'rotates a key on demand. Set key-rotate-after (and key-expire-after) to give it one.'
    )
  }
  const action = 'rotate now: a new version; the old ones stay enabled'
  if (ctx.plan) {
    record(ctx, {
      step: Step.KeyRotation,
      observed: `version ${key.version}`,
      action,
      result: 'would-change'
    })
    return key
  }
  const rotated = await keys.rotate(key.name)
  record(ctx, {
    step: Step.KeyRotation,
    observed: `version ${key.version}`,
    action: `${action}: version ${rotated.version}`,
    result: 'changed'
  })
  return rotated
}
