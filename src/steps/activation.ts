import type { ManagedHsmState } from '../azure/api.js'
import { ActionError } from '../errors.js'
import { dataPlaneUri, record, waitIn, type StepContext } from './context.js'
import { Step } from './names.js'
import { writeOnce } from './write-once.js'

const STEP = Step.Activation

export function activationSteps(hsmName: string, resourceGroup: string): string {
  return [
    `Managed HSM '${hsmName}' (resource group '${resourceGroup}') is not activated: it cannot create or use keys until its security domain is downloaded. Either let this action activate it by setting`,
    '  security-domain-certificates: 3 to 10 PEM files with RSA public keys, e.g. sd0.cer, sd1.cer, sd2.cer',
    '  security-domain-quorum: how many of their private keys are needed to recover, e.g. 2',
    '  security-domain-file: where to write the encrypted security domain, e.g. security-domain.json',
    'or activate it yourself and re-run:',
    '  openssl req -newkey rsa:2048 -nodes -keyout sd0.key -x509 -days 365 -out sd0.cer   (again for sd1 and sd2)',
    `  az keyvault security-domain download --hsm-name ${hsmName} --sd-wrapping-keys sd0.cer sd1.cer sd2.cer --sd-quorum 2 --security-domain-file ${hsmName}-security-domain.json`,
    'Keep the private keys and the security domain file offline and apart: they are the only way to recover the HSM.'
  ].join('\n')
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
    record(ctx, { step: STEP, observed: 'Active', action: 'none', result: 'ok' })
    return hsm
  }
  if (!sd) throw new ActionError(activationSteps(inputs.hsm.name, inputs.hsm.resourceGroup))
  const action =
    `download the security domain for ${sd.certificates.length} certificates (quorum ${sd.quorum}) ` +
    `to ${sd.file} and wait for activation`
  const observed = hsm ? hsm.activationStatus : 'HSM not created yet'
  if (ctx.plan || !hsm) {
    record(ctx, { step: STEP, observed, action, result: 'would-change' })
    return hsm
  }

  const securityDomain = ctx.apis.hsm(dataPlaneUri(ctx, hsm)).securityDomain
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
    const { value } = await writeOnce<{ value?: string }>(ctx, {
      what: `the security domain download of '${hsm.name}' to start`,
      timeoutMs: ctx.waits.activationMs,
      hint: `Check: az keyvault show --hsm-name ${hsm.name} --query properties.securityDomainProperties`,
      // A download that started without us getting its answer cannot be fetched again.
      landed: async () => {
        const status = await securityDomain.downloadStatus()
        return status && /^(InProgress|Success)$/i.test(status.status)
          ? { value: undefined }
          : undefined
      },
      write: () =>
        securityDomain.download(
          sd.certificates.map(c => c.jwk),
          sd.quorum
        ),
      retryable: () => undefined
    })
    if (value === undefined) {
      throw new ActionError(
        `The security domain download of '${hsm.name}' started, but its answer was lost on the way, so ` +
          `${sd.file} was not written and no copy of the security domain exists here. Once the HSM is active, ` +
          `download it again (az keyvault security-domain download --hsm-name ${hsm.name} --sd-wrapping-keys ... ` +
          '--sd-quorum ... --security-domain-file ...) and keep it offline; then re-run.'
      )
    }
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
  record(ctx, { step: STEP, observed, action, result: 'changed' })
  return active
}
