import type { ManagedHsmState } from '../azure/api.js'
import { ActionError, describeError, statusOf } from '../errors.js'
import { record, waitIn, withHeartbeat, type StepContext } from './context.js'
import { Step } from './names.js'

const STEP = Step.Hsm

function describeHsm(hsm: ManagedHsmState): string {
  return (
    `${hsm.provisioningState}, purge protection ${hsm.enablePurgeProtection ? 'on' : 'off'}, ` +
    `soft delete ${hsm.enableSoftDelete ? 'on' : 'off'}` +
    (hsm.softDeleteRetentionInDays ? ` (${hsm.softDeleteRetentionInDays} days)` : '') +
    `, ${hsm.activationStatus}`
  )
}

function isReady(hsm: ManagedHsmState): boolean {
  return /^(Succeeded|Activated)$/i.test(hsm.provisioningState)
}

/**
 * Creates the HSM if it is absent (and allowed), turns purge protection on if allowed, and waits
 * for it to be provisioned. Answers undefined in plan mode when the HSM does not exist yet.
 */
export async function ensureHsm(
  ctx: StepContext,
  observed: ManagedHsmState | undefined
): Promise<ManagedHsmState | undefined> {
  const { inputs, apis } = ctx
  const { name, resourceGroup } = inputs.hsm
  let hsm = observed

  if (!hsm) {
    const admins = [...new Set([...inputs.hsm.administrators, ctx.principal.objectId])]
    const action =
      `create ${inputs.hsm.sku} in ${inputs.location} with administrators ${admins.join(', ')}, soft delete ` +
      `(${inputs.hsm.retentionDays} days) and purge protection`
    const billing =
      `billing starts at creation, and its purge protection cannot be turned off; a deleted HSM stays ` +
      `billed and counted against quota for ${inputs.hsm.retentionDays} days.`
    if (ctx.plan) {
      ctx.log.warning(`Apply would create Managed HSM '${name}': ${billing}`)
      record(ctx, { step: STEP, observed: 'absent', action, result: 'would-change' })
      return undefined
    }
    ctx.log.warning(`Creating Managed HSM '${name}': ${billing}`)
    try {
      hsm = await withHeartbeat(
        ctx,
        `creation of Managed HSM '${name}' (it usually takes 20-30 minutes)`,
        apis.managedHsms.create(resourceGroup, name, {
          location: inputs.location ?? '',
          skuName: inputs.hsm.sku,
          tenantId: ctx.principal.tenantId,
          initialAdminObjectIds: admins,
          softDeleteRetentionInDays: inputs.hsm.retentionDays,
          tags: ctx.tags
        })
      )
    } catch (error) {
      // A concurrent run may have created it: read back before failing.
      const again =
        statusOf(error) === 409 ? await apis.managedHsms.get(resourceGroup, name) : undefined
      if (!again) {
        throw new ActionError(`Creating Managed HSM '${name}' failed: ${describeError(error)}`)
      }
      hsm = again
    }
    record(ctx, { step: STEP, observed: 'absent', action, result: 'changed' })
  } else if (!hsm.enablePurgeProtection) {
    // preflight() already refused this unless enable-purge-protection is true.
    const action = 'turn purge protection on (irreversible)'
    if (ctx.plan) {
      record(ctx, { step: STEP, observed: describeHsm(hsm), action, result: 'would-change' })
      return hsm
    }
    ctx.log.warning(
      `Turning purge protection on for Managed HSM '${name}'. This is irreversible: the HSM and its keys can ` +
        'no longer be purged before their retention period ends.'
    )
    const before = describeHsm(hsm)
    hsm = await withHeartbeat(
      ctx,
      `purge protection update of Managed HSM '${name}'`,
      apis.managedHsms.enablePurgeProtection(resourceGroup, name)
    )
    record(ctx, { step: STEP, observed: before, action, result: 'changed' })
  } else {
    record(ctx, { step: STEP, observed: describeHsm(hsm), action: 'none', result: 'ok' })
  }

  if (!isReady(hsm) && !ctx.plan) hsm = await waitUntilProvisioned(ctx, hsm)
  return hsm
}

async function waitUntilProvisioned(
  ctx: StepContext,
  current: ManagedHsmState
): Promise<ManagedHsmState> {
  const { name, resourceGroup } = ctx.inputs.hsm
  let last = current
  return waitIn(ctx, {
    what: `Managed HSM '${name}' to finish provisioning`,
    kind: 'operation',
    timeoutMs: ctx.waits.hsmProvisioningMs,
    hint: `Check the HSM in the portal or run: az keyvault show --hsm-name ${name} --resource-group ${resourceGroup}`,
    poll: async () => {
      const hsm = await ctx.apis.managedHsms.get(resourceGroup, name)
      if (!hsm)
        throw new ActionError(`Managed HSM '${name}' disappeared while it was being provisioned.`)
      last = hsm
      if (isReady(hsm)) return { done: true, value: hsm }
      if (/^(Failed|Deleting)$/i.test(hsm.provisioningState)) {
        throw new ActionError(
          `Managed HSM '${name}' ended in provisioning state ${hsm.provisioningState}` +
            `${hsm.statusMessage ? `: ${hsm.statusMessage}` : ''}.`
        )
      }
      return { done: false, status: `provisioningState ${last.provisioningState}` }
    }
  })
}
