import { describe, expect, it } from '@jest/globals'
import { MemoryStore } from '../../src/core/store.js'
import { buildWorld } from '../../src/model/build-world.js'
import { guidFrom, seededRandom } from '../../src/core/random.js'
import { validateScenario, ScenarioError } from '../../src/core/scenario.js'
import { defaultScenario } from './helpers.js'

function seedEnv(seed = 1) {
  const random = seededRandom(seed)
  return { now: () => 1_000, newGuid: () => guidFrom(random), random }
}

describe('store', () => {
  it('builds the directory and subscriptions from the default scenario', () => {
    const world = buildWorld(defaultScenario(), seedEnv())
    expect(world.tenantId).toBe('0f3c6a2e-5b7d-4c1e-9a8f-2d4b6e8c1a35')
    const sub = world.subscriptions['6c1b9e3a-2f4d-4a7b-8e5c-9d0f1a2b3c4d']!
    expect(sub.providers['microsoft.documentdb']).toEqual({
      namespace: 'Microsoft.DocumentDB',
      state: 'NotRegistered'
    })
    expect(sub.providers['microsoft.keyvault']!.state).toBe('Registered')
    const app = world.applications['3b2f8c71-9d4e-4f6a-a1b2-c3d4e5f6a7b8']!
    expect(app.canReadDirectory).toBe(true)
    expect(app.federatedCredentials.map(f => f.subject)).toEqual([
      'repo:contoso/cosmos-cmk:ref:refs/heads/main',
      'repo:contoso/cosmos-cmk:environment:production',
      'repo:contoso/cosmos-cmk:pull_request'
    ])
    expect(world.servicePrincipals[app.servicePrincipalId]).toMatchObject({
      appId: app.appId,
      servicePrincipalType: 'Application',
      replicatedAt: 1_000
    })
    expect(
      Object.values(world.servicePrincipals).find(
        s => s.appId === 'a232010e-820c-4083-83bb-3ace5fc29d0b'
      )
    ).toMatchObject({ id: 'e1d2c3b4-a5f6-4e7d-8c9b-0a1f2e3d4c5b', displayName: 'Azure Cosmos DB' })
  })

  it('generates the same ids for the same seed', () => {
    const scenario = defaultScenario()
    delete scenario.applications![0]!.servicePrincipalId
    const a = buildWorld(scenario, seedEnv(7))
    const b = buildWorld(scenario, seedEnv(7))
    expect(Object.keys(a.servicePrincipals)).toEqual(Object.keys(b.servicePrincipals))
    expect(Object.values(a.applications)[0]!.servicePrincipalId).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4/
    )
  })

  it('resets, snapshots and restores', () => {
    const store = new MemoryStore(scenario => buildWorld(scenario, seedEnv()))
    store.reset(defaultScenario())
    const snap = store.snapshot()
    store.world.resourceGroups = {}
    expect(Object.keys(snap.resourceGroups)).toHaveLength(1)
    store.restore(snap)
    expect(Object.keys(store.world.resourceGroups)).toHaveLength(1)
    store.world.tenantId = 'changed'
    expect(snap.tenantId).not.toBe('changed')
  })

  it('explains what is wrong with a scenario', () => {
    expect(() =>
      validateScenario({
        tenantId: '0f3c6a2e-5b7d-4c1e-9a8f-2d4b6e8c1a35',
        subscriptions: [{ subscriptionId: 'nope' }],
        applications: [
          {
            appId: '3b2f8c71-9d4e-4f6a-a1b2-c3d4e5f6a7b8',
            displayName: 'a',
            federatedCredentials: [{}]
          }
        ],
        faults: [{ kind: 'throttle', rate: 3 }],
        timing: { hsmCreate: 'slow' }
      })
    ).toThrow(ScenarioError)
    expect(() => validateScenario({ tenantId: 'x' })).toThrow(
      expect.objectContaining({
        problems: ['tenantId must be a GUID', 'subscriptions must be an array']
      })
    )
    expect(validateScenario(defaultScenario()).tenantId).toBe(
      '0f3c6a2e-5b7d-4c1e-9a8f-2d4b6e8c1a35'
    )
  })
})
