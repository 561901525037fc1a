/** Creating, waiting for and activating the HSM, beyond the main paths. */
import { describe, expect, it } from '@jest/globals'
import type { Inputs } from '../../src/inputs/settings.js'
import type { SecretFiles } from '../../src/secret-file.js'
import { ActionError } from '../../src/errors.js'
import { downloadUnderWay } from '../../src/steps/activation.js'
import { WaitTimeoutError } from '../../src/wait.js'
import { FakeAzure, baseInputs, ids, restError } from './fakes.js'
import { certificates, expectRow, failure } from './outcomes.js'
import { harness } from './helpers.js'

const securityDomain = { certificates: certificates(), quorum: 2, file: '/work/sd.json' }

const newHsm = (overrides: Partial<Inputs['hsm']> = {}, mode: Inputs['mode'] = 'apply'): Inputs =>
  baseInputs({
    hsm: { ...baseInputs().hsm, create: true, ...overrides },
    securityDomain,
    mode
  })

describe('creating the HSM', () => {
  it('makes the signed-in principal an administrator once, next to the ones asked for', async () => {
    const azure = new FakeAzure()
    const admin = '88888888-8888-4888-8888-888888888888'
    const h = harness(azure)
    const result = await h.run(newHsm({ administrators: [admin, ids.signedIn], retentionDays: 7 }))
    expect(azure.hsmState?.initialAdminObjectIds).toEqual([admin, ids.signedIn])
    expect(azure.hsmState?.softDeleteRetentionInDays).toBe(7)
    expect(azure.hsmState?.tags).toMatchObject({ 'created-by': 'cosmos-cmk-hsm-action' })
    expectRow(
      result.records,
      'Managed HSM',
      'absent',
      `create Standard_B1 in westeurope with administrators ${admin}, ${ids.signedIn}, soft delete (7 days) and purge protection`,
      'changed'
    )
    expect(h.runner.logs).toContainEqual(
      "warning: Creating Managed HSM 'hsm-cmk': billing starts at creation, and its purge protection cannot be turned off; a deleted HSM stays billed and counted against quota for 7 days."
    )
  })

  it('fails, naming the HSM, when the creation fails and no concurrent run made it', async () => {
    const azure = new FakeAzure()
    azure.failNext('hsm.create', () => restError(409, 'Conflict', 'name taken in another tenant'))
    const error = await failure(harness(azure).run(newHsm()))
    expect(error.cause).toBeInstanceOf(ActionError)
    expect(error.message).toBe(
      "Creating Managed HSM 'hsm-cmk' failed: Conflict (HTTP 409): name taken in another tenant"
    )
    const refused = new FakeAzure()
    refused.failNext('hsm.create', () => restError(400, 'BadRequest', 'no quota'))
    expect((await failure(harness(refused).run(newHsm()))).message).toBe(
      "Creating Managed HSM 'hsm-cmk' failed: BadRequest (HTTP 400): no quota"
    )
    expect(refused.calls.filter(c => c === 'read hsm.get')).toHaveLength(1)
  })

  it('in plan mode says what it would create and that activation would follow', async () => {
    const azure = new FakeAzure()
    const result = await harness(azure).run(newHsm({}, 'plan'))
    expectRow(
      result.records,
      'HSM activation',
      'HSM not created yet',
      'download the security domain for 3 certificates (quorum 2) to /work/sd.json and wait for activation',
      'would-change'
    )
    expect(result.records.find(r => r.step === 'Key')).toMatchObject({
      observed: 'not readable until the HSM exists and is active',
      result: 'would-change'
    })
  })
})

