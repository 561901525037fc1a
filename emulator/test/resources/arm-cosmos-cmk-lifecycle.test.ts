import { describe, expect, it } from '@jest/globals'
import { armService } from '../../src/services/arm/index.js'
import { COSMOS_FP, READER } from './test-tenant.js'
import { cosmosPath, hsmPath, pathOf } from './arm-paths.js'
import { Harness, type JsonResponse } from './harness.js'
import { HSM, hsmCall } from './hsm-fixtures.js'
import {
  KEY2_URI,
  KEY_URI,
  UAI_ID,
  UAI_PRINCIPAL,
  cmkWorld,
  currentVersion,
  deleteAccount,
  getAccount,
  patchAccount,
  poll,
  putAccount
} from './cosmos-fixtures.js'

const CONFIRMED = 'Access to the configured customer managed key confirmed.'
const ACTIVITY = /\r\nActivityId: [0-9a-f-]{36}, Microsoft\.Azure\.Documents\.Common\/2\.14\.0$/

function expectRefusal(res: JsonResponse, message: string | RegExp, status = 400) {
  expect({ status: res.status, code: res.json.code }).toEqual({
    status,
    code: status === 412 ? 'PreconditionFailed' : 'BadRequest'
  })
  expect(res.json.message).toMatch(ACTIVITY)
  if (typeof message === 'string') expect(res.json.message.split('\r\n')[0]).toBe(message)
  else expect(res.json.message).toMatch(message)
}

const enable = (h: Harness, name: string, uri = KEY_URI) =>
  patchAccount(h, name, { properties: { keyVaultKeyUri: uri } })

