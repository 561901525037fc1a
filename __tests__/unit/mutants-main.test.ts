/** What the action tells the runner at the end of each mode, and when the summary cannot be written. */
import { describe, expect, it } from '@jest/globals'
import { run } from '../../src/main.js'
import { hsmRoles, roleAssignmentName } from '../../src/roles.js'
import { FakeAzure, FakeClock, FakeRunner, ids, validInputs } from './fakes.js'
import { fakeCredential, memorySecretFiles } from './helpers.js'

const deps = (apis: FakeAzure) => ({
  apis,
  ...{ credential: fakeCredential(), clock: new FakeClock(), secretFiles: memorySecretFiles() }
})

/** Everything in place: a re-run finds nothing to do. */
function inPlace(): FakeAzure {
  const scope = '/keys/cosmos-key'
  const role = hsmRoles.cryptoServiceEncryptionUser.id
  const azure = new FakeAzure()
    .withActiveHsm()
    .withKey()
    .withAccount({
      customerManagedKeyStatus: 'Access to the configured customer managed key confirmed.'
    })
    .grant(hsmRoles.cryptoUser.id, ids.signedIn, '/keys')
    .grant(role, ids.cosmosSp, scope, roleAssignmentName('hsm-cmk', scope, role, ids.cosmosSp))
  azure.account!.keyVaultKeyUriVersion = azure.keys['cosmos-key'].version
  return azure
}

async function finish(azure: FakeAzure, inputs: Record<string, string> = {}): Promise<FakeRunner> {
  const runner = new FakeRunner({ ...validInputs, ...inputs })
  await run(runner, deps(azure))
  return runner
}

const lastInfo = (runner: FakeRunner) => runner.logs.filter(l => l.startsWith('info: ')).at(-1)

describe('the last word of a run', () => {
  it('apply: changes were made, or everything was in place', async () => {
    expect(lastInfo(await finish(new FakeAzure().withActiveHsm()))).toBe(
      'info: Done: changes were made.'
    )
    expect(lastInfo(await finish(inPlace()))).toBe('info: Done: everything was already in place.')
  })

  it('plan: whether apply would change anything', async () => {
    expect(lastInfo(await finish(inPlace(), { mode: 'plan' }))).toBe(
      'info: Plan complete: apply would change nothing.'
    )
  })

  it('plan-teardown: whether teardown would delete anything', async () => {
    const confirm = { 'confirm-teardown': 'cosmos-cmk' }
    expect(lastInfo(await finish(inPlace(), { mode: 'plan-teardown', ...confirm }))).toBe(
      'info: Teardown plan complete: teardown would delete something.'
    )
    expect(
      lastInfo(await finish(new FakeAzure().withActiveHsm(), { mode: 'plan-teardown', ...confirm }))
    ).toBe('info: Teardown plan complete: nothing to delete.')
  })

  it('verify: every check passed, or the problems, one a line', async () => {
    const healthy = await finish(inPlace(), { mode: 'verify' })
    expect(healthy.failed).toBeUndefined()
    expect(lastInfo(healthy)).toBe(
      'info: Verify complete: the account uses the key, and every check passed.'
    )

    const azure = inPlace()
    azure.hsmState!.enablePurgeProtection = false
    azure.account!.provisioningState = 'Failed'
    const sick = await finish(azure, { mode: 'verify' })
    expect(sick.failed).toBe(
      'Verify found 2 problem(s):\n' +
        '- Managed HSM: purge protection on: purge protection off\n' +
        '- Cosmos DB account: provisioning succeeded: provisioningState Failed'
    )
    expect(sick.logs).not.toContain(
      'info: Verify complete: the account uses the key, and every check passed.'
    )
  })
})

describe('the job summary', () => {
  it('that cannot be written is a warning, and the run still succeeds', async () => {
    const runner = new FakeRunner(validInputs)
    runner.summary = async () => {
      throw new Error('EACCES: permission denied, open summary.md')
    }
    await run(runner, deps(new FakeAzure().withActiveHsm()))
    expect(runner.failed).toBeUndefined()
    expect(runner.logs).toContainEqual(
      'warning: Could not write the job summary: EACCES: permission denied, open summary.md'
    )
    expect(runner.outputs['key-uri']).toBe('https://hsm-cmk.managedhsm.azure.net/keys/cosmos-key')
  })

  it('of invalid inputs says that nothing was requested, with the problems', async () => {
    const runner = new FakeRunner({ ...validInputs, 'key-size': '1024' })
    await run(runner, deps(new FakeAzure()))
    expect(runner.summaries).toEqual([
      '## Cosmos DB customer-managed key on Managed HSM (invalid inputs: nothing was requested)\n\n' +
        "```\nInput 'key-size' is '1024': must be one of 2048, 3072, 4096.\n```\n"
    ])
    expect(runner.failed).toBe("Input 'key-size' is '1024': must be one of 2048, 3072, 4096.")
  })
})