describe('waiting for the HSM', () => {
  it('fails when the HSM ends in a failed state, with its message', async () => {
    const azure = new FakeAzure().withActiveHsm({ provisioningState: 'Provisioning' })
    let gets = 0
    azure.before['hsm.get'] = () => {
      if (++gets < 2) return
      azure.hsmState!.provisioningState = 'Failed'
      azure.hsmState!.statusMessage = 'out of capacity'
    }
    const error = await failure(harness(azure).run(newHsm()))
    expect(error.message).toBe(
      "Managed HSM 'hsm-cmk' ended in provisioning state Failed: out of capacity."
    )
  })

  it('fails when the HSM disappears while provisioning', async () => {
    const azure = new FakeAzure().withActiveHsm({ provisioningState: 'Provisioning' })
    let gets = 0
    azure.before['hsm.get'] = () => {
      if (++gets === 2) azure.hsmState = undefined
    }
    const error = await failure(harness(azure).run(newHsm()))
    expect(error.message).toBe("Managed HSM 'hsm-cmk' disappeared while it was being provisioned.")
  })

  it('counts Activated as provisioned, and does not wait in plan mode', async () => {
    const activated = new FakeAzure().withActiveHsm({ provisioningState: 'Activated' })
    await harness(activated).run(newHsm())
    expect(activated.calls.filter(c => c === 'read hsm.get')).toHaveLength(1)

    const provisioning = new FakeAzure().withActiveHsm({ provisioningState: 'Provisioning' })
    await harness(provisioning).run(newHsm({}, 'plan'))
    expect(provisioning.calls.filter(c => c === 'read hsm.get')).toHaveLength(1)
  })

  it('gives up at the deadline with what to check', async () => {
    const azure = new FakeAzure().withActiveHsm({ provisioningState: 'Updating' })
    const error = await failure(harness(azure).run(newHsm()))
    expect(error.cause).toBeInstanceOf(WaitTimeoutError)
    expect(error.message).toBe(
      "Gave up after 60 min 0 s waiting for Managed HSM 'hsm-cmk' to finish provisioning. Last observation: " +
        'provisioningState Updating. Check the HSM in the portal or run: az keyvault show --hsm-name hsm-cmk --resource-group rg-cmk'
    )
  })

  it('in plan mode says purge protection would be turned on', async () => {
    const azure = new FakeAzure().withActiveHsm({ enablePurgeProtection: false })
    const inputs = baseInputs({
      hsm: { ...baseInputs().hsm, enablePurgeProtection: true },
      mode: 'plan'
    })
    const result = await harness(azure).run(inputs)
    expectRow(
      result.records,
      'Managed HSM',
      'Succeeded, purge protection off, soft delete on (90 days), Active',
      'turn purge protection on (irreversible)',
      'would-change'
    )
    expect(azure.writes()).toEqual([])
  })
})