describe('enabling a customer-managed key on an existing account', () => {
  it('is one PATCH of keyVaultKeyUri that starts a re-encryption whose URL reports progress', async () => {
    const h = new Harness({ cosmosEncryption: 10_000 })
    cmkWorld(h, [{ name: 'plain' }])
    const before = (await getAccount(h, 'plain')).json.properties
    expect(before.keyVaultKeyUri).toBeUndefined()
    expect(before.customerManagedKeyStatus).toBeUndefined()

    const res = await enable(h, 'plain')
    expect(res.status).toBe(200)
    expect(res.json.properties).toMatchObject({
      provisioningState: 'Updating',
      keyVaultKeyUri: KEY_URI
    })
    expect(res.json.properties.keyVaultKeyUriVersion).toBeUndefined()
    expect(res.json.properties.customerManagedKeyStatus).toBeUndefined()
    const status = res.headers!['Azure-AsyncOperation']!
    const location = res.headers!.Location!
    expect(pathOf(location)).toBe(
      `${cosmosPath('plain')}/operationResults/${status.split('/').pop()!.split('?')[0]}`
    )

    expect((await poll(h, status)).json).toEqual({ status: 'Enqueued', percentComplete: 0 })
    expect((await poll(h, location)).status).toBe(202)
    h.advance(5_000)
    expect((await poll(h, status)).json).toEqual({ status: 'Dequeued', percentComplete: 50 })
    expect((await getAccount(h, 'plain')).json.properties.provisioningState).toBe('Updating')
    h.advance(5_000)
    expect((await poll(h, status)).json).toEqual({ status: 'Succeeded', percentComplete: 100 })
    const done = await poll(h, location)
    expect(done.status).toBe(200)
    expect(done.json.properties).toMatchObject({
      provisioningState: 'Succeeded',
      keyVaultKeyUri: KEY_URI,
      keyVaultKeyUriVersion: currentVersion(h),
      customerManagedKeyStatus: CONFIRMED
    })
  })

  it('refuses CMK together with other properties, changing nothing', async () => {
    const h = new Harness()
    cmkWorld(h, [{ name: 'plain' }])
    const message =
      'Cannot update Customer Managed Key settings and other properties at the same time.'
    for (const body of [
      { properties: { keyVaultKeyUri: KEY_URI, defaultIdentity: 'FirstPartyIdentity' } },
      { tags: { a: 'b' }, properties: { keyVaultKeyUri: KEY_URI } },
      { identity: { type: 'None' }, properties: { keyVaultKeyUri: KEY_URI } }
    ]) {
      expectRefusal(await patchAccount(h, 'plain', body), message)
    }
    // a PUT always carries other properties (azure-service-operator#5560)
    const put = await putAccount(h, 'plain', {
      location: 'westeurope',
      properties: {
        locations: [{ locationName: 'westeurope', failoverPriority: 0 }],
        databaseAccountOfferType: 'Standard',
        keyVaultKeyUri: KEY_URI
      }
    })
    expectRefusal(put, message)
    expect((await getAccount(h, 'plain')).json.properties.keyVaultKeyUri).toBeUndefined()
  })

  it('refuses the documented cases with their messages', async () => {
    const h = new Harness()
    cmkWorld(h, [
      { name: 'cassandra', capabilities: ['EnableCassandra'] },
      { name: 'vectors', capabilities: ['EnableNoSQLVectorSearch'] },
      { name: 'views', materializedViews: true },
      { name: 'feed', allVersionsAndDeletesChangeFeed: true },
      { name: 'pitr-fpi', backupPolicy: 'Continuous7Days' },
      { name: 'synapse-fpi', enableAnalyticalStorage: true },
      {
        name: 'pitr-uai',
        backupPolicy: 'Continuous30Days',
        defaultIdentity: `UserAssignedIdentity=${UAI_ID}`
      },
      {
        name: 'synapse-sai',
        enableAnalyticalStorage: true,
        identity: { systemAssigned: true },
        defaultIdentity: 'SystemAssignedIdentity'
      }
    ])
    const dedicated =
      'Setting Non-FPI default identity is required for dedicated storage account features. ' +
      'Please set a valid System or User Assigned Identity to default and retry the request.'
    const refused: [string, string][] = [
      [
        'cassandra',
        'Customer Managed Key enablement on an existing Cassandra API account is not supported'
      ],
      [
        'vectors',
        'Customer Managed Key enablement on an existing Vector Search enabled Account is not supported'
      ],
      [
        'views',
        'Customer Managed Key enablement on an existing Analytical Store/Continuous Backup/Materialized View/Full Fidelity Change Feed enabled Account is not supported'
      ],
      [
        'feed',
        'Customer Managed Key enablement on an existing Analytical Store/Continuous Backup/Materialized View/Full Fidelity Change Feed enabled Account is not supported'
      ],
      ['pitr-fpi', dedicated],
      ['synapse-fpi', dedicated]
    ]
    for (const [name, message] of refused) expectRefusal(await enable(h, name), message)
    expect((await enable(h, 'pitr-uai')).status).toBe(200)
    // the system-assigned identity has no grant yet: refused at trigger time for access, not for the feature
    const sai = await enable(h, 'synapse-sai')
    expect(sai.status).toBe(400)
    expect(sai.json.message).toContain('KeyVaultAuthenticationFailure')
  })

  it('checks key access only when it starts: a grant removed meanwhile does not stop it', async () => {
    const h = new Harness({ cosmosEncryption: 10_000 })
    cmkWorld(h, [{ name: 'plain' }])
    const grant = Object.values(h.world.hsmDataPlanes[HSM]!.roleAssignments).find(
      a => a.principalId === COSMOS_FP
    )!
    const removeGrant = () =>
      hsmCall(h, {
        method: 'DELETE',
        path: `/keys/providers/Microsoft.Authorization/roleAssignments/${grant.name}`
      })
    const other = await enable(h, 'plain', `https://${HSM}.managedhsm.azure.net/keys/none`)
    expect(other.json.message).toContain('KeyVaultKeyNotFound')
    const res = await enable(h, 'plain')
    expect(res.status).toBe(200)
    expect((await removeGrant()).status).toBe(200)
    h.advance(10_000)
    expect((await poll(h, res.headers!['Azure-AsyncOperation']!)).json.status).toBe('Succeeded')
    const account = (await getAccount(h, 'plain')).json.properties
    expect(account.customerManagedKeyStatus).toMatch(/no longer has permission .* \(4002\)\.$/)
  })

  it('blocks control-plane changes such as adding a region while it runs', async () => {
    const h = new Harness({ cosmosEncryption: 10_000 })
    cmkWorld(h, [{ name: 'plain' }])
    const regions = {
      properties: {
        locations: [
          { locationName: 'westeurope', failoverPriority: 0 },
          { locationName: 'northeurope', failoverPriority: 1 }
        ]
      }
    }
    await enable(h, 'plain')
    expectRefusal(
      await patchAccount(h, 'plain', regions),
      'There is already an operation in progress which requires exclusive lock on this service plain. Please retry the operation after sometime.',
      412
    )
    expectRefusal(await deleteAccount(h, 'plain'), /exclusive lock/, 412)
    h.advance(10_000)
    const added = await patchAccount(h, 'plain', regions)
    expect(added.status).toBe(200)
    expect(
      added.json.properties.locations.map((l: { locationName: string }) => l.locationName)
    ).toEqual(['West Europe', 'North Europe'])
    // the region update took no time (cosmosUpdate 0): the write region is refused for what it is
    expectRefusal(
      await patchAccount(h, 'plain', {
        properties: { locations: [{ locationName: 'northeurope', failoverPriority: 0 }] }
      }),
      /cannot be changed by an update; use the failoverPriorityChange operation/
    )
  })
})

