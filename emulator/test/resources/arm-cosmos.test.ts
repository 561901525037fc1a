import { describe, expect, it } from '@jest/globals'
import { armService } from '../../src/services/arm/index.js'
import { COSMOS_FP, DEPLOYER, READER, SUB, addApp } from './test-tenant.js'
import { cosmosPath, pathOf, queryOf, rgPath, uaiPath } from './arm-paths.js'
import { Harness, type JsonResponse } from './harness.js'
import {
  CRYPTO_USER,
  ENCRYPTION_USER,
  HSM,
  assignRole,
  expectAssignableOnlyAfter,
  seed
} from './hsm-fixtures.js'

const KEY_URI = `https://${HSM}.managedhsm.azure.net/keys/cmk`
const UAI_ID = `/subscriptions/${SUB}/resourceGroups/cmk-rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/cmk-id`
const MALFORMED =
  'The given default identity for acct1 is not valid. The format for the default identity is not valid, ' +
  "please use 'FirstPartyIdentity'/'SystemAssignedIdentity'/'UserAssignedIdentity=<UA_resource_id>'"

function world(
  h: Harness,
  hsm: Record<string, unknown> = {},
  keys: Record<string, unknown>[] = [{ name: 'cmk', size: 2048 }]
) {
  seed(h, {
    userAssignedIdentities: [{ name: 'cmk-id' }],
    managedHsms: [
      {
        name: HSM,
        initialAdminObjectIds: [DEPLOYER],
        enablePurgeProtection: true,
        softDeleteRetentionInDays: 7,
        keys: keys as never,
        ...hsm
      }
    ]
  })
}

function accountBody(props: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  return {
    location: 'westeurope',
    kind: 'GlobalDocumentDB',
    properties: {
      locations: [{ locationName: 'westeurope', failoverPriority: 0 }],
      databaseAccountOfferType: 'Standard',
      ...props
    },
    ...extra
  }
}

const create = (h: Harness, name: string, body: unknown, as?: string) =>
  h.call(armService, {
    method: 'PUT',
    path: cosmosPath(name),
    body,
    apiVersion: '2026-03-15',
    ...(as ? { as } : {})
  })
const patch = (h: Harness, name: string, body: unknown) =>
  h.call(armService, { method: 'PATCH', path: cosmosPath(name), body, apiVersion: '2026-03-15' })
const get = (h: Harness, name: string) =>
  h.call(armService, { method: 'GET', path: cosmosPath(name), apiVersion: '2026-03-15' })
const poll = (h: Harness, url: string) =>
  h.call(armService, { method: 'GET', path: pathOf(url), apiVersion: queryOf(url)['api-version']! })

function expectCmkFailure(res: JsonResponse, marker: string) {
  expect(res.status).toBe(400)
  expect(res.json.code).toBe('BadRequest')
  expect(res.json.message).toContain(marker)
  expect(res.json.message).toMatch(
    /\r\nActivityId: [0-9a-f-]{36}, Microsoft\.Azure\.Documents\.Common\/2\.14\.0$/
  )
}

