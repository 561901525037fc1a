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
import { abortError, systemClock, type Clock } from '../../src/clock.js'
import { Step } from '../../src/steps/names.js'
import { renderSummary } from '../../src/summary.js'
import { defaultNames, KEY_NAME, summaryChart, writes } from '../../testkit/index.js'
import { memorySecretFiles } from './helpers.js'
import { LocalRunner, localAzureInputs, quickTransport, useLocalAzure } from './local-azure.js'

const local = useLocalAzure()

const inputs = localAzureInputs

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

  it("draws where the time went: a section per step that ran, Azure's waits as critical bars", async () => {
    const propagationMs = 5 * 60_000
    local.emulator.setTiming({ rbacPropagation: propagationMs })
    // The local Azure's clock is the run's: a pause moves it on at once, so the role takes
    // effect after five minutes of run time and no real time.
    const clock: Clock = {
      now: () => local.emulator.now(),
      sleep: async (ms, signal) => {
        if (signal?.aborted) throw abortError(signal)
        local.emulator.advanceClock(ms)
      }
    }
    const given = inputs('inproc-timeline')
    const runner = new LocalRunner(local.emulator)
    const result = await runProvisioning(given, {
      runner,
      clock,
      transport: quickTransport,
      secretFiles: memorySecretFiles(),
      waits: { minDelayMs: 200, maxDelayMs: 30_000 }
    })
    const chart = summaryChart(renderSummary(result))
    const sections = chart?.sections ?? []
    // The steps that sent requests: the HSM, its activation and the account's identity were in
    // place already. The HSM's data plane is read while the tokens come, the grants run side by
    // side, and the key after the admin's grant.
    expect(new Set(sections.slice(0, 2))).toEqual(new Set([Step.SignIn, Step.Observe]))
    expect(sections[2]).toBe(Step.Providers)
    expect(new Set(sections.slice(3, 5))).toEqual(new Set([Step.AdminGrant, Step.CosmosGrant]))
    expect(sections.slice(5)).toEqual([Step.Key, Step.Account])

    const bars = chart?.bars ?? []
    // Azure's waits are critical bars, the action's own reads and writes are not.
    for (const bar of bars) {
      const own = bar.title.match(/^\d+ (read|write)s?,/)?.[1]
      expect(bar.tag).toBe(own === 'read' ? 'done' : own === 'write' ? 'active' : 'crit')
      if (!own) expect(bar.title).toMatch(/^(propagation|operation|throttling) /)
    }
    const roleWait = bars.find(b => b.step === Step.Key && b.title.startsWith('propagation '))
    expect(roleWait?.title).toMatch(/'Managed HSM Crypto User' on \/keys to take effect/)
    // The role took effect five minutes of run time after it was assigned, and not before.
    expect(roleWait?.endMs).toBeGreaterThanOrEqual(propagationMs)
    expect(bars).toContainEqual(
      expect.objectContaining({
        step: Step.Account,
        tag: 'crit',
        title: expect.stringMatching(
          /^operation .*, creation of Cosmos DB account 'inproc-timeline'$/
        )
      })
    )
  })
})
