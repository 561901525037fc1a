/**
 * The whole run in this process against the local Azure, through src/'s own sign-in and SDK
 * adapters (nothing faked but the runner): what the child-process suites check of the bundle,
 * here for the code in src/ as it is.
 */
import { describe, expect, it } from '@jest/globals'
import type { Inputs } from '../../src/inputs/settings.js'
import { runProvisioning } from '../../src/provision.js'
import { ProvisioningError } from '../../src/provisioning-error.js'
import { hsmRoles } from '../../src/roles.js'
import { systemClock } from '../../src/clock.js'
import { defaultNames, KEY_NAME, writes } from '../../testkit/index.js'
import { baseInputs } from './fakes.js'
import { memorySecretFiles } from './helpers.js'
import { LocalRunner, quickTransport, useLocalAzure } from './local-azure.js'

const local = useLocalAzure()

function inputs(account: string, overrides: Partial<Inputs> = {}): Inputs {
  const base = baseInputs()
  return baseInputs({
    auth: { ...base.auth, clientId: defaultNames.clientId, tenantId: defaultNames.tenantId },
    subscriptionId: defaultNames.subscriptionId,
    resourceGroup: defaultNames.resourceGroup,
    location: defaultNames.location,
    hsm: { ...base.hsm, name: defaultNames.hsmName, resourceGroup: defaultNames.resourceGroup },
    key: { ...base.key, name: KEY_NAME },
    account: { ...base.account, name: account, locations: [defaultNames.location] },
    ...overrides
  })
}

function run(given: Inputs) {
  const runner = new LocalRunner(local.emulator)
  const result = runProvisioning(given, {
    runner,
    clock: systemClock,
    transport: quickTransport,
    secretFiles: memorySecretFiles(),
    waits: { minDelayMs: 20, maxDelayMs: 200 }
  })
  return { runner, result }
}

describe('a run in this process against the local Azure', () => {
  it('creates the key, the grants and a system-assigned account, then removes the bootstrap grant', async () => {
    const given = inputs('inproc-sa', {
      identity: {
        mode: 'system-assigned',
        bootstrap: 'first-party',
        removeBootstrapAssignment: true
      }
    })
    const { runner, result } = run(given)
    const { outputs, changed } = await result
    expect(changed).toBe(true)
    const world = local.emulator.store.world
    const account = Object.values(world.cosmosAccounts).find(a => a.name === 'inproc-sa')
    expect(account?.defaultIdentity).toBe('SystemAssignedIdentity')
    expect(account?.keyVaultKeyUri).toBe(
      `https://${defaultNames.hsmName}.managedhsm.azure.net/keys/${KEY_NAME}`
    )
    expect(outputs['default-identity']).toBe('SystemAssignedIdentity')
    expect(outputs['system-assigned-principal-id']).toBe(account?.systemAssignedPrincipalId)
    expect(outputs['account-id']).toBe(account?.id)
    const holders = Object.values(world.hsmDataPlanes[defaultNames.hsmName].roleAssignments)
      .filter(
        a =>
          a.scope === `/keys/${KEY_NAME}` &&
          a.roleDefinitionId.endsWith(hsmRoles.cryptoServiceEncryptionUser.id)
      )
      .map(a => a.principalId)
    expect(holders).toContain(account?.systemAssignedPrincipalId)
    expect(holders).not.toContain(defaultNames.cosmosObjectId)
    // Every token the run received was masked.
    expect(runner.secrets.length).toBeGreaterThan(0)
  })

  it('refuses a key the account cannot use before any write', async () => {
    const key = 'inproc-small'
    const plane = local.apis.hsm(`https://${defaultNames.hsmName}.managedhsm.azure.net`)
    const { result: first } = run(
      inputs('inproc-key-first', { key: { name: key, size: 2048, rotateNow: false } })
    )
    await first
    local.emulator.clearRequests()
    const { result } = run(
      inputs('inproc-key-other', { key: { name: key, size: 4096, rotateNow: false } })
    )
    await expect(result).rejects.toBeInstanceOf(ProvisioningError)
    await expect(result).rejects.toMatchObject({
      step: 'Observe',
      message: expect.stringMatching(/it is 2048 bits, but key-size is 4096/)
    })
    expect(writes(local.emulator.requests())).toEqual([])
    expect((await plane.keys.versions(key)).length).toBe(1)
  })

  it('refuses rotate-key on a key without a rotation policy before any write', async () => {
    const key = 'inproc-no-policy'
    await run(inputs('inproc-policy-first', { key: { name: key, size: 3072, rotateNow: false } }))
      .result
    local.emulator.clearRequests()
    const { result } = run(
      inputs('inproc-policy-next', { key: { name: key, size: 3072, rotateNow: true } })
    )
    await expect(result).rejects.toMatchObject({
      name: 'ProvisioningError',
      step: 'Observe',
      message: expect.stringMatching(/has no rotation policy/)
    })
    expect(writes(local.emulator.requests())).toEqual([])
  })
})