describe('Microsoft.DocumentDB/databaseAccounts', () => {
  it('creates an account as an Azure-AsyncOperation LRO', async () => {
    const h = new Harness({ cosmosCreate: 9_000 })
    const put = await create(h, 'acct1', accountBody())
    expect(put.status).toBe(200)
    const asyncOp = put.headers!['Azure-AsyncOperation']!
    const location = put.headers!.Location!
    expect(pathOf(asyncOp)).toMatch(
      new RegExp(
        `^/subscriptions/${SUB}/providers/Microsoft.DocumentDB/locations/westeurope/operationsStatus/[0-9a-f-]{36}$`
      )
    )
    expect(pathOf(location)).toBe(
      `${cosmosPath('acct1')}/operationResults/${pathOf(asyncOp).split('/').pop()}`
    )
    expect(queryOf(asyncOp)['api-version']).toBe('2026-03-15')
    expect(put.json).toMatchObject({
      name: 'acct1',
      type: 'Microsoft.DocumentDB/databaseAccounts',
      location: 'West Europe',
      kind: 'GlobalDocumentDB',
      identity: { type: 'None' },
      properties: {
        provisioningState: 'Creating',
        databaseAccountOfferType: 'Standard',
        defaultIdentity: 'FirstPartyIdentity'
      }
    })
    expect(put.json.properties.documentEndpoint).toBeUndefined()

    expect((await poll(h, asyncOp)).json).toEqual({ status: 'Enqueued' })
    expect((await poll(h, location)).status).toBe(202)
    h.advance(4_000)
    expect((await poll(h, asyncOp)).json).toEqual({ status: 'Dequeued' })
    expect((await get(h, 'acct1')).json.properties.provisioningState).toBe('Creating')
    h.advance(5_000)
    expect((await poll(h, asyncOp)).json).toEqual({ status: 'Succeeded' })
    const result = await poll(h, location)
    expect(result.status).toBe(200)
    expect(result.json.properties.provisioningState).toBe('Succeeded')
    const account = (await get(h, 'acct1')).json
    expect(account.properties).toMatchObject({
      provisioningState: 'Succeeded',
      documentEndpoint: 'https://acct1.documents.azure.com:443/',
      writeLocations: [
        { id: 'acct1-westeurope', locationName: 'West Europe', failoverPriority: 0 }
      ],
      EnabledApiTypes: 'Sql'
    })
    expect(account.properties.keyVaultKeyUri).toBeUndefined()
  })

  it('validates names, global uniqueness, locations and the offer type', async () => {
    const h = new Harness()
    expect((await create(h, 'Upper', accountBody())).status).toBe(400)
    expect((await create(h, 'ab', accountBody())).status).toBe(400)
    expect((await create(h, '-acct', accountBody())).status).toBe(400)
    expect((await create(h, 'a'.repeat(45), accountBody())).status).toBe(400)
    expect((await create(h, 'taken', accountBody())).status).toBe(200)
    h.world.resourceGroups[`/subscriptions/${SUB}/resourcegroups/other`] = {
      subscriptionId: SUB,
      name: 'other',
      location: 'westeurope'
    }
    const dup = await h.call(armService, {
      method: 'PUT',
      path: `/subscriptions/${SUB}/resourceGroups/other/providers/Microsoft.DocumentDB/databaseAccounts/taken`,
      body: accountBody()
    })
    expect(dup.status).toBe(400)
    expect(dup.json.message).toContain('Dns record for taken under zone Document is already taken.')
    expect(
      (await create(h, 'acct2', accountBody({ databaseAccountOfferType: 'Premium' }))).status
    ).toBe(400)
    expect((await create(h, 'acct2', accountBody({ locations: [] }))).status).toBe(400)
    const badRegion = await create(h, 'acct2', accountBody({}, { location: 'atlantis' }))
    expect(badRegion.json.error.code).toBe('LocationNotAvailableForResourceType')
    expect((await create(h, 'acct2', accountBody(), READER)).status).toBe(403)
  })

  it('refuses a customer-managed key the first-party identity cannot use yet, then accepts it once the role propagates', async () => {
    const h = new Harness({ rbacPropagation: 60_000 })
    world(h)
    const body = accountBody({ keyVaultKeyUri: KEY_URI })
    const denied = await create(h, 'acct1', body)
    expectCmkFailure(denied, 'KeyVaultAuthenticationFailure')
    expect(denied.json.message).toContain("default identity 'FirstPartyIdentity'")
    expect(denied.json.message).toContain(COSMOS_FP)
    expect(denied.json.message).toContain(KEY_URI)
    expect(denied.json.message).toContain('not permitted to perform wrapKey and unwrapKey')
    expect(Object.keys(h.world.cosmosAccounts)).toHaveLength(0)

    expect((await assignRole(h, COSMOS_FP, ENCRYPTION_USER, '/keys')).status).toBe(201)
    expectCmkFailure(await create(h, 'acct1', body), 'KeyVaultAuthenticationFailure')
    h.advance(60_000)
    const ok = await create(h, 'acct1', body)
    expect(ok.status).toBe(200)
    const key = h.world.hsmDataPlanes[HSM]!.keys.cmk!
    const account = (await get(h, 'acct1')).json
    expect(account.properties).toMatchObject({
      keyVaultKeyUri: KEY_URI,
      // the version alone, as the spec's example shows it (CosmosDBDatabaseAccountCreateMax)
      keyVaultKeyUriVersion: key.versions[0]!.version,
      defaultIdentity: 'FirstPartyIdentity'
    })
  })

  it('checks the key URI, the HSM and the key as the service does', async () => {
    const h = new Harness()
    world(h, {}, [
      { name: 'cmk', size: 2048 },
      { name: 'off', size: 2048, enabled: false },
      { name: 'old', size: 2048, expires: '2020-01-01T00:00:00Z' },
      { name: 'signer', size: 2048, ops: ['sign', 'verify'] }
    ])
    await assignRole(h, COSMOS_FP, ENCRYPTION_USER, '/keys')
    const attempt = (keyVaultKeyUri: string) => create(h, 'acct1', accountBody({ keyVaultKeyUri }))
    const version = h.world.hsmDataPlanes[HSM]!.keys.cmk!.versions[0]!.version
    const versioned = await attempt(`${KEY_URI}/${version}`)
    expectCmkFailure(
      versioned,
      'Please provide KeyVault Key Uri without version. We will use latest version of the key'
    )
    expectCmkFailure(await attempt(`${KEY_URI}/`), "must not end with '/'")
    expectCmkFailure(await attempt('https://myvault.vault.azure.net/keys/cmk'), 'Managed HSM')
    expectCmkFailure(
      await attempt('https://ghost.managedhsm.azure.net/keys/cmk'),
      'KeyVaultDnsNotResolved'
    )
    expectCmkFailure(await attempt('not a uri'), 'InvalidKeyVaultKeyUri')
    expectCmkFailure(
      await attempt(`https://${HSM}.managedhsm.azure.net/keys/absent`),
      'KeyVaultKeyNotFound'
    )
    expectCmkFailure(await attempt(`https://${HSM}.managedhsm.azure.net/keys/off`), 'disabled key')
    expectCmkFailure(await attempt(`https://${HSM}.managedhsm.azure.net/keys/old`), 'expired key')
    expectCmkFailure(
      await attempt(`https://${HSM}.managedhsm.azure.net/keys/signer`),
      'KeyVaultWrapUnwrapFailure'
    )
    expect(Object.keys(h.world.cosmosAccounts)).toHaveLength(0)
  })

  it('requires purge protection on the HSM', async () => {
    const h = new Harness()
    world(h, { enablePurgeProtection: false })
    await assignRole(h, COSMOS_FP, ENCRYPTION_USER, '/keys')
    expectCmkFailure(
      await create(h, 'acct1', accountBody({ keyVaultKeyUri: KEY_URI })),
      'purge protection'
    )
  })

  it('accepts role assignments at "/", "/keys" or "/keys/{name}" that grant read, wrap and unwrap', async () => {
    const h = new Harness()
    world(h, {}, [
      { name: 'cmk', size: 2048 },
      { name: 'other', size: 2048 }
    ])
    const body = accountBody({ keyVaultKeyUri: KEY_URI })
    await assignRole(h, COSMOS_FP, ENCRYPTION_USER, '/keys/other')
    expectCmkFailure(await create(h, 'acct1', body), 'KeyVaultAuthenticationFailure')
    await assignRole(h, COSMOS_FP, '515eb02d-2335-4d2d-92f2-b1cbdf9c3778', '/')
    expectCmkFailure(await create(h, 'acct1', body), 'KeyVaultAuthenticationFailure')
    await assignRole(h, COSMOS_FP, CRYPTO_USER, '/keys/cmk')
    expect((await create(h, 'acct1', body)).status).toBe(200)
  })

  it('uses a user-assigned identity as default identity, with Managed Identity Operator rights to attach it', async () => {
    const h = new Harness()
    world(h)
    const uai = Object.values(h.world.userAssignedIdentities)[0]!
    await assignRole(h, uai.principalId, ENCRYPTION_USER, '/keys')
    const identity = { type: 'UserAssigned', userAssignedIdentities: { [UAI_ID]: {} } }
    const notAttached = await create(
      h,
      'acct1',
      accountBody({ keyVaultKeyUri: KEY_URI, defaultIdentity: `UserAssignedIdentity=${UAI_ID}` })
    )
    expect(notAttached.status).toBe(400)
    expect(notAttached.json.message).toContain('is not assigned to the database account acct1')

    // a caller that may write the account but not assign the identity
    const limitedApp = '0a0a0a0a-0000-0000-0000-000000000009'
    const limited = 'd0d0d0d0-0000-0000-0000-000000000009'
    addApp(h.world, limitedApp, limited, [{ role: 'Contributor', scope: cosmosPath('acct1') }])
    const body = accountBody(
      { keyVaultKeyUri: KEY_URI, defaultIdentity: `UserAssignedIdentity=${UAI_ID}` },
      { identity }
    )
    const linked = await create(h, 'acct1', body, limited)
    expect(linked.status).toBe(403)
    expect(linked.json.error.code).toBe('LinkedAuthorizationFailed')
    expect(linked.json.error.message).toContain(
      "'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action'"
    )
    expect(linked.json.error.message).toContain(UAI_ID)
    h.world.applications[limitedApp]!.armRoles.push({
      role: 'Managed Identity Operator',
      scope: uaiPath('cmk-id')
    })
    const ok = await create(h, 'acct1', body, limited)
    expect(ok.status).toBe(200)
    expect(ok.json.identity).toEqual({
      type: 'UserAssigned',
      userAssignedIdentities: { [UAI_ID]: { principalId: uai.principalId, clientId: uai.clientId } }
    })
    expect(ok.json.properties.defaultIdentity).toBe(`UserAssignedIdentity=${UAI_ID}`)
  })

  it('rejects a malformed default identity with the service message', async () => {
    const h = new Harness()
    const res = await create(
      h,
      'acct1',
      accountBody({ defaultIdentity: `SystemAssignedIdentity=${UAI_ID}` })
    )
    expect(res.status).toBe(400)
    expect(res.json.code).toBe('BadRequest')
    expect(res.json.message.split('\r\n')[0]).toBe(MALFORMED)
    await create(h, 'acct1', accountBody())
    const patched = await patch(h, 'acct1', { properties: { defaultIdentity: 'MyIdentity' } })
    expect(patched.json.message.split('\r\n')[0]).toBe(MALFORMED)
  })

  it('switches to a new system-assigned identity only once it is replicated, assigned and propagated', async () => {
    const h = new Harness({ principalReplication: 30_000, rbacPropagation: 60_000 })
    world(h)
    await assignRole(h, COSMOS_FP, ENCRYPTION_USER, '/keys')
    h.advance(60_000)
    expect((await create(h, 'acct1', accountBody({ keyVaultKeyUri: KEY_URI }))).status).toBe(200)

    const withIdentity = await patch(h, 'acct1', { identity: { type: 'SystemAssigned' } })
    expect(withIdentity.status).toBe(200)
    expect(withIdentity.json.properties.provisioningState).toBe('Updating')
    const principalId = withIdentity.json.identity.principalId
    expect(withIdentity.json.identity).toMatchObject({
      type: 'SystemAssigned',
      tenantId: h.world.tenantId
    })
    expect(h.world.servicePrincipals[principalId]).toMatchObject({
      servicePrincipalType: 'ManagedIdentity',
      displayName: 'acct1',
      replicatedAt: h.now + 30_000
    })
    await expectAssignableOnlyAfter(h, principalId, 30_000)

    const early = await patch(h, 'acct1', {
      properties: { defaultIdentity: 'SystemAssignedIdentity' }
    })
    expectCmkFailure(early, 'KeyVaultAuthenticationFailure')
    expect(early.json.message).toContain(principalId)
    expect((await get(h, 'acct1')).json.properties.defaultIdentity).toBe('FirstPartyIdentity')
    h.advance(60_000)
    const switched = await patch(h, 'acct1', {
      properties: { defaultIdentity: 'SystemAssignedIdentity' }
    })
    expect(switched.status).toBe(200)
    expect((await get(h, 'acct1')).json.properties.defaultIdentity).toBe('SystemAssignedIdentity')

    const removal = await patch(h, 'acct1', { identity: { type: 'None' } })
    expect(removal.status).toBe(400)
    expect(removal.json.message).toContain('cannot be removed')
  })

  it('applies the identity and silently ignores defaultIdentity when one PATCH carries both', async () => {
    const h = new Harness()
    world(h)
    await create(h, 'acct1', accountBody())
    const res = await patch(h, 'acct1', {
      identity: { type: 'SystemAssigned' },
      properties: { defaultIdentity: 'SystemAssignedIdentity' }
    })
    expect(res.status).toBe(200)
    expect(res.json.identity.type).toBe('SystemAssigned')
    expect(res.json.properties.defaultIdentity).toBe('FirstPartyIdentity')
  })

  it('refuses concurrent operations, a kind change and turning CMK off', async () => {
    const h = new Harness({ cosmosUpdate: 10_000 })
    world(h)
    await assignRole(h, COSMOS_FP, ENCRYPTION_USER, '/keys')
    await create(h, 'acct1', accountBody({ keyVaultKeyUri: KEY_URI }))
    expect((await patch(h, 'acct1', { tags: { a: 'b' } })).status).toBe(200)
    const busy = await patch(h, 'acct1', { tags: { c: 'd' } })
    expect(busy.status).toBe(412)
    expect(busy.json.code).toBe('PreconditionFailed')
    expect(busy.json.message).toContain(
      'There is already an operation in progress which requires exclusive lock on this service acct1.'
    )
    h.advance(10_000)
    expect(
      (await create(h, 'acct1', accountBody({ keyVaultKeyUri: KEY_URI }, { kind: 'MongoDB' })))
        .status
    ).toBe(400)
    const off = await patch(h, 'acct1', { properties: { keyVaultKeyUri: '' } })
    expect(off.status).toBe(400)
    // troubleshoot-cmk 1.4
    expect(off.json.message).toMatch(/^Updating KeyVaultKeyUri is not supported\r\nActivityId: /)
    const same = await create(
      h,
      'acct1',
      accountBody({ keyVaultKeyUri: KEY_URI }, { tags: { x: 'y' } })
    )
    expect(same.status).toBe(200)
    expect(same.json.tags).toEqual({ x: 'y' })
    expect((await patch(h, 'nope', {})).status).toBe(404)
  })

  it('deletes an account as an LRO', async () => {
    const h = new Harness({ cosmosDelete: 5_000 })
    await create(h, 'acct1', accountBody({}, { identity: { type: 'SystemAssigned' } }))
    const principalId = (await get(h, 'acct1')).json.identity.principalId
    const del = await h.call(armService, {
      method: 'DELETE',
      path: cosmosPath('acct1'),
      apiVersion: '2026-03-15'
    })
    expect(del.status).toBe(202)
    expect(del.json).toBeUndefined()
    const location = del.headers!.Location!
    expect(pathOf(location)).toMatch(
      new RegExp(
        `^/subscriptions/${SUB}/providers/Microsoft.DocumentDB/locations/westeurope/operationResults/[0-9a-f-]{36}$`
      )
    )
    expect((await get(h, 'acct1')).json.properties.provisioningState).toBe('Deleting')
    expect((await poll(h, location)).status).toBe(202)
    h.advance(5_000)
    expect((await poll(h, location)).status).toBe(204)
    expect((await poll(h, del.headers!['Azure-AsyncOperation']!)).json).toEqual({
      status: 'Succeeded'
    })
    expect((await get(h, 'acct1')).status).toBe(404)
    expect(h.world.servicePrincipals[principalId]).toBeUndefined()
    expect((await h.call(armService, { method: 'DELETE', path: cosmosPath('acct1') })).status).toBe(
      204
    )
  })

  it('reports whether an account name is taken', async () => {
    const h = new Harness()
    await create(h, 'acct1', accountBody())
    const head = (name: string) =>
      h.call(armService, {
        method: 'HEAD',
        path: `/providers/Microsoft.DocumentDB/databaseAccountNames/${name}`
      })
    expect((await head('acct1')).status).toBe(200)
    expect((await head('free1')).status).toBe(404)
  })

  it('needs Microsoft.DocumentDB registered for writes', async () => {
    const h = new Harness()
    delete h.world.subscriptions[SUB]!.providers['microsoft.documentdb']
    const res = await create(h, 'acct1', accountBody())
    expect(res.status).toBe(409)
    expect(res.json.error.code).toBe('MissingSubscriptionRegistration')
    expect((await h.call(armService, { method: 'GET', path: `${rgPath}` })).status).toBe(200)
  })
})
