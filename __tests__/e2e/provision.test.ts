/**
 * The bundled action, run as the runner runs it, against the local Azure over HTTPS: every identity
 * mode from an empty subscription, the no-op re-run, and plan mode.
 */
import { describe, expect, it } from '@jest/globals'
import {
  assertExit0,
  cosmosServicePrincipal,
  emptySubscriptionScenario,
  defaultNames,
  summaryChart,
  writes,
  type ActionRun,
  type IdentityMode
} from '../../testkit/index.js'
import { hsmCreationPerFile, labPerFile } from '../../testkit/jest-lab.js'

const createHsm = hsmCreationPerFile()
const lab = labPerFile(emptySubscriptionScenario)

/** A run that creates and activates the HSM, then does the rest for `account`. */
function run(
  account: string,
  mode?: IdentityMode,
  extra: Record<string, string> = {}
): Promise<ActionRun> {
  return lab.run(lab.inputs(account, mode, { ...createHsm.actionInputs(account), ...extra }))
}

function hsmAssignments() {
  return Object.values(lab.emulator.store.world.hsmDataPlanes[defaultNames.hsmName].roleAssignments)
}

function accountOf(name: string) {
  return Object.values(lab.emulator.store.world.cosmosAccounts).find(a => a.name === name)
}

describe('fresh provisioning from an empty subscription', () => {
  it('first-party identity: creates and activates the HSM, key, grants and the account', async () => {
    const result = await run('cosmos-cmk-fp')
    assertExit0(result)
    const out = result.outputs
    const world = lab.emulator.store.world

    expect(out['hsm-uri']).toBe(`https://${defaultNames.hsmName}.managedhsm.azure.net/`)
    expect(out['key-uri']).toBe(
      `https://${defaultNames.hsmName}.managedhsm.azure.net/keys/cosmos-cmk`
    )
    expect(out['key-id']).toBe(`${out['key-uri']}/${out['key-version']}`)
    expect(out['key-version']).toMatch(/^[0-9a-f]{32}$/)
    expect(out['admin-principal-id']).toBe(
      lab.emulator.scenario.applications?.[0].servicePrincipalId
    )
    const cosmosSp = cosmosServicePrincipal(world)
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
    const key = world.hsmDataPlanes[defaultNames.hsmName].keys['cosmos-cmk']
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

    // The summary ends with where the time went: a section per step that sent requests, in the
    // order they began (the two grants side by side, the key after the admin's grant).
    const chart = summaryChart(result.summary)
    expect(chart?.sections.slice(0, 5)).toEqual([
      'Sign in',
      'Observe',
      'Resource providers',
      'Managed HSM',
      'HSM activation'
    ])
    expect(new Set(chart?.sections.slice(5, 7))).toEqual(
      new Set(['Admin key access', 'Cosmos DB key access'])
    )
    expect(chart?.sections.slice(7)).toEqual(['Key', 'Cosmos DB account'])
    // Azure's waits are the red bars. The two long-running operations always show; a propagation
    // or activation wait shows only when a poll saw it pending, which these short timings leave open.
    const waits = chart?.bars.filter(b => b.tag === 'crit').map(b => `${b.step}: ${b.title}`)
    expect(waits).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^Managed HSM: operation .*, creation of Managed HSM /),
        expect.stringMatching(/^Cosmos DB account: operation .*, creation of Cosmos DB account /)
      ])
    )
    for (const wait of waits ?? []) {
      expect(wait).toMatch(/^[^:]+: (propagation|operation|throttling) /)
    }
  })

  it('user-assigned identity: the account uses the identity as its default identity', async () => {
    const result = await run('cosmos-cmk-ua', 'user-assigned')
    assertExit0(result)
    const identity = Object.values(lab.emulator.store.world.userAssignedIdentities).find(
      i => i.name === defaultNames.userAssignedIdentity
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
    const result = await run('cosmos-cmk-sa', 'system-assigned', {
      'remove-bootstrap-assignment': 'true'
    })
    assertExit0(result)
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
    assertExit0(await run('cosmos-cmk-rerun', 'system-assigned'))
    const before = lab.emulator.store.snapshot()
    lab.emulator.clearRequests()

    const again = await run('cosmos-cmk-rerun', 'system-assigned')
    assertExit0(again)
    expect(again.outputs.changed).toBe('false')
    expect(writes(lab.emulator.requests())).toEqual([])
    expect(lab.emulator.store.snapshot()).toEqual(before)
  })

  it('plan mode observes, writes nothing and lists what apply would do', async () => {
    const result = await run('cosmos-cmk-plan', undefined, { mode: 'plan' })
    assertExit0(result)
    expect(writes(lab.emulator.requests())).toEqual([])
    expect(Object.keys(lab.emulator.store.world.managedHsms)).toHaveLength(0)
    expect(result.outputs.changed).toBe('true')
    expect(result.summary).toMatch(/would/i)
    expect(result.stdout).toMatch(/Managed HSM: absent -> create .*\[would\]/)
    expect(result.stdout).toMatch(/Cosmos DB account: absent -> create .*\[would\]/)
  })
})