describe('activating the HSM', () => {
  it('fails with the details when the download fails', async () => {
    const azure = new FakeAzure().withActiveHsm({ activationStatus: 'NotActivated' })
    azure.before['sd.status'] = () => {
      azure.sdStatus = { status: 'Failed', statusDetails: 'quorum not met' }
    }
    const error = await failure(harness(azure).run(newHsm()))
    expect(error.step).toBe('HSM activation')
    expect(error.message).toBe("The security domain download of 'hsm-cmk' failed: quorum not met.")
  })

  it('fails without details when the service gives none', async () => {
    const azure = new FakeAzure().withActiveHsm({ activationStatus: 'NotActivated' })
    azure.before['sd.status'] = () => {
      azure.sdStatus = { status: 'failed' }
    }
    expect((await failure(harness(azure).run(newHsm()))).message).toBe(
      "The security domain download of 'hsm-cmk' failed."
    )
  })

  it('waits for a download under way that this machine has no file of, warning about it', async () => {
    const azure = new FakeAzure().withDownloadUnderWay()
    const h = harness(azure)
    await h.run(newHsm())
    expect(azure.writes()).not.toContain('sd.download')
    expect(azure.writes()).not.toContain('hsm.tags')
    expect(h.runner.logs).toEqual(
      expect.arrayContaining([
        "info: A security domain download is already InProgress on 'hsm-cmk'; waiting for it.",
        'warning: /work/sd.json does not exist here: the security domain of that download is saved by the run that started it. Make sure that run kept it.'
      ])
    )
  })

  it('marks the security domain saved when the file of a download under way is here', async () => {
    const azure = new FakeAzure().withDownloadUnderWay()
    const h = harness(azure)
    h.files['/work/sd.json'] = { content: 'from the run that started it' }
    await h.run(newHsm())
    expect(azure.hsmState?.tags['cmk-security-domain']).toMatch(/^saved 2026-11-28T/)
  })

  it('refuses an HSM that is not active without security-domain inputs, in plan mode too', async () => {
    const azure = new FakeAzure().withActiveHsm({ activationStatus: 'NotActivated' })
    const error = await failure(harness(azure).run({ ...baseInputs(), mode: 'plan' }))
    expect(error.message).toMatch(
      /^Managed HSM 'hsm-cmk' \(resource group 'rg-cmk'\) is not activated/
    )
  })

  it('fails, writing nothing, when the security domain file cannot be created', async () => {
    const azure = new FakeAzure().withActiveHsm({ activationStatus: 'NotActivated' })
    const h = harness(azure)
    // Preflight saw no file; it appears between the checks and the download.
    let reads = 0
    azure.before['sd.status'] = () => {
      if (++reads === 2) h.files['/work/sd.json'] = { content: 'precious' }
    }
    const error = await failure(h.run(newHsm()))
    expect(error.message).toMatch(
      /^Input 'security-domain-file' is '\/work\/sd\.json': it cannot be created \(EEXIST: file already exists/
    )
    expect(azure.writes()).not.toContain('sd.download')
    expect(h.files['/work/sd.json'].content).toBe('precious')
  })

  it('releases the reserved file when the download fails, for a later run to take over', async () => {
    const azure = new FakeAzure().withActiveHsm({ activationStatus: 'NotActivated' })
    azure.failNext('sd.download', () => restError(400, 'BadParameter', 'certificates refused'))
    const h = harness(azure)
    const error = await failure(h.run(newHsm()))
    expect(error.cause).toMatchObject({ statusCode: 400, message: 'certificates refused' })
    expect(h.files['/work/sd.json']).toEqual({ content: '' })
    expect(azure.hsmState?.tags['cmk-security-domain']).toMatch(/^download started /)

    // The HSM never took that download: the tag alone stops nothing, the next run downloads.
    await h.run(newHsm())
    expect(h.files['/work/sd.json']).toEqual({ content: '{"EncData":"opaque"}' })
    expect(azure.hsmState?.tags['cmk-security-domain']).toMatch(/^saved /)
  })

  it('stops at a download under way that this action started and never saved', async () => {
    const azure = new FakeAzure().withActiveHsm({
      activationStatus: 'NotActivated',
      tags: { 'cmk-security-domain': 'download started 2026-11-28T10:00:00.000Z' }
    })
    // The observation could not read the download; the activation finds it under way.
    let reads = 0
    azure.before['sd.status'] = () => {
      if (++reads === 1) throw restError(503, 'ServiceUnavailable', 'busy')
      azure.sdStatus ??= { status: 'InProgress' }
    }
    const h = harness(azure)
    const error = await failure(h.run(newHsm()))
    expect(error.step).toBe('HSM activation')
    expect(error.message).toMatch(
      /^Managed HSM 'hsm-cmk' is tagged cmk-security-domain='download started 2026-11-28T10:00:00.000Z': a security domain download this action started was never saved to \/work\/sd\.json, so/
    )
    expect(azure.writes()).toEqual([])
  })

  it('fails, saying what to do, when the downloaded security domain cannot be written', async () => {
    const azure = new FakeAzure().withActiveHsm({ activationStatus: 'NotActivated' })
    const secretFiles: SecretFiles = {
      state: () => 'absent',
      reserve: async () => ({
        write: () =>
          Promise.reject(
            Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' })
          ),
        release: async () => {}
      })
    }
    const error = await failure(harness(azure, { secretFiles }).run(newHsm()))
    expect(error.message).toBe(
      "The security domain of 'hsm-cmk' was downloaded, but writing it to /work/sd.json failed (ENOSPC: no " +
        'space left on device), so no copy of the security domain exists. Once the HSM is active, download it ' +
        'again (az keyvault security-domain download --hsm-name hsm-cmk --sd-wrapping-keys ... --sd-quorum ... ' +
        '--security-domain-file ...), keep it offline, and remove the tag cmk-security-domain from the HSM; then ' +
        're-run.'
    )
    expect(azure.hsmState?.tags['cmk-security-domain']).toMatch(/^download started /)
  })

  it('refuses a security-domain-file that is not a regular file', async () => {
    const azure = new FakeAzure().withActiveHsm({ activationStatus: 'NotActivated' })
    const secretFiles: SecretFiles = {
      state: () => 'not-a-file',
      reserve: () => Promise.reject(new Error('not reached'))
    }
    const error = await failure(harness(azure, { secretFiles }).run(newHsm()))
    expect(error.message).toBe(
      'security-domain-file /work/sd.json is not a regular file (a link, a folder or a device): the security ' +
        'domain is written to a new regular file only. Choose another path.'
    )
    expect(azure.writes()).toEqual([])
  })
})

describe('downloadUnderWay', () => {
  it.each([
    [undefined, false],
    [{ status: 'InProgress' }, true],
    [{ status: 'success' }, true],
    [{ status: 'NotInProgress' }, false],
    [{ status: 'Success2' }, false],
    [{ status: 'Failed' }, false]
  ])('%j: %s', (status, underWay) => {
    expect(downloadUnderWay(status)).toBe(underWay)
  })
})
