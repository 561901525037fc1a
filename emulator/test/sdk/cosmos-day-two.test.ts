import { beforeAll, describe, expect, it } from '@jest/globals'
import { CosmosDBManagementClient } from '@azure/arm-cosmosdb'
import { admin } from '../platform/helpers.js'
import {
  COSMOS_SP,
  DEPLOYER_SP,
  POLL,
  RG,
  SEEDED_HSM,
  SUB,
  rejection,
  sdkScenario,
  useSdkEmulator
} from './helpers.js'

const KEY_URI = `https://${SEEDED_HSM}.managedhsm.azure.net/keys/cmk`
const KEY2_URI = `https://${SEEDED_HSM}.managedhsm.azure.net/keys/cmk2`
const CONFIRMED = 'Access to the configured customer managed key confirmed.'
const HOUR = 3_600_000

const s = useSdkEmulator(() => {
  const scenario = sdkScenario()
  const sub = scenario.subscriptions[0]!
  sub.providers = { ...sub.providers, 'Microsoft.DocumentDB': 'Registered' }
  const group = sub.resourceGroups![0]!
  const hsm = group.managedHsms![0]!
  hsm.keys = ['cmk', 'cmk2'].map(name => ({ name, size: 2048, ops: ['wrapKey', 'unwrapKey'] }))
  hsm.roleAssignments = [
    { role: 'Managed HSM Crypto Service Encryption User', principalId: COSMOS_SP, scope: '/keys' },
    { role: 'Managed HSM Crypto User', principalId: DEPLOYER_SP, scope: '/keys' }
  ]
  group.cosmosAccounts = [
    { name: 'plain-acct' },
    { name: 'cmk-acct', keyVaultKeyUri: KEY_URI },
    { name: 'doomed-acct' },
    { name: 'cassandra-acct', capabilities: ['EnableCassandra'] }
  ]
  return scenario
})
let cosmos: CosmosDBManagementClient

beforeAll(() => {
  cosmos = new CosmosDBManagementClient(s.credential, SUB)
  // the clock jumps by hours here: tokens issued before a jump must outlive it
  s.emulator.setTiming({ cosmosEncryption: 300, accessTokenLifetimeSeconds: 86_400 })
})

function versionOf(key: string): string {
  return s.emulator.store.world.hsmDataPlanes[SEEDED_HSM]!.keys[key]!.versions.at(-1)!.version
}

describe('@azure/arm-cosmosdb 17: a customer-managed key on an existing account', () => {
  it('enables it with an update of keyVaultKeyUri alone and waits for the re-encryption', async () => {
    const since = s.emulator.requests().at(-1)?.seq ?? 0
    const account = await cosmos.databaseAccounts
      .update(RG, 'plain-acct', { keyVaultKeyUri: KEY_URI }, POLL)
      .pollUntilDone()
    expect(account).toMatchObject({
      provisioningState: 'Succeeded',
      keyVaultKeyUri: KEY_URI,
      keyVaultKeyUriVersion: versionOf('cmk'),
      customerManagedKeyStatus: CONFIRMED
    })
    const log = s.emulator.requests(since).filter(e => e.host === 'management.azure.com')
    expect(log[0]).toMatchObject({ method: 'PATCH', status: 200 })
    expect(log.filter(e => e.path.includes('/operationsStatus/')).length).toBeGreaterThanOrEqual(2)
  })

  it('surfaces the refusals as RestErrors', async () => {
    const cassandra = await rejection(
      cosmos.databaseAccounts
        .update(RG, 'cassandra-acct', { keyVaultKeyUri: KEY_URI }, POLL)
        .pollUntilDone()
    )
    expect(cassandra.statusCode).toBe(400)
    expect(cassandra.message).toContain(
      'Customer Managed Key enablement on an existing Cassandra API account is not supported'
    )
    const together = await rejection(
      cosmos.databaseAccounts
        .update(RG, 'doomed-acct', { keyVaultKeyUri: KEY_URI, tags: { a: 'b' } }, POLL)
        .pollUntilDone()
    )
    expect(together.message).toContain(
      'Cannot update Customer Managed Key settings and other properties at the same time.'
    )
    const off = await rejection(
      cosmos.databaseAccounts.update(RG, 'cmk-acct', { keyVaultKeyUri: '' }, POLL).pollUntilDone()
    )
    expect(off.message).toContain('Updating KeyVaultKeyUri is not supported')
  })

  it('switches the account to another key', async () => {
    const account = await cosmos.databaseAccounts
      .update(RG, 'cmk-acct', { keyVaultKeyUri: KEY2_URI }, POLL)
      .pollUntilDone()
    expect(account.keyVaultKeyUri).toBe(KEY2_URI)
    expect(account.keyVaultKeyUriVersion).toBe(versionOf('cmk2'))
  })
})

