/**
 * What goes wrong for people running the procedure by hand, run through the bundled action:
 * tokens that expire mid-run, and an existing HSM without purge protection.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEmulator, type Emulator } from '../../emulator/src/index.js'
import { runAction, type ActionRun } from '../../scripts/lib/run-action.js'
import { writeSecurityDomainCertificates } from '../support/certificates.js'
import { defaultScenario, emptySubscriptionScenario, names } from '../support/scenarios.js'

let emulator: Emulator
let workDir: string

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'cmk-long-'))
  emulator = await startEmulator({
    scenario: defaultScenario(),
    stateDir: join(workDir, 'state'),
    quiet: true
  })
})

afterAll(async () => {
  await emulator?.stop()
})

function inputs(account: string): Record<string, string> {
  const env = emulator.env
  return {
    'client-id': env.AZURE_CLIENT_ID,
    'tenant-id': env.AZURE_TENANT_ID,
    'subscription-id': env.AZURE_SUBSCRIPTION_ID,
    'resource-group': names.resourceGroup,
    location: names.location,
    'hsm-name': names.hsm,
    'key-name': 'cosmos-cmk',
    'account-name': account
  }
}

function expectSuccess(result: ActionRun): void {
  if (result.code !== 0) {
    throw new Error(`action failed (${result.code}):\n${result.stdout}\n${result.stderr}`)
  }
}

describe('token lifetimes shorter than the run', () => {
  it('asks the runner for a fresh ID token whenever a new access token is needed', async () => {
    emulator.loadScenario(emptySubscriptionScenario())
    // An HSM creation that outlives both the ID token and every access token.
    emulator.setTiming({
      hsmCreate: 5_000,
      idTokenLifetimeSeconds: 2,
      accessTokenLifetimeSeconds: 3
    })
    emulator.clearRequests()
    const certificates = await writeSecurityDomainCertificates(workDir, 3)
    const result = await runAction(
      {
        ...inputs('cosmos-cmk-tokens'),
        'create-hsm': 'true',
        'security-domain-certificates': certificates.join(','),
        'security-domain-quorum': '2',
        'security-domain-file': join(workDir, 'tokens-security-domain.json')
      },
      { env: emulator.env }
    )
    expectSuccess(result)

    const log = emulator.requests()
    const idTokenRequests = log.filter(e => e.host === 'pipelines.actions.githubusercontent.com')
    const entraTokens = log.filter(e => e.host === 'login.microsoftonline.com' && e.status === 200)
    expect(log.filter(e => e.status === 401 && e.host === 'management.azure.com')).toEqual([])
    expect(log.some(e => /AADSTS700024/.test(JSON.stringify(e)))).toBe(false)
    // The run took longer than one ID token lives, so one token up front could not have done.
    expect(result.durationMs).toBeGreaterThan(2_000)
    expect(idTokenRequests.length).toBeGreaterThan(1)
    expect(entraTokens.length).toBeGreaterThanOrEqual(idTokenRequests.length)
  })
})

describe('an existing HSM without purge protection', () => {
  function hsmWithoutPurgeProtection(): void {
    const scenario = defaultScenario()
    scenario.subscriptions[0].resourceGroups![0].managedHsms![0].enablePurgeProtection = false
    emulator.loadScenario(scenario)
    emulator.clearRequests()
  }

  it('fails before any write when enable-purge-protection is false', async () => {
    hsmWithoutPurgeProtection()
    const before = emulator.store.snapshot()
    const result = await runAction(inputs('cosmos-cmk-nopp'), { env: emulator.env })
    expect(result.code).not.toBe(0)
    expect(result.stdout).toMatch(/purge protection/i)
    expect(result.stdout).toMatch(/enable-purge-protection/)
    expect(emulator.requests().filter(e => e.kind === 'write')).toEqual([])
    expect(emulator.store.snapshot()).toEqual(before)
  })

  it('turns it on in place, saying that it is irreversible, when enable-purge-protection is true', async () => {
    hsmWithoutPurgeProtection()
    const result = await runAction(
      { ...inputs('cosmos-cmk-pp'), 'enable-purge-protection': 'true' },
      { env: emulator.env }
    )
    expectSuccess(result)
    expect(result.stdout).toMatch(/irreversible/i)
    const hsm = Object.values(emulator.store.world.managedHsms)[0]
    expect(hsm.enablePurgeProtection).toBe(true)
    expect(hsm.enableSoftDelete).toBe(true)
  })
})
