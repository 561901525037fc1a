import { describe, expect, it } from '@jest/globals'
import { READER } from '../resources/test-tenant.js'
import { Harness } from '../resources/harness.js'
import { hsmCall, seedHsm } from '../resources/hsm-fixtures.js'
import {
  KEY2_URI,
  KEY_URI,
  UAI_ID,
  cmkWorld,
  deleteAccount,
  getAccount,
  patchAccount,
  poll
} from '../resources/cosmos-fixtures.js'
import { checkHsm, conforms } from './conformance.js'
import { SwaggerValidator } from './swagger.js'

const POLICY = '/keys/cmk/rotationpolicy'
const ROTATE_POLICY = {
  lifetimeActions: [{ trigger: { timeAfterCreate: 'P90D' }, action: { type: 'Rotate' } }],
  attributes: { expiryTime: 'P1Y' }
}

/** ARM's async operation status (common-types v5), what Azure-AsyncOperation URLs answer. */
const commonTypes = new SwaggerValidator(
  'specification/common-types/resource-management/v5/types.json'
)

describe('Managed HSM rotation and key updates conform to keys.json 2026-04-01', () => {
  it('GetKeyRotationPolicy, UpdateKeyRotationPolicy, RotateKey, UpdateKey and their errors', async () => {
    const h = new Harness()
    seedHsm(h, {
      keys: [{ name: 'cmk', size: 2048 }],
      roleAssignments: [
        {
          role: 'Managed HSM Crypto User',
          principalId: 'd0d0d0d0-0000-0000-0000-000000000001',
          scope: '/keys'
        }
      ]
    })
    await checkHsm(h, 'keys', 'GetKeyRotationPolicy', { method: 'GET', path: POLICY })
    await checkHsm(h, 'keys', 'RotateKey', { method: 'POST', path: '/keys/cmk/rotate' })
    const set = await checkHsm(h, 'keys', 'UpdateKeyRotationPolicy', {
      method: 'PUT',
      path: POLICY,
      body: ROTATE_POLICY
    })
    expect(set.status).toBe(200)
    await checkHsm(h, 'keys', 'GetKeyRotationPolicy', { method: 'GET', path: POLICY })
    for (const [body, as] of [
      [
        { lifetimeActions: [{ trigger: { timeAfterCreate: 'P1D' }, action: { type: 'Rotate' } }] },
        undefined
      ],
      [ROTATE_POLICY, READER]
    ] as const) {
      const refused = await checkHsm(h, 'keys', 'UpdateKeyRotationPolicy', {
        method: 'PUT',
        path: POLICY,
        body,
        ...(as ? { as } : {})
      })
      expect(refused.status).toBeGreaterThanOrEqual(400)
    }
    const rotated = await checkHsm(h, 'keys', 'RotateKey', {
      method: 'POST',
      path: '/keys/cmk/rotate'
    })
    expect(rotated.status).toBe(200)
    const version = rotated.json.key.kid.split('/').pop()
    await checkHsm(h, 'keys', 'UpdateKey', {
      method: 'PATCH',
      path: `/keys/cmk/${version}`,
      body: { attributes: { enabled: false, exp: 1999999999 }, tags: { a: 'b' } }
    })
    await checkHsm(h, 'keys', 'UpdateKey', {
      method: 'PATCH',
      path: '/keys/cmk',
      body: { key_ops: ['derive'] }
    })
    await checkHsm(h, 'keys', 'UpdateKey', { method: 'PATCH', path: '/keys/none', body: {} })
    await checkHsm(h, 'keys', 'GetKeyRotationPolicy', {
      method: 'GET',
      path: '/keys/none/rotationpolicy'
    })
  })
})

describe('Cosmos DB key lifecycle responses conform to cosmos-db.json 2025-10-15', () => {
  it('enabling a key, its operation status, the account during and after, revoked, and deletion', async () => {
    const h = new Harness({ cosmosEncryption: 10_000, cosmosUpdate: 1_000, cosmosDelete: 1_000 })
    cmkWorld(h, [
      {
        name: 'plain',
        backupPolicy: 'Continuous7Days',
        defaultIdentity: `UserAssignedIdentity=${UAI_ID}`
      },
      { name: 'cmk-acct', keyVaultKeyUri: KEY_URI }
    ])
    const enabled = await patchAccount(h, 'plain', { properties: { keyVaultKeyUri: KEY_URI } })
    expect(enabled.status).toBe(200)
    conforms('cosmos', 'DatabaseAccounts_Update', enabled)
    conforms('cosmos', 'DatabaseAccounts_Get', await getAccount(h, 'plain'))
    const status = enabled.headers!['Azure-AsyncOperation']!
    for (const wait of [0, 5_000, 5_000]) {
      h.advance(wait)
      const polled = await poll(h, status)
      expect(commonTypes.checkDefinition('OperationStatusResult', polled.json)).toEqual([])
    }
    conforms('cosmos', 'DatabaseAccounts_Get', await poll(h, enabled.headers!.Location!))

    const switched = await patchAccount(h, 'cmk-acct', { properties: { keyVaultKeyUri: KEY2_URI } })
    conforms('cosmos', 'DatabaseAccounts_Update', switched)
    h.advance(1_000)
    await hsmCall(h, {
      method: 'PATCH',
      path: '/keys/cmk2',
      body: { attributes: { enabled: false } }
    })
    const revoked = await getAccount(h, 'cmk-acct')
    expect(revoked.json.properties.customerManagedKeyStatus).toMatch(/\(4002\)\.$/)
    conforms('cosmos', 'DatabaseAccounts_Get', revoked)

    const deleted = await deleteAccount(h, 'cmk-acct')
    conforms('cosmos', 'DatabaseAccounts_Delete', deleted)
    expect(
      commonTypes.checkDefinition(
        'OperationStatusResult',
        (await poll(h, deleted.headers!['Azure-AsyncOperation']!)).json
      )
    ).toEqual([])
    // the validator itself refuses a progress outside 0..100
    expect(
      commonTypes.checkDefinition('OperationStatusResult', {
        status: 'InProgress',
        percentComplete: 101
      })
    ).not.toEqual([])
  })
})
