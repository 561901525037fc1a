import { describe, expect, it } from '@jest/globals'
import { Harness } from './harness.js'
import { KEY_URI, UAI_ID, cmkWorld, currentVersion, getAccount } from './cosmos-fixtures.js'

describe('seeding Cosmos DB accounts for day-two scenarios', () => {
  it('seeds accounts without a key, with their API, regions, identities and storage features', async () => {
    const h = new Harness()
    cmkWorld(h, [
      {
        name: 'analytics',
        kind: 'MongoDB',
        locations: ['westeurope', 'northeurope'],
        identity: { systemAssigned: true, userAssigned: ['cmk-id'] },
        defaultIdentity: `UserAssignedIdentity=${UAI_ID}`,
        backupPolicy: 'Continuous7Days',
        enableAnalyticalStorage: true
      },
      { name: 'vectors', capabilities: ['EnableNoSQLVectorSearch'] },
      { name: 'with-key', keyVaultKeyUri: KEY_URI }
    ])
    const analytics = (await getAccount(h, 'analytics')).json
    expect(analytics.kind).toBe('MongoDB')
    expect(analytics.identity).toMatchObject({
      type: 'SystemAssigned,UserAssigned',
      principalId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      userAssignedIdentities: { [UAI_ID]: { principalId: 'a1a1a1a1-0000-4000-8000-000000000001' } }
    })
    expect(analytics.properties).toMatchObject({
      defaultIdentity: `UserAssignedIdentity=${UAI_ID}`,
      enableAnalyticalStorage: true,
      backupPolicy: { type: 'Continuous', continuousModeProperties: { tier: 'Continuous7Days' } },
      locations: [{ locationName: 'West Europe' }, { locationName: 'North Europe' }]
    })
    expect(analytics.properties.keyVaultKeyUri).toBeUndefined()
    const vectors = (await getAccount(h, 'vectors')).json.properties
    expect(vectors.capabilities).toEqual([{ name: 'EnableNoSQLVectorSearch' }])
    expect(vectors.backupPolicy.type).toBe('Periodic')
    expect((await getAccount(h, 'with-key')).json.properties).toMatchObject({
      keyVaultKeyUriVersion: currentVersion(h),
      customerManagedKeyStatus: 'Access to the configured customer managed key confirmed.'
    })
  })

  it('refuses a backup policy or region it does not know', () => {
    expect(() =>
      cmkWorld(new Harness(), [{ name: 'a', backupPolicy: 'Hourly' as 'Periodic' }])
    ).toThrow(/backupPolicy 'Hourly'/)
    expect(() => cmkWorld(new Harness(), [{ name: 'a', locations: ['atlantis'] }])).toThrow(
      /unknown region 'atlantis'/
    )
  })
})