describe('changing the key of a CMK account', () => {
  it('switches to another key, and never to no key', async () => {
    const h = new Harness({ cosmosUpdate: 5_000 })
    cmkWorld(h, [{ name: 'cmk-acct', keyVaultKeyUri: KEY_URI }])
    const first = currentVersion(h, 'cmk')
    expect((await getAccount(h, 'cmk-acct')).json.properties.keyVaultKeyUriVersion).toBe(first)
    for (const uri of [null, '']) {
      expectRefusal(
        await patchAccount(h, 'cmk-acct', { properties: { keyVaultKeyUri: uri } }),
        'Updating KeyVaultKeyUri is not supported'
      )
    }
    const switched = await enable(h, 'cmk-acct', KEY2_URI)
    expect(switched.status).toBe(200)
    expect(switched.json.properties).toMatchObject({
      keyVaultKeyUri: KEY2_URI,
      keyVaultKeyUriVersion: first,
      customerManagedKeyStatus: CONFIRMED
    })
    h.advance(5_000)
    expect((await getAccount(h, 'cmk-acct')).json.properties).toMatchObject({
      provisioningState: 'Succeeded',
      keyVaultKeyUri: KEY2_URI,
      keyVaultKeyUriVersion: currentVersion(h, 'cmk2')
    })
    // the same key in other letters is no change of key: an ordinary update
    const same = await patchAccount(h, 'cmk-acct', {
      tags: { a: 'b' },
      properties: { keyVaultKeyUri: KEY2_URI.toUpperCase().replace('HTTPS', 'https') }
    })
    expect(same.status).toBe(200)
    expect(same.json.properties.keyVaultKeyUri).toBe(KEY2_URI)
  })

  it('follows a key rotation after the configured lag', async () => {
    const hour = 3_600_000
    const h = new Harness({ cosmosKeyVersionLag: hour })
    cmkWorld(h, [{ name: 'cmk-acct', keyVaultKeyUri: KEY_URI }])
    const old = currentVersion(h)
    await hsmCall(h, {
      method: 'PUT',
      path: '/keys/cmk/rotationpolicy',
      body: {
        lifetimeActions: [{ trigger: { timeAfterCreate: 'P90D' }, action: { type: 'Rotate' } }]
      }
    })
    const rotated = await hsmCall(h, { method: 'POST', path: '/keys/cmk/rotate' })
    const fresh = rotated.json.key.kid.split('/').pop()
    h.advance(hour - 1_000)
    expect((await getAccount(h, 'cmk-acct')).json.properties.keyVaultKeyUriVersion).toBe(old)
    h.advance(1_000)
    expect((await getAccount(h, 'cmk-acct')).json.properties.keyVaultKeyUriVersion).toBe(fresh)
  })
})

