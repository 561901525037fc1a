/** The HSM activation's refusals, its lost or cut-off downloads, and what its waits say when they give up. */
import { describe, expect, it } from '@jest/globals'
import { RestError } from '@azure/core-rest-pipeline'
import type { Inputs } from '../../src/inputs/settings.js'
import type { SecretFiles } from '../../src/secret-file.js'
import { WaitTimeoutError } from '../../src/wait.js'
import { FakeAzure, baseInputs } from './fakes.js'
import { harness } from './helpers.js'
import { certificates, expectRow, failure } from './outcomes.js'

const securityDomain = { certificates: certificates(), quorum: 2, file: '/work/sd.json' }
const withDomain = (mode: Inputs['mode'] = 'apply'): Inputs => baseInputs({ securityDomain, mode })
const started = 'download started 2026-11-28T10:00:00.000Z'
const cutOff = () => new RestError('the connection was reset', { code: 'OutcomeUnknown' })
const afterElapsed = (message: string) => message.replace(/^Gave up after .+? waiting for /, '')

const inactive = () => new FakeAzure().withActiveHsm({ activationStatus: 'NotActivated' })

/** An active HSM whose download was started, and the file that holds its security domain. */
function withDomainKept() {
  const azure = new FakeAzure()
    .withActiveHsm({ tags: { 'cmk-security-domain': started } })
    .withKey()
    .withAccount()
  const h = harness(azure)
  h.files['/work/sd.json'] = { content: '{"EncData":"kept"}' }
  return { azure, h }
}

describe('a download an earlier run started and never saved', () => {
  it('stops a run without security-domain inputs, naming no file', async () => {
    const azure = new FakeAzure().withActiveHsm({ tags: { 'cmk-security-domain': started } })
    const error = await failure(harness(azure).run())
    expect(error.message).toBe(
      `Managed HSM 'hsm-cmk' is tagged cmk-security-domain='${started}': a security domain download this ` +
        'action started was never saved, so no copy of the security domain may exist. If another run is ' +
        'activating the HSM right now, re-run when it has finished. Otherwise, once the HSM is active, download ' +
        'the security domain again (az keyvault security-domain download --hsm-name hsm-cmk ...), keep it ' +
        "offline, and remove the tag (az tag update --resource-id <the HSM's id> --operation Delete --tags " +
        'cmk-security-domain); then re-run.'
    )
    expect(azure.writes()).toEqual([])
  })

  it('lets a run through whose file holds the security domain, and marks it saved', async () => {
    const { azure, h } = withDomainKept()
    const result = await h.run(withDomain())
    expect(azure.hsmState?.tags['cmk-security-domain']).toBe('saved 2026-11-28T12:00:00.000Z')
    expectRow(result.records, 'HSM activation', 'Active', 'none', 'ok')
  })

  it('in plan mode, marks nothing saved', async () => {
    const { azure, h } = withDomainKept()
    await h.run(withDomain('plan'))
    expect(azure.writes()).toEqual([])
    expect(azure.hsmState?.tags['cmk-security-domain']).toBe(started)
  })
})

describe('the security-domain file', () => {
  it('refuses a file that exists already, since it is never overwritten', async () => {
    const azure = inactive()
    const h = harness(azure)
    h.files['/work/sd.json'] = { content: 'another domain' }
    const error = await failure(h.run(withDomain()))
    expect(error.message).toBe(
      'security-domain-file /work/sd.json already exists. It may hold another security domain, so it is never ' +
        'overwritten: move it away or choose another path.'
    )
    expect(azure.writes()).toEqual([])
  })

  it('fails before the download when the file cannot be created, saying why and what to do', async () => {
    const azure = inactive()
    const secretFiles: SecretFiles = {
      state: () => 'absent',
      reserve: () =>
        Promise.reject(
          Object.assign(new Error("EACCES: permission denied, open '/work/sd.json'"), {
            code: 'EACCES'
          })
        )
    }
    const error = await failure(harness(azure, { secretFiles }).run(withDomain()))
    expect(error.message).toBe(
      "Input 'security-domain-file' is '/work/sd.json': it cannot be created (EACCES: permission denied, open " +
        "'/work/sd.json'), so the security domain was not downloaded. Choose a path in a folder this job may " +
        'write to, where no file or link is.'
    )
    expect(azure.writes()).not.toContain('sd.download')
  })

  it('says where it wrote the security domain', async () => {
    const h = harness(inactive().withKey().withAccount())
    await h.run(withDomain())
    expect(h.runner.logs).toContain(
      'info: Wrote the encrypted security domain to /work/sd.json (readable by its owner only).'
    )
  })
})

describe('a download whose answer is lost', () => {
  it('fails, telling that no copy exists here and how to make one', async () => {
    const azure = inactive()
    azure.failNext('sd.download', () => {
      azure.sdStatus = { status: 'InProgress' }
      return cutOff()
    })
    const h = harness(azure)
    const error = await failure(h.run(withDomain()))
    expect(error.message).toBe(
      "The security domain download of 'hsm-cmk' started, but its answer was lost on the way, so " +
        '/work/sd.json was not written and no copy of the security domain exists here. Once the HSM is active, ' +
        'download it again (az keyvault security-domain download --hsm-name hsm-cmk --sd-wrapping-keys ... ' +
        '--sd-quorum ... --security-domain-file ...), keep it offline, and remove the tag cmk-security-domain ' +
        'from the HSM; then re-run.'
    )
    expect(azure.calls.filter(c => c === 'write sd.download')).toHaveLength(1)
  })

  it('gives up when every download is cut off before the HSM takes it, naming the download', async () => {
    const azure = inactive()
    azure.failAlways('sd.download', cutOff)
    const error = await failure(harness(azure).run(withDomain()))
    expect(error.cause).toBeInstanceOf(WaitTimeoutError)
    expect(afterElapsed(error.message)).toBe(
      "the security domain download of 'hsm-cmk' to start. Last observation: the outcome of the last attempt " +
        'is unknown. Check: az keyvault show --hsm-name hsm-cmk --query properties.securityDomainProperties'
    )
  })
})

describe('waiting for the activation', () => {
  it('gives up on an HSM that never reports Active, with the last download and activation status', async () => {
    const azure = inactive()
    azure.before['hsm.get'] = () => {
      azure.hsmState!.activationStatus = 'NotActivated'
    }
    const error = await failure(harness(azure).run(withDomain()))
    expect(error.step).toBe('HSM activation')
    expect(error.cause).toBeInstanceOf(WaitTimeoutError)
    expect(afterElapsed(error.message)).toBe(
      "Managed HSM 'hsm-cmk' to be activated. Last observation: download Success, activationStatus " +
        'NotActivated. Check: az keyvault show --hsm-name hsm-cmk --resource-group rg-cmk --query ' +
        'properties.securityDomainProperties'
    )
  })

  it('calls what it cannot read unknown', async () => {
    const azure = inactive()
    azure.before['sd.download'] = () => {
      // Once the download is taken, its status and the HSM itself can no longer be read.
      azure.before['sd.status'] = () => {
        azure.sdStatus = undefined
      }
      azure.before['hsm.get'] = () => {
        azure.hsmState = undefined
      }
    }
    const error = await failure(harness(azure).run(withDomain()))
    expect(error.cause).toBeInstanceOf(WaitTimeoutError)
    expect(error.message).toContain(
      'Last observation: download unknown, activationStatus unknown. Check:'
    )
  })
})
