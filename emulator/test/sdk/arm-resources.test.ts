import { describe, expect, it } from '@jest/globals'
import { ResourceManagementClient } from '@azure/arm-resources'
import { ManagedServiceIdentityClient } from '@azure/arm-msi'
import {
  DEPLOYER_SP,
  FAST_TIMING,
  LOCATION,
  RG,
  SUB,
  TENANT,
  UAI_ID,
  UAI_NAME,
  UAI_PRINCIPAL,
  rejection,
  useSdkEmulator,
  staticCredential,
  waitUntil
} from './helpers.js'

const s = useSdkEmulator()

describe('@azure/arm-resources over HTTPS through the proxy', () => {
  it('reads a provider and registers it: NotRegistered, Registering, then Registered', async () => {
    const client = new ResourceManagementClient(s.credential, SUB)
    const before = await client.providers.get('Microsoft.DocumentDB')
    expect(before).toMatchObject({
      id: `/subscriptions/${SUB}/providers/Microsoft.DocumentDB`,
      namespace: 'Microsoft.DocumentDB',
      registrationState: 'NotRegistered'
    })
    expect(before.resourceTypes?.map(t => t.resourceType)).toContain('databaseAccounts')

    // The registration takes a minute on the local Azure's clock, so that no pause of this
    // process can let it finish before it is seen under way; the clock jumps past it once the
    // polling has seen it so.
    s.emulator.setTiming({ providerRegistration: 60_000 })
    const registered = await client.providers.register('Microsoft.DocumentDB')
    expect(registered.registrationState).toBe('Registering')
    expect((await client.providers.get('Microsoft.DocumentDB')).registrationState).toBe(
      'Registering'
    )
    const states = new Set<string>()
    await waitUntil(async () => {
      const state = (await client.providers.get('Microsoft.DocumentDB')).registrationState!
      if (states.size === 0) s.emulator.advanceClock(60_000)
      states.add(state)
      return state === 'Registered'
    })
    s.emulator.setTiming({ providerRegistration: FAST_TIMING.providerRegistration })
    expect([...states]).toEqual(['Registering', 'Registered'])
    // registering again is a no-op that reports the current state
    expect((await client.providers.register('Microsoft.DocumentDB')).registrationState).toBe(
      'Registered'
    )

    // every call went through the proxy, signed in as the deployer's service principal
    const calls = s.emulator.requests().filter(e => e.path.endsWith('/Microsoft.DocumentDB'))
    expect(calls.length).toBeGreaterThanOrEqual(4)
    expect(calls.every(e => e.principal === DEPLOYER_SP)).toBe(true)
    const register = s.emulator.requests().filter(e => e.path.endsWith('/register'))
    expect(register.map(e => [e.method, e.status])).toEqual([
      ['POST', 200],
      ['POST', 200]
    ])
  })

  it('gets the resource group, and answers ResourceGroupNotFound for a missing one', async () => {
    const client = new ResourceManagementClient(s.credential, SUB)
    const rg = await client.resourceGroups.get(RG)
    expect(rg).toMatchObject({
      id: `/subscriptions/${SUB}/resourceGroups/${RG}`,
      name: RG,
      location: LOCATION,
      properties: { provisioningState: 'Succeeded' }
    })
    const err = await rejection(client.resourceGroups.get('rg-does-not-exist'))
    expect(err.statusCode).toBe(404)
    expect(err.code).toBe('ResourceGroupNotFound')
    expect(err.message).toBe("Resource group 'rg-does-not-exist' could not be found.")
  })

  it('rejects an expired token with 401 ExpiredAuthenticationToken', async () => {
    const expired = s.emulator.tokens.accessToken({ expiresInSeconds: -10 })
    const client = new ResourceManagementClient(staticCredential(expired), SUB)
    const err = await rejection(client.providers.get('Microsoft.KeyVault'))
    expect(err.statusCode).toBe(401)
    expect(err.code).toBe('ExpiredAuthenticationToken')
    expect(err.message).toMatch(/^The access token expiry UTC time '.+' is earlier than current/)
    expect(err.response?.headers.get('www-authenticate')).toContain('error="invalid_token"')
  })

  it('rejects a real Microsoft Graph token with 401 InvalidAuthenticationToken (wrong audience)', async () => {
    const graphToken = await s.credential.getToken('https://graph.microsoft.com/.default')
    const client = new ResourceManagementClient(staticCredential(graphToken!.token), SUB)
    const err = await rejection(client.resourceGroups.get(RG))
    expect(err.statusCode).toBe(401)
    expect(err.code).toBe('InvalidAuthenticationToken')
    expect(err.message).toContain(
      "The access token has been obtained for wrong audience or resource 'https://graph.microsoft.com'"
    )
  })

  it('rejects a token from another tenant with InvalidAuthenticationTokenTenant', async () => {
    const foreign = s.emulator.tokens.accessToken({
      tenantId: '99999999-9999-4999-8999-999999999999'
    })
    const client = new ResourceManagementClient(staticCredential(foreign), SUB)
    const err = await rejection(client.providers.get('Microsoft.KeyVault'))
    expect(err.statusCode).toBe(401)
    expect(err.code).toBe('InvalidAuthenticationTokenTenant')
    expect(err.message).toContain(`https://login.windows.net/${TENANT}`)
  })

  it('answers a resource type it does not emulate with an Azure-shaped JSON error, never HTML', async () => {
    const client = new ResourceManagementClient(s.credential, SUB)
    const storageId = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Storage/storageAccounts/stcmkdemo`
    const err = await rejection(client.resources.getById(storageId, '2023-05-01'))
    expect(err.statusCode).toBe(501)
    expect(err.code).toBe('NotImplementedInLocalAzure')
    // the SDK read code and message out of the JSON body
    expect(err.message).toContain(`GET ${storageId}`)
    expect(err.message).toContain('management.azure.com')
    expect(err.response?.headers.get('content-type')).toMatch(/^application\/json/)
  })
})

describe('@azure/arm-msi over HTTPS through the proxy', () => {
  it('gets the seeded user-assigned identity', async () => {
    const client = new ManagedServiceIdentityClient(s.credential, SUB)
    const uai = await client.userAssignedIdentities.get(RG, UAI_NAME)
    expect(uai).toMatchObject({
      id: UAI_ID,
      name: UAI_NAME,
      type: 'Microsoft.ManagedIdentity/userAssignedIdentities',
      location: LOCATION,
      tenantId: TENANT,
      principalId: UAI_PRINCIPAL,
      clientId: '7e6d5c4b-3a2f-4e1d-9c0b-8a7f6e5d4c3b'
    })
  })

  it('creates an identity with a fresh principal, and updates its tags in place', async () => {
    const client = new ManagedServiceIdentityClient(s.credential, SUB)
    const created = await client.userAssignedIdentities.createOrUpdate(RG, 'id-sdk-test', {
      location: LOCATION,
      tags: { purpose: 'sdk' }
    })
    expect(created.id).toBe(
      `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-sdk-test`
    )
    expect(created.principalId).toMatch(/^[0-9a-f-]{36}$/)
    expect(created.principalId).not.toBe(UAI_PRINCIPAL)
    expect(created.tags).toEqual({ purpose: 'sdk' })
    const entry = s.emulator
      .requests()
      .filter(e => e.method === 'PUT' && e.path.endsWith('/id-sdk-test'))
    expect(entry.map(e => e.status)).toEqual([201])

    const updated = await client.userAssignedIdentities.createOrUpdate(RG, 'id-sdk-test', {
      location: LOCATION,
      tags: { purpose: 'sdk', round: '2' }
    })
    expect(updated.principalId).toBe(created.principalId)
    expect(updated.clientId).toBe(created.clientId)
    expect((await client.userAssignedIdentities.get(RG, 'id-sdk-test')).tags).toEqual({
      purpose: 'sdk',
      round: '2'
    })
  })

  it('surfaces the 401 code through the core-client error path too', async () => {
    const expired = s.emulator.tokens.accessToken({ expiresInSeconds: -10 })
    const client = new ManagedServiceIdentityClient(staticCredential(expired), SUB)
    const err = await rejection(client.userAssignedIdentities.get(RG, UAI_NAME))
    expect(err.statusCode).toBe(401)
    expect(err.code).toBe('ExpiredAuthenticationToken')
  })

  it('answers ResourceNotFound for a missing identity', async () => {
    const client = new ManagedServiceIdentityClient(s.credential, SUB)
    const err = await rejection(client.userAssignedIdentities.get(RG, 'id-missing'))
    expect(err.statusCode).toBe(404)
    expect(err.code).toBe('ResourceNotFound')
    expect(err.message).toContain(
      "The Resource 'Microsoft.ManagedIdentity/userAssignedIdentities/id-missing' under resource group 'rg-cmk-demo' was not found."
    )
  })
})