describe('revocation', () => {
  const minute = 60_000
  const hour = 60 * minute
  function revocable(): Harness {
    const h = new Harness({ cosmosRevocation: minute, cosmosRevocationRecovery: hour })
    cmkWorld(h, [
      { name: 'cmk-acct', keyVaultKeyUri: KEY_URI },
      {
        name: 'uai-acct',
        keyVaultKeyUri: KEY2_URI,
        defaultIdentity: `UserAssignedIdentity=${UAI_ID}`
      }
    ])
    return h
  }
  const setEnabled = (h: Harness, enabled: boolean) =>
    hsmCall(h, { method: 'PATCH', path: '/keys/cmk', body: { attributes: { enabled } } })
  const status = async (h: Harness, name = 'cmk-acct') =>
    (await getAccount(h, name)).json.properties.customerManagedKeyStatus as string

  it('shows a disabled key after the delay with 4002, and recovers after access returns', async () => {
    const h = revocable()
    expect((await setEnabled(h, false)).status).toBe(200)
    expect(await status(h)).toBe(CONFIRMED)
    h.advance(minute)
    expect(await status(h)).toBe(
      'Access to your account is currently revoked because the current default identity no longer has permission to the associated Key Vault key; for more details about this error and how to restore access to your account please visit https://learn.microsoft.com/en-us/azure/cosmos-db/cmk-troubleshooting-guide#default-identity-is-unauthorized-to-access-the-azure-key-vault-key (4002).'
    )
    expect(await status(h, 'uai-acct')).toBe(CONFIRMED)
    await setEnabled(h, true)
    h.advance(hour - 1)
    expect(await status(h)).toMatch(/\(4002\)\.$/)
    h.advance(1)
    expect(await status(h)).toBe(CONFIRMED)
  })

  it('a blip shorter than the delay never shows', async () => {
    const h = revocable()
    await setEnabled(h, false)
    h.advance(minute - 1)
    await setEnabled(h, true)
    h.advance(hour)
    expect(await status(h)).toBe(CONFIRMED)
  })

  it('counts an expired key from its expiry, and a removed grant from its removal', async () => {
    const h = revocable()
    const exp = Math.floor(h.now / 1000) + 3600
    await hsmCall(h, { method: 'PATCH', path: '/keys/cmk', body: { attributes: { exp } } })
    // nothing asks between expiry and the jump: the revocation still dates from the expiry
    h.advance(hour + minute)
    expect(await status(h)).toMatch(/\(4002\)\.$/)
    const grant = Object.values(h.world.hsmDataPlanes[HSM]!.roleAssignments).find(
      a => a.principalId === UAI_PRINCIPAL
    )!
    await hsmCall(h, {
      method: 'DELETE',
      path: `/keys/providers/Microsoft.Authorization/roleAssignments/${grant.name}`
    })
    h.advance(minute - 1)
    expect(await status(h, 'uai-acct')).toBe(CONFIRMED)
    h.advance(1)
    expect(await status(h, 'uai-acct')).toMatch(/\(4002\)\.$/)
  })

  it('a revoked account takes only identity changes and deletion', async () => {
    const h = revocable()
    await setEnabled(h, false)
    h.advance(minute)
    const revokedStatus = await status(h)
    expect(revokedStatus).toMatch(/\(4002\)\.$/)
    expectRefusal(
      await patchAccount(h, 'cmk-acct', { tags: { a: 'b' } }),
      'No Update is allowed on Database Account with Customer Managed Key in Revoked Status'
    )
    expectRefusal(
      await enable(h, 'cmk-acct', KEY2_URI),
      'No Update is allowed on Database Account with Customer Managed Key in Revoked Status'
    )
    const attached = await patchAccount(h, 'cmk-acct', {
      identity: { type: 'UserAssigned', userAssignedIdentities: { [UAI_ID]: {} } }
    })
    expect(attached.status).toBe(200)
    // the identity cannot use the disabled key either: refused at the check, as Azure checks it
    h.advance(1)
    const switched = await patchAccount(h, 'cmk-acct', {
      properties: { defaultIdentity: `UserAssignedIdentity=${UAI_ID}` }
    })
    expect(switched.json.message).toContain('KeyVaultWrapUnwrapFailure')
    expect((await deleteAccount(h, 'cmk-acct')).status).toBe(202)
  })
})

describe('deleting an account', () => {
  it('is a long-running operation that leaves everything else in place', async () => {
    const h = new Harness({ cosmosDelete: 8_000 })
    cmkWorld(h, [
      {
        name: 'doomed',
        keyVaultKeyUri: KEY_URI,
        identity: { systemAssigned: true, userAssigned: ['cmk-id'] }
      },
      { name: 'neighbour' }
    ])
    const account = (await getAccount(h, 'doomed')).json
    const systemPrincipal = account.identity.principalId
    expect(h.world.servicePrincipals[systemPrincipal]).toBeDefined()
    const before = structuredClone({
      uai: h.world.userAssignedIdentities,
      hsm: h.world.managedHsms,
      plane: h.world.hsmDataPlanes
    })

    const del = await deleteAccount(h, 'doomed')
    expect(del.status).toBe(202)
    expect(del.json).toBeUndefined()
    const status = del.headers!['Azure-AsyncOperation']!
    const location = del.headers!.Location!
    expect(pathOf(location)).toMatch(
      /\/providers\/Microsoft\.DocumentDB\/locations\/westeurope\/operationResults\/[0-9a-f-]{36}$/
    )
    expect((await getAccount(h, 'doomed')).json.properties.provisioningState).toBe('Deleting')
    expect((await poll(h, status)).json.status).toBe('Enqueued')
    expect((await poll(h, location)).status).toBe(202)
    h.advance(8_000)
    expect((await poll(h, status)).json).toEqual({ status: 'Succeeded' })
    expect((await poll(h, location)).status).toBe(204)
    const gone = await getAccount(h, 'doomed')
    expect(gone.status).toBe(404)
    expect(gone.json.error.code).toBe('ResourceNotFound')
    expect((await deleteAccount(h, 'doomed')).status).toBe(204)
    expect(h.world.servicePrincipals[systemPrincipal]).toBeUndefined()
    expect((await getAccount(h, 'neighbour')).status).toBe(200)
    expect({
      uai: h.world.userAssignedIdentities,
      hsm: h.world.managedHsms,
      plane: h.world.hsmDataPlanes
    }).toEqual(before)
    const hsm = await h.call(armService, { method: 'GET', path: hsmPath(HSM) })
    expect(hsm.status).toBe(200)
  })

  it('needs the delete action', async () => {
    const h = new Harness()
    cmkWorld(h, [{ name: 'kept' }])
    const denied = await h.call(armService, {
      method: 'DELETE',
      path: cosmosPath('kept'),
      as: READER
    })
    expect(denied.status).toBe(403)
    expect(denied.json.error.message).toContain('Microsoft.DocumentDB/databaseAccounts/delete')
  })
})

