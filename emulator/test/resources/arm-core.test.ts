import { describe, expect, it } from '@jest/globals'
import { armService } from '../../src/services/arm/index.js'
import { DEPLOYER, READER, RG, SUB } from './test-tenant.js'
import { rgPath } from './arm-paths.js'
import { Harness } from './harness.js'

describe('ARM basics', () => {
  it('requires an api-version on every request', async () => {
    const h = new Harness()
    const res = await h.call(armService, { method: 'GET', path: rgPath, apiVersion: null })
    expect(res.status).toBe(400)
    expect(res.json.error.code).toBe('MissingApiVersionParameter')
  })

  it('answers SubscriptionNotFound and ResourceGroupNotFound', async () => {
    const h = new Harness()
    const other = '99999999-2222-3333-4444-555555555555'
    const noSub = await h.call(armService, {
      method: 'GET',
      path: `/subscriptions/${other}/resourceGroups/x`
    })
    expect(noSub.status).toBe(404)
    expect(noSub.json.error).toEqual({
      code: 'SubscriptionNotFound',
      message: `The subscription '${other}' could not be found.`
    })
    const noRg = await h.call(armService, {
      method: 'GET',
      path: `/subscriptions/${SUB}/resourceGroups/nope`
    })
    expect(noRg.status).toBe(404)
    expect(noRg.json.error.code).toBe('ResourceGroupNotFound')
    expect(noRg.json.error.message).toBe("Resource group 'nope' could not be found.")
  })

  it('reads a resource group, matching path segments case-insensitively', async () => {
    const h = new Harness()
    const res = await h.call(armService, {
      method: 'GET',
      path: `/SUBSCRIPTIONS/${SUB}/resourcegroups/${RG.toUpperCase()}`
    })
    expect(res.status).toBe(200)
    expect(res.json).toMatchObject({
      name: RG,
      location: 'westeurope',
      properties: { provisioningState: 'Succeeded' }
    })
  })

  it('names what is not emulated', async () => {
    const h = new Harness()
    const res = await h.call(armService, {
      method: 'GET',
      path: `${rgPath}/providers/Microsoft.Storage/storageAccounts/x`
    })
    expect(res.status).toBe(501)
    expect(res.json.error.code).toBe('NotImplementedInLocalAzure')
    expect(res.json.error.message).toContain('Microsoft.Storage/storageAccounts/x')
    const del = await h.call(armService, {
      method: 'DELETE',
      path: `${rgPath}/providers/Microsoft.KeyVault/managedHSMs/x`
    })
    expect(del.status).toBe(501)
  })

  it('refuses a caller without a token-verified principal', async () => {
    const h = new Harness()
    const res = await h.call(armService, { method: 'GET', path: rgPath, as: null })
    expect(res.status).toBe(401)
  })
})

describe('resource providers', () => {
  const path = `/subscriptions/${SUB}/providers/Microsoft.DocumentDB`

  it('registers a provider: Registering, then Registered after the configured time', async () => {
    const h = new Harness({ providerRegistration: 30_000 })
    h.world.subscriptions[SUB]!.providers = {}
    const before = await h.call(armService, { method: 'GET', path, apiVersion: '2025-04-01' })
    expect(before.status).toBe(200)
    expect(before.json).toMatchObject({
      id: path,
      namespace: 'Microsoft.DocumentDB',
      registrationState: 'NotRegistered',
      registrationPolicy: 'RegistrationRequired'
    })
    expect(
      before.json.resourceTypes.map((t: { resourceType: string }) => t.resourceType)
    ).toContain('databaseAccounts')

    const reg = await h.call(armService, {
      method: 'POST',
      path: `${path}/register`,
      body: {},
      apiVersion: '2025-04-01'
    })
    expect(reg.status).toBe(200)
    expect(reg.json.registrationState).toBe('Registering')
    h.advance(29_000)
    expect((await h.call(armService, { method: 'GET', path })).json.registrationState).toBe(
      'Registering'
    )
    h.advance(1_000)
    expect((await h.call(armService, { method: 'GET', path })).json.registrationState).toBe(
      'Registered'
    )
  })

  it('lets a Reader read but not register', async () => {
    const h = new Harness()
    expect((await h.call(armService, { method: 'GET', path, as: READER })).status).toBe(200)
    const res = await h.call(armService, { method: 'POST', path: `${path}/register`, as: READER })
    expect(res.status).toBe(403)
    expect(res.json.error.code).toBe('AuthorizationFailed')
    expect(res.json.error.message).toBe(
      `The client '${READER}' with object id '${READER}' does not have authorization to perform action ` +
        `'Microsoft.DocumentDB/register/action' over scope '/subscriptions/${SUB}' or the scope is invalid. ` +
        'If access was recently granted, please refresh your credentials.'
    )
  })

  it('refuses writes on resource types whose namespace is not registered', async () => {
    const h = new Harness()
    delete h.world.subscriptions[SUB]!.providers['microsoft.managedidentity']
    const res = await h.call(armService, {
      method: 'PUT',
      path: `${rgPath}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1`,
      body: { location: 'westeurope' },
      as: DEPLOYER
    })
    expect(res.status).toBe(409)
    expect(res.json.error.code).toBe('MissingSubscriptionRegistration')
    expect(res.json.error.message).toContain("namespace 'Microsoft.ManagedIdentity'")
    expect(res.json.error.details[0].target).toBe('Microsoft.ManagedIdentity')
  })
})
