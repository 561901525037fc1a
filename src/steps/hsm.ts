import type { ManagedHsmState } from '../azure/api.js'
import { ActionError, describeError, statusOf } from '../errors.js'
import { record, waitIn, withHeartbeat, type StepContext } from './context.js'
import { activationSteps, hsmBaseUri } from './observe.js'

const STEP = 'Managed HSM'
const ACTIVATION = 'HSM activation'

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
    if (ctx.plan) {
      record(ctx, { step: STEP, observed: 'absent', action, result: 'would-change' })
      return undefined
    }
    ctx.log.warning(
      `Creating Managed HSM '${name}': billing starts now, and its purge protection cannot be turned off; a ` +
        `deleted HSM stays billed and counted against quota for ${inputs.hsm.retentionDays} days.`
    )
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

/**
 * Activates the HSM by downloading its security domain with the given certificates, writes the
 * encrypted security domain to a file readable by its owner only, and waits until Azure reports
 * the HSM Active. An activation begun by an earlier (interrupted) run is waited for, not repeated.
 */
export async function ensureActivated(
  ctx: StepContext,
  hsm: ManagedHsmState | undefined
): Promise<ManagedHsmState | undefined> {
  const { inputs } = ctx
  const sd = inputs.securityDomain
  if (hsm?.activationStatus === 'Active') {
    record(ctx, { step: ACTIVATION, observed: 'Active', action: 'none', result: 'ok' })
    return hsm
  }
  if (!sd) throw new ActionError(activationSteps(inputs.hsm.name, inputs.hsm.resourceGroup))
  const action =
    `download the security domain for ${sd.certificates.length} certificates (quorum ${sd.quorum}) ` +
    `to ${sd.file} and wait for activation`
  const observed = hsm ? hsm.activationStatus : 'HSM not created yet'
  if (ctx.plan || !hsm) {
    record(ctx, { step: ACTIVATION, observed, action, result: 'would-change' })
    return hsm
  }

  const securityDomain = ctx.apis.hsm(hsmBaseUri(ctx, hsm)).securityDomain
  const pending = await securityDomain.downloadStatus()
  if (pending && /^(InProgress|Success)$/i.test(pending.status)) {
    ctx.log.info(
      `A security domain download is already ${pending.status} on '${hsm.name}'; waiting for it.`
    )
    if (!ctx.fileExists(sd.file)) {
      ctx.log.warning(
        `${sd.file} does not exist: the security domain of that earlier download was saved elsewhere or lost. ` +
          `Download it again once the HSM is active (az keyvault security-domain download --hsm-name ${hsm.name} ...) and keep it safe.`
      )
    }
  } else {
    if (ctx.fileExists(sd.file)) {
      throw new ActionError(
        `security-domain-file ${sd.file} already exists. It may hold another security domain, so it is never ` +
          'overwritten: move it away or choose another path.'
      )
    }
    const { value } = await securityDomain.download(
      sd.certificates.map(c => c.jwk),
      sd.quorum
    )
    await ctx.writeSecretFile(sd.file, value)
    ctx.log.info(`Wrote the encrypted security domain to ${sd.file} (readable by its owner only).`)
  }

  const { name, resourceGroup } = inputs.hsm
  const active = await waitIn(ctx, {
    what: `Managed HSM '${name}' to be activated`,
    timeoutMs: ctx.waits.activationMs,
    hint: `Check: az keyvault show --hsm-name ${name} --resource-group ${resourceGroup} --query properties.securityDomainProperties`,
    poll: async () => {
      const status = await securityDomain.downloadStatus()
      if (status && /^failed$/i.test(status.status)) {
        throw new ActionError(
          `The security domain download of '${name}' failed${status.statusDetails ? `: ${status.statusDetails}` : ''}.`
        )
      }
      const current = await ctx.apis.managedHsms.get(resourceGroup, name)
      if (current?.activationStatus === 'Active') return { done: true, value: current }
      return {
        done: false,
        status: `download ${status?.status ?? 'unknown'}, activationStatus ${current?.activationStatus ?? 'unknown'}`
      }
    }
  })
  record(ctx, { step: ACTIVATION, observed, action, result: 'changed' })
  return active
}
