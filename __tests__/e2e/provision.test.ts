/**
 * The bundled action, run as the runner runs it, against the local Azure over HTTPS: every identity
 * mode from an empty subscription, the no-op re-run, and plan mode.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEmulator, type Emulator, type RequestLogEntry } from '../../emulator/src/index.js'
import { runAction, type ActionRun } from '../../scripts/lib/run-action.js'
import { writeSecurityDomainCertificates } from '../support/certificates.js'
import { emptySubscriptionScenario, names } from '../support/scenarios.js'

let emulator: Emulator
let workDir: string
let certificates: string[]

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'cmk-e2e-'))
  certificates = await writeSecurityDomainCertificates(workDir, 3)
  emulator = await startEmulator({
    scenario: emptySubscriptionScenario(),
    stateDir: join(workDir, 'state'),
    quiet: true
  })
})

afterAll(async () => {
  await emulator?.stop()
})

beforeEach(() => {
  emulator.reset()
  emulator.clearRequests()
})

function baseInputs(account: string): Record<string, string> {
  const env = emulator.env
  return {
    'client-id': env.AZURE_CLIENT_ID,
    'tenant-id': env.AZURE_TENANT_ID,
    'subscription-id': env.AZURE_SUBSCRIPTION_ID,
    'resource-group': names.resourceGroup,
    location: names.location,
    'hsm-name': names.hsm,
    'create-hsm': 'true',
    'hsm-retention-days': '7',
    'security-domain-certificates': certificates.join('\n'),
    'security-domain-quorum': '2',
    'security-domain-file': join(workDir, `${account}-security-domain.json`),
    'key-name': 'cosmos-cmk',
    'account-name': account
  }
}

const run = (inputs: Record<string, string>): Promise<ActionRun> =>
  runAction(inputs, { env: emulator.env })

function expectSuccess(result: ActionRun): void {
  if (result.code !== 0) {
    throw new Error(`action failed (${result.code}):\n${result.stdout}\n${result.stderr}`)
  }
}

const writes = (log: RequestLogEntry[]): RequestLogEntry[] => log.filter(e => e.kind === 'write')

function hsmAssignments() {
  return Object.values(emulator.store.world.hsmDataPlanes[names.hsm].roleAssignments)
}

function accountOf(name: string) {
  return Object.values(emulator.store.world.cosmosAccounts).find(a => a.name === name)
}

describe('fresh provisioning from an empty subscription', () => {
  it('first-party identity: creates and activates the HSM, key, grants and the account', async () => {
    const result = await run(baseInputs('cosmos-cmk-fp'))
    expectSuccess(result)
    const out = result.outputs
    const world = emulator.store.world

    expect(out['hsm-uri']).toBe(`https://${names.hsm}.managedhsm.azure.net/`)
    expect(out['key-uri']).toBe(`https://${names.hsm}.managedhsm.azure.net/keys/cosmos-cmk`)
    expect(out['key-id']).toBe(`${out['key-uri']}/${out['key-version']}`)
    expect(out['key-version']).toMatch(/^[0-9a-f]{32}$/)
    expect(out['admin-principal-id']).toBe(emulator.scenario.applications?.[0].servicePrincipalId)
    const cosmosSp = Object.values(world.servicePrincipals).find(
      sp => sp.appId === 'a232010e-820c-4083-83bb-3ace5fc29d0b'
    )
    expect(out['cosmos-principal-id']).toBe(cosmosSp?.id)
    expect(out['default-identity']).toBe('FirstPartyIdentity')
    expect(out.changed).toBe('true')
    expect(JSON.parse(out['role-assignment-ids'])).toHaveLength(2)

    const hsm = Object.values(world.managedHsms)[0]
    expect(hsm).toMatchObject({
      enableSoftDelete: true,
      enablePurgeProtection: true,
      softDeleteRetentionInDays: 7,
      activationStatus: 'Active'
    })
    for (const ns of ['microsoft.documentdb', 'microsoft.keyvault']) {
      expect(Object.values(world.subscriptions)[0].providers[ns]?.state).toBe('Registered')
    }
    const key = world.hsmDataPlanes[names.hsm].keys['cosmos-cmk']
    expect(key.versions).toHaveLength(1)
    expect(key.versions[0]).toMatchObject({ kty: 'RSA-HSM', keySize: 3072 })
    expect([...key.versions[0].keyOps].sort()).toEqual(['unwrapKey', 'wrapKey'])

    const account = accountOf('cosmos-cmk-fp')
    expect(account?.keyVaultKeyUri).toBe(out['key-uri'])
    expect(account?.defaultIdentity).toBe('FirstPartyIdentity')
    expect(out['account-id']).toBe(account?.id)

    const grants = hsmAssignments().map(a => [a.principalId, a.scope])
    expect(grants).toEqual(
      expect.arrayContaining([
        [out['admin-principal-id'], '/keys'],
        [cosmosSp?.id, '/keys/cosmos-cmk']
      ])
    )
    expect(result.summary).toContain('cosmos-cmk-fp')
  })

  it('user-assigned identity: the account uses the identity as its default identity', async () => {
    const result = await run({
      ...baseInputs('cosmos-cmk-ua'),
      'identity-mode': 'user-assigned',
      'user-assigned-identity': names.identity
    })
    expectSuccess(result)
    const identity = Object.values(emulator.store.world.userAssignedIdentities).find(
      i => i.name === names.identity
    )
    expect(identity).toBeDefined()
    expect(result.outputs['user-assigned-principal-id']).toBe(identity?.principalId)
    expect(result.outputs['cosmos-principal-id']).toBe(identity?.principalId)
    expect(result.outputs['default-identity']).toBe(`UserAssignedIdentity=${identity?.id}`)
    const account = accountOf('cosmos-cmk-ua')
    expect(account?.defaultIdentity).toBe(`UserAssignedIdentity=${identity?.id}`)
    expect(account?.userAssignedIdentities.map(id => id.toLowerCase())).toContain(
      identity?.id.toLowerCase()
    )
    expect(
      hsmAssignments().some(
        a => a.principalId === identity?.principalId && a.scope === '/keys/cosmos-cmk'
      )
    ).toBe(true)
  })

  it('system-assigned identity: switches the account to its own identity after bootstrapping', async () => {
    const result = await run({
      ...baseInputs('cosmos-cmk-sa'),
      'identity-mode': 'system-assigned',
      'remove-bootstrap-assignment': 'true'
    })
    expectSuccess(result)
    const account = accountOf('cosmos-cmk-sa')
    expect(account?.defaultIdentity).toBe('SystemAssignedIdentity')
    expect(account?.systemAssignedPrincipalId).toBeTruthy()
    expect(result.outputs['system-assigned-principal-id']).toBe(account?.systemAssignedPrincipalId)
    expect(result.outputs['cosmos-principal-id']).toBe(account?.systemAssignedPrincipalId)
    expect(result.outputs['default-identity']).toBe('SystemAssignedIdentity')
    const holders = hsmAssignments()
      .filter(a => a.scope === '/keys/cosmos-cmk')
      .map(a => a.principalId)
    expect(holders).toEqual([account?.systemAssignedPrincipalId])
  })
})

describe('re-runs and plans', () => {
  it('a second run with the same inputs changes nothing and writes nothing', async () => {
    const inputs = { ...baseInputs('cosmos-cmk-rerun'), 'identity-mode': 'system-assigned' }
    expectSuccess(await run(inputs))
    const before = emulator.store.snapshot()
    emulator.clearRequests()

    const again = await run(inputs)
    expectSuccess(again)
    expect(again.outputs.changed).toBe('false')
    expect(writes(emulator.requests())).toEqual([])
    expect(emulator.store.snapshot()).toEqual(before)
  })

  it('plan mode observes, writes nothing and lists what apply would do', async () => {
    const result = await run({ ...baseInputs('cosmos-cmk-plan'), mode: 'plan' })
    expectSuccess(result)
    expect(writes(emulator.requests())).toEqual([])
    expect(Object.keys(emulator.store.world.managedHsms)).toHaveLength(0)
    expect(result.outputs.changed).toBe('true')
    expect(result.summary).toMatch(/would/i)
    expect(result.stdout).toMatch(/Managed HSM: absent -> create .*\[would\]/)
    expect(result.stdout).toMatch(/Cosmos DB account: absent -> create .*\[would\]/)
  })
})
