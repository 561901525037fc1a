import { describe, expect, it } from '@jest/globals'
import { armService } from '../../src/services/arm/index.js'
import { TENANT } from './test-tenant.js'
import { armEnvelope, uaiPath } from './arm-paths.js'
import { Harness } from './harness.js'

describe('Microsoft.ManagedIdentity/userAssignedIdentities', () => {
  it('creates an identity (201), then updates it (200), with a service principal that replicates later', async () => {
    const h = new Harness({ principalReplication: 45_000 })
    const created = await h.call(armService, {
      method: 'PUT',
      path: uaiPath('cmk-id'),
      body: { location: 'westeurope', tags: { a: '1' } },
      apiVersion: '2024-11-30'
    })
    expect(created.status).toBe(201)
    expect(created.json).toMatchObject({
      ...armEnvelope('Microsoft.ManagedIdentity/userAssignedIdentities', 'cmk-id'),
      tags: { a: '1' },
      properties: { tenantId: TENANT }
    })
    const { principalId, clientId } = created.json.properties
    expect(principalId).toMatch(/^[0-9a-f-]{36}$/)
    const sp = h.world.servicePrincipals[principalId]!
    expect(sp).toMatchObject({
      appId: clientId,
      servicePrincipalType: 'ManagedIdentity',
      replicatedAt: h.now + 45_000
    })

    const again = await h.call(armService, {
      method: 'PUT',
      path: uaiPath('cmk-id'),
      body: { location: 'westeurope', tags: { b: '2' } }
    })
    expect(again.status).toBe(200)
    expect(again.json.properties.principalId).toBe(principalId)
    expect(again.json.tags).toEqual({ b: '2' })

    const get = await h.call(armService, { method: 'GET', path: uaiPath('cmk-id') })
    expect(get.status).toBe(200)
    expect(get.json.properties.clientId).toBe(clientId)
  })

  it('answers 404 for a missing identity and 400 for a bad name', async () => {
    const h = new Harness()
    expect((await h.call(armService, { method: 'GET', path: uaiPath('nope') })).status).toBe(404)
    const bad = await h.call(armService, {
      method: 'PUT',
      path: uaiPath('-x'),
      body: { location: 'westeurope' }
    })
    expect(bad.status).toBe(400)
  })
})
