import { describe, expect, it } from '@jest/globals'
import { armService } from '../../src/services/arm/index.js'
import { DEPLOYER, READER, SUB } from './test-tenant.js'
import { armEnvelope, hsmCreateBody, hsmPath, pathOf, queryOf } from './arm-paths.js'
import { Harness } from './harness.js'

const NOT_ACTIVATED =
  'Your HSM has been provisioned, but cannot be used for cryptographic operations until it is activated. ' +
  'To activate the HSM, download the security domain.'

async function poll(h: Harness, location: string) {
  return h.call(armService, {
    method: 'GET',
    path: pathOf(location),
    query: {},
    apiVersion: queryOf(location)['api-version']!
  })
}

describe('Microsoft.KeyVault/managedHSMs', () => {
  it('creates an HSM as a location-polled LRO that ends Succeeded and not activated', async () => {
    const h = new Harness({ hsmCreate: 20 * 60_000 })
    const put = await h.call(armService, {
      method: 'PUT',
      path: hsmPath('hsm-one'),
      body: hsmCreateBody()
    })
    expect(put.status).toBe(202)
    expect(put.headers!['Retry-After']).toBe('1')
    const location = put.headers!.Location!
    expect(pathOf(location)).toMatch(
      new RegExp(
        `^/subscriptions/${SUB}/providers/Microsoft.KeyVault/locations/westeurope/managedHsmOperationResults/[0-9a-f-]{36}$`
      )
    )
    expect(queryOf(location)['api-version']).toBe('2026-02-01')
    expect(put.json.properties.provisioningState).toBe('Provisioning')
    expect(put.json.properties.hsmUri).toBe('https://hsm-one.managedhsm.azure.net/')

    const running = await poll(h, location)
    expect(running.status).toBe(202)
    expect(running.headers!.Location).toBe(location)
    const get = await h.call(armService, { method: 'GET', path: hsmPath('hsm-one') })
    expect(get.json.properties.provisioningState).toBe('Provisioning')

    h.advance(20 * 60_000)
    const done = await poll(h, location)
    expect(done.status).toBe(200)
    // what was sent comes back, inside ARM's envelope
    const sent = hsmCreateBody() as { properties: Record<string, unknown> }
    expect(done.json).toMatchObject({
      ...armEnvelope('Microsoft.KeyVault/managedHSMs', 'hsm-one'),
      ...sent,
      properties: {
        ...sent.properties,
        provisioningState: 'Succeeded',
        securityDomainProperties: {
          activationStatus: 'NotActivated',
          activationStatusMessage: NOT_ACTIVATED
        }
      }
    })
    // the initial administrator holds Managed HSM Administrator at "/"
    const plane = h.world.hsmDataPlanes['hsm-one']!
    expect(Object.values(plane.roleAssignments)).toEqual([
      expect.objectContaining({
        scope: '/',
        principalId: DEPLOYER,
        roleDefinitionId:
          'Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/a290e904-7015-4bba-90c8-60543313cdb4'
      })
    ])
  })

  it('answers ResourceNotFound for a missing HSM', async () => {
    const h = new Harness()
    const res = await h.call(armService, { method: 'GET', path: hsmPath('missing') })
    expect(res.status).toBe(404)
    expect(res.json.error).toEqual({
      code: 'ResourceNotFound',
      message:
        "The Resource 'Microsoft.KeyVault/managedHSMs/missing' under resource group 'cmk-rg' was not found. " +
        'For more details please go to https://aka.ms/ARMResourceNotFoundFix'
    })
  })

  it.each([
    ['a name starting with a digit', '1hsm', {}, {}],
    ['a name with consecutive hyphens', 'hsm--x', {}, {}],
    ['a 25-character name', 'h'.repeat(25), {}, {}],
    ['no sku', 'hsm-a', { sku: undefined }, {}],
    ['an unknown sku', 'hsm-a', { sku: { family: 'B', name: 'Premium' } }, {}],
    ['no tenant', 'hsm-a', {}, { tenantId: undefined }],
    ['another tenant', 'hsm-a', {}, { tenantId: '00000000-0000-0000-0000-000000000001' }],
    ['no administrators', 'hsm-a', {}, { initialAdminObjectIds: [] }],
    ['a non-GUID administrator', 'hsm-a', {}, { initialAdminObjectIds: ['alice@contoso.com'] }],
    ['retention below 7 days', 'hsm-a', {}, { softDeleteRetentionInDays: 6 }],
    ['retention above 90 days', 'hsm-a', {}, { softDeleteRetentionInDays: 91 }],
    ['soft delete off', 'hsm-a', {}, { enableSoftDelete: false }]
  ])('rejects %s with 400', async (_, name, overrides, props) => {
    const h = new Harness()
    const res = await h.call(armService, {
      method: 'PUT',
      path: hsmPath(name),
      body: hsmCreateBody(overrides, props)
    })
    expect(res.status).toBe(400)
    expect(typeof res.json.error.message).toBe('string')
    expect(Object.keys(h.world.managedHsms)).toHaveLength(0)
  })

  it('rejects an unknown location as ARM does', async () => {
    const h = new Harness()
    const res = await h.call(armService, {
      method: 'PUT',
      path: hsmPath('hsm-a'),
      body: hsmCreateBody({ location: 'moon' })
    })
    expect(res.status).toBe(400)
    expect(res.json.error.code).toBe('LocationNotAvailableForResourceType')
  })

  it('keeps HSM names globally unique', async () => {
    const h = new Harness()
    await h.call(armService, { method: 'PUT', path: hsmPath('shared-name'), body: hsmCreateBody() })
    const other = `/subscriptions/${SUB}/resourceGroups/other-rg`
    h.world.resourceGroups[`${other}`.toLowerCase()] = {
      subscriptionId: SUB,
      name: 'other-rg',
      location: 'westeurope'
    }
    const res = await h.call(armService, {
      method: 'PUT',
      path: `${other}/providers/Microsoft.KeyVault/managedHSMs/Shared-Name`,
      body: hsmCreateBody()
    })
    expect(res.status).toBe(409)
    expect(res.json.error.message).toContain('already in use')
  })

  it('turns purge protection on with PATCH, never off, and keeps soft delete and retention', async () => {
    const h = new Harness({ hsmUpdate: 5_000 })
    await h.call(armService, {
      method: 'PUT',
      path: hsmPath('hsm-pp'),
      body: hsmCreateBody({}, { enablePurgeProtection: false })
    })
    const on = await h.call(armService, {
      method: 'PATCH',
      path: hsmPath('hsm-pp'),
      body: { properties: { enablePurgeProtection: true }, tags: { a: 'b' } }
    })
    expect(on.status).toBe(202)
    expect(on.json.properties).toMatchObject({
      provisioningState: 'Updating',
      enablePurgeProtection: true
    })
    expect(on.json.tags).toEqual({ a: 'b' })
    const busy = await h.call(armService, {
      method: 'PATCH',
      path: hsmPath('hsm-pp'),
      body: { tags: {} }
    })
    expect(busy.status).toBe(409)
    h.advance(5_000)
    const done = await poll(h, on.headers!.Location!)
    expect(done.status).toBe(200)
    expect(done.json.properties.provisioningState).toBe('Succeeded')

    const off = await h.call(armService, {
      method: 'PATCH',
      path: hsmPath('hsm-pp'),
      body: { properties: { enablePurgeProtection: false } }
    })
    expect(off.status).toBe(400)
    expect(off.json.error.message).toBe(
      'The property "enablePurgeProtection" cannot be set to false. Enabling the purge protection for a vault is an irreversible action.'
    )
    const softOff = await h.call(armService, {
      method: 'PATCH',
      path: hsmPath('hsm-pp'),
      body: { properties: { enableSoftDelete: false } }
    })
    expect(softOff.status).toBe(400)
    const retention = await h.call(armService, {
      method: 'PATCH',
      path: hsmPath('hsm-pp'),
      body: { properties: { softDeleteRetentionInDays: 30 } }
    })
    expect(retention.status).toBe(400)
  })

  it('checks permissions: a Reader may read but not create', async () => {
    const h = new Harness()
    const res = await h.call(armService, {
      method: 'PUT',
      path: hsmPath('hsm-r'),
      body: hsmCreateBody(),
      as: READER
    })
    expect(res.status).toBe(403)
    expect(res.json.error.message).toContain("action 'Microsoft.KeyVault/managedHSMs/write'")
    expect(res.json.error.message).toContain(`over scope '${hsmPath('hsm-r')}'`)
  })

  it('reports name availability', async () => {
    const h = new Harness()
    await h.call(armService, { method: 'PUT', path: hsmPath('taken-hsm'), body: hsmCreateBody() })
    const path = `/subscriptions/${SUB}/providers/Microsoft.KeyVault/checkMhsmNameAvailability`
    const taken = await h.call(armService, { method: 'POST', path, body: { name: 'taken-hsm' } })
    expect(taken.json).toMatchObject({ nameAvailable: false, reason: 'AlreadyExists' })
    const free = await h.call(armService, { method: 'POST', path, body: { name: 'free-hsm' } })
    expect(free.json).toEqual({ nameAvailable: true })
  })
})