describe('creating with a key, and storage features', () => {
  const body = (props: Record<string, unknown>, identity?: unknown) => ({
    location: 'westeurope',
    ...(identity ? { identity } : {}),
    properties: {
      locations: [{ locationName: 'westeurope', failoverPriority: 0 }],
      databaseAccountOfferType: 'Standard',
      keyVaultKeyUri: KEY_URI,
      ...props
    }
  })

  it('refuses the system-assigned identity as default identity, and dedicated storage with the first-party one', async () => {
    const h = new Harness()
    cmkWorld(h, [])
    const sai = await putAccount(
      h,
      'new1',
      body({ defaultIdentity: 'SystemAssignedIdentity' }, { type: 'SystemAssigned' })
    )
    expectRefusal(
      sai,
      /Cannot set SystemAssignedIdentity as the default identity during provision\./
    )
    const pitr = await putAccount(
      h,
      'new2',
      body({
        backupPolicy: { type: 'Continuous', continuousModeProperties: { tier: 'Continuous7Days' } }
      })
    )
    expectRefusal(
      pitr,
      /^Setting Non-FPI default identity is required for dedicated storage account features/
    )
    const uai = await putAccount(
      h,
      'new3',
      body(
        { backupPolicy: { type: 'Continuous' }, defaultIdentity: `UserAssignedIdentity=${UAI_ID}` },
        { type: 'UserAssigned', userAssignedIdentities: { [UAI_ID]: {} } }
      )
    )
    expect(uai.status).toBe(200)
    expect(uai.json.properties.backupPolicy).toEqual({
      type: 'Continuous',
      continuousModeProperties: { tier: 'Continuous30Days' }
    })
  })

  it('keeps continuous backup and the analytical store once on, and turns continuous backup on alone', async () => {
    const h = new Harness()
    cmkWorld(h, [{ name: 'plain' }, { name: 'cmk-acct', keyVaultKeyUri: KEY_URI }])
    const continuous = {
      backupPolicy: { type: 'Continuous', continuousModeProperties: { tier: 'Continuous7Days' } }
    }
    expectRefusal(
      await patchAccount(h, 'plain', { tags: { a: 'b' }, properties: continuous }),
      'Cannot update continuous backup mode and other properties at the same time.'
    )
    expect((await patchAccount(h, 'plain', { properties: continuous })).status).toBe(200)
    expectRefusal(
      await patchAccount(h, 'plain', { properties: { backupPolicy: { type: 'Periodic' } } }),
      'Continuous backup mode cannot be disabled once it is enabled on the account.'
    )
    expect(
      (await patchAccount(h, 'plain', { properties: { enableAnalyticalStorage: true } })).status
    ).toBe(200)
    expectRefusal(
      await patchAccount(h, 'plain', { properties: { enableAnalyticalStorage: false } }),
      'EnableAnalyticalStorage cannot be disabled once it is enabled on an account.'
    )
    expectRefusal(
      await patchAccount(h, 'cmk-acct', { properties: { enableAnalyticalStorage: true } }),
      /^Setting Non-FPI default identity is required/
    )
    const plain = (await getAccount(h, 'plain')).json.properties
    expect(plain).toMatchObject({
      enableAnalyticalStorage: true,
      backupPolicy: { type: 'Continuous', continuousModeProperties: { tier: 'Continuous7Days' } }
    })
  })
})
