import type { ManagedHsmState, SecurityDomainApi, SecurityDomainStatus } from '../azure/api.js'
import { ActionError, describeError } from '../errors.js'
import type { SecurityDomainSettings } from '../inputs/settings.js'
import type { ReservedFile } from '../secret-file.js'
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

/** The HSM tag that tells later runs whether the security domain this action downloaded is safe. */
export const securityDomainTag = 'cmk-security-domain'

/** A download this action started and never reported saved: its security domain may be lost. */
export function unsavedDownload(hsm: ManagedHsmState | undefined): string | undefined {
  const marker = hsm?.tags[securityDomainTag]
  return marker?.startsWith('download started') ? marker : undefined
}

export function downloadUnderWay(status: SecurityDomainStatus | undefined): boolean {
  return !!status && /^(InProgress|Success)$/i.test(status.status)
}

/** Why a run stops at a download this action started and never saved, and what to do. */
function unsavedDownloadMessage(hsmName: string, marker: string, file: string | undefined): string {
  return (
    `Managed HSM '${hsmName}' is tagged ${securityDomainTag}='${marker}': a security domain download this ` +
    `action started was never saved${file ? ` to ${file}` : ''}, so no copy of the security domain may exist. ` +
    'If another run is activating the HSM right now, re-run when it has finished. Otherwise, once the HSM is ' +
    `active, download the security domain again (az keyvault security-domain download --hsm-name ${hsmName} ` +
    `...), keep it offline, and remove the tag (az tag update --resource-id <the HSM's id> --operation Delete ` +
    `--tags ${securityDomainTag}); then re-run.`
  )
}

/** What a run must refuse, before any write, about the security domain and its file. */
export function securityDomainProblems(
  ctx: StepContext,
  hsm: ManagedHsmState | undefined,
  download: SecurityDomainStatus | undefined
): string[] {
  const sd = ctx.inputs.securityDomain
  const hsmName = ctx.inputs.hsm.name
  const state = sd ? ctx.secretFiles.state(sd.file) : 'absent'
  const marker = unsavedDownload(hsm)
  // Only a download the HSM took can be lost: while the HSM is not active and no download is under
  // way, the one the tag tells of never reached it (cut off or refused), and this run starts it again.
  const taken = hsm?.activationStatus === 'Active' || downloadUnderWay(download)
  if (marker && taken && state !== 'written') {
    return [unsavedDownloadMessage(hsmName, marker, sd?.file)]
  }
  const downloads = hsm ? hsm.activationStatus !== 'Active' && !downloadUnderWay(download) : true
  if (!sd || !downloads || state === 'absent' || state === 'empty') return []
  return [
    state === 'written'
      ? `security-domain-file ${sd.file} already exists. It may hold another security domain, so it is never ` +
        'overwritten: move it away or choose another path.'
      : `security-domain-file ${sd.file} is not a regular file (a link, a folder or a device): the security ` +
        'domain is written to a new regular file only. Choose another path.'
  ]
}

/**
 * Activates the HSM: reserves the security domain file (owner-only, never through a link, never
 * over content), tags the HSM that a download is under way, downloads the security domain, writes
 * and syncs it to the file, tags the HSM that it is saved, and waits until Azure reports the HSM
 * Active. A download begun by an earlier run is waited for, not repeated; one whose security
 * domain was never saved stops every later run (see securityDomainProblems), and one the HSM never
 * took is started again.
 */
export async function ensureActivated(
  ctx: StepContext,
  hsm: ManagedHsmState | undefined,
  observedDownload?: SecurityDomainStatus
): Promise<ManagedHsmState | undefined> {
  const { inputs } = ctx
  const sd = inputs.securityDomain
  if (hsm?.activationStatus === 'Active') {
    // Preflight let an unsaved marker through only with the file written: this run saved it.
    if (unsavedDownload(hsm) && !ctx.plan) await markSaved(ctx, hsm)
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
  const pending = observedDownload ?? (await securityDomain.downloadStatus())
  if (downloadUnderWay(pending)) {
    ctx.log.info(
      `A security domain download is already ${pending?.status} on '${hsm.name}'; waiting for it.`
    )
    const marker = unsavedDownload(hsm)
    if (ctx.secretFiles.state(sd.file) === 'written') await markSaved(ctx, hsm)
    else if (marker) throw new ActionError(unsavedDownloadMessage(hsm.name, marker, sd.file))
    else {
      ctx.log.warning(
        `${sd.file} does not exist here: the security domain of that download is saved by the run that started ` +
          'it. Make sure that run kept it.'
      )
    }
  } else {
    await download(ctx, hsm, securityDomain, sd)
  }

  const { name, resourceGroup } = inputs.hsm
  const active = await waitIn(ctx, {
    what: `Managed HSM '${name}' to be activated`,
    kind: 'operation',
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

async function download(
  ctx: StepContext,
  hsm: ManagedHsmState,
  securityDomain: SecurityDomainApi,
  sd: SecurityDomainSettings
): Promise<void> {
  let file: ReservedFile
  try {
    file = await ctx.secretFiles.reserve(sd.file)
  } catch (error) {
    throw new ActionError(
      `Input 'security-domain-file' is '${sd.file}': it cannot be created (${describeError(error)}), so the ` +
        'security domain was not downloaded. Choose a path in a folder this job may write to, where no file or link is.'
    )
  }
  try {
    await ctx.apis.managedHsms.mergeTags(hsm.id, {
      [securityDomainTag]: `download started ${new Date(ctx.clock.now()).toISOString()}`
    })
    const { value } = await writeOnce<{ value?: string }>(ctx, {
      what: `the security domain download of '${hsm.name}' to start`,
      timeoutMs: ctx.waits.activationMs,
      hint: `Check: az keyvault show --hsm-name ${hsm.name} --query properties.securityDomainProperties`,
      // A download that started without us getting its answer cannot be fetched again.
      landed: async () =>
        downloadUnderWay(await securityDomain.downloadStatus()) ? { value: undefined } : undefined,
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
          `--sd-quorum ... --security-domain-file ...), keep it offline, and remove the tag ${securityDomainTag} ` +
          'from the HSM; then re-run.'
      )
    }
    try {
      await file.write(value)
    } catch (error) {
      throw new ActionError(
        `The security domain of '${hsm.name}' was downloaded, but writing it to ${sd.file} failed ` +
          `(${describeError(error)}), so no copy of the security domain exists. Once the HSM is active, ` +
          `download it again (az keyvault security-domain download --hsm-name ${hsm.name} --sd-wrapping-keys ... ` +
          `--sd-quorum ... --security-domain-file ...), keep it offline, and remove the tag ${securityDomainTag} ` +
          'from the HSM; then re-run.'
      )
    }
  } catch (error) {
    await file.release().catch(() => {})
    throw error
  }
  ctx.log.info(`Wrote the encrypted security domain to ${sd.file} (readable by its owner only).`)
  await markSaved(ctx, hsm)
}

function markSaved(ctx: StepContext, hsm: ManagedHsmState): Promise<void> {
  return ctx.apis.managedHsms.mergeTags(hsm.id, {
    [securityDomainTag]: `saved ${new Date(ctx.clock.now()).toISOString()}`
  })
}