describe('rotation, revocation and recovery, driven through the admin API', () => {
  it('follows a rotation of its key after the configured lag', async () => {
    s.emulator.setTiming({ cosmosKeyVersionLag: HOUR })
    const old = versionOf('cmk2')
    const rotated = await admin(s.emulator, '/hsm-key/rotate', {
      method: 'POST',
      body: { hsm: SEEDED_HSM, key: 'cmk2' }
    })
    expect(rotated.status).toBe(200)
    expect(rotated.json.version).toBe(versionOf('cmk2'))
    expect((await cosmos.databaseAccounts.get(RG, 'cmk-acct')).keyVaultKeyUriVersion).toBe(old)
    s.emulator.advanceClock(HOUR)
    expect((await cosmos.databaseAccounts.get(RG, 'cmk-acct')).keyVaultKeyUriVersion).toBe(
      rotated.json.version
    )
  })

  it('shows a disabled key as revocation 4002 after the delay and recovers after access returns', async () => {
    s.emulator.setTiming({ cosmosRevocation: HOUR, cosmosRevocationRecovery: HOUR })
    const status = async () =>
      (await cosmos.databaseAccounts.get(RG, 'cmk-acct')).customerManagedKeyStatus
    const disabled = await admin(s.emulator, '/hsm-key', {
      method: 'PATCH',
      body: { hsm: SEEDED_HSM, key: 'cmk2', enabled: false }
    })
    expect(disabled.json).toMatchObject({ key: 'cmk2', enabled: false })
    expect(await status()).toBe(CONFIRMED)
    s.emulator.advanceClock(HOUR)
    expect(await status()).toMatch(
      /^Access to your account is currently revoked because .* \(4002\)\.$/
    )
    const refused = await rejection(
      cosmos.databaseAccounts.update(RG, 'cmk-acct', { tags: { a: 'b' } }, POLL).pollUntilDone()
    )
    expect(refused.message).toContain(
      'No Update is allowed on Database Account with Customer Managed Key in Revoked Status'
    )
    await admin(s.emulator, '/hsm-key', {
      method: 'PATCH',
      body: { hsm: SEEDED_HSM, key: 'cmk2', enabled: true }
    })
    expect(await status()).toMatch(/\(4002\)\.$/)
    s.emulator.advanceClock(HOUR)
    expect(await status()).toBe(CONFIRMED)
  })

  it('shows a removed grant as revocation 4002', async () => {
    s.emulator.setTiming({ cosmosRevocation: 0 })
    const removed = await admin(s.emulator, '/hsm-role-assignments', {
      method: 'DELETE',
      body: { hsm: SEEDED_HSM, principalId: COSMOS_SP, scope: '/keys' }
    })
    expect(removed.json.removed).toHaveLength(1)
    const account = await cosmos.databaseAccounts.get(RG, 'cmk-acct')
    expect(account.customerManagedKeyStatus).toMatch(/no longer has permission .* \(4002\)\.$/)
  })
})

describe('@azure/arm-cosmosdb 17: deleting an account', () => {
  it('deletes as a long-running operation; the account is gone, the rest stays', async () => {
    const hsm = structuredClone(s.emulator.store.world.hsmDataPlanes[SEEDED_HSM])
    await cosmos.databaseAccounts.delete(RG, 'doomed-acct', POLL).pollUntilDone()
    const gone = await rejection(cosmos.databaseAccounts.get(RG, 'doomed-acct'))
    expect(gone.statusCode).toBe(404)
    expect(gone.code).toBe('ResourceNotFound')
    expect(s.emulator.store.world.hsmDataPlanes[SEEDED_HSM]).toEqual(hsm)
    expect((await cosmos.databaseAccounts.get(RG, 'plain-acct')).name).toBe('plain-acct')
  })
})
