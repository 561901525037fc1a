import { describe, expect, it } from '@jest/globals'
import { getIDToken } from '@actions/core'
import { admin, decodeClaims, defaultScenario, useTestEmulator } from './helpers.js'

const t = useTestEmulator()

describe('admin API', () => {
  it('reports health', async () => {
    const res = await admin(t.emulator, '/health')
    expect(res.status).toBe(200)
    expect(res.json).toMatchObject({
      status: 'ok',
      port: t.emulator.port,
      tenantId: t.emulator.scenario.tenantId,
      caCertPath: t.emulator.caCertPath,
      idTokenRequestUrl: t.emulator.idTokenRequestUrl
    })
  })

  it('serves the environment variables a client needs', async () => {
    const res = await admin(t.emulator, '/env')
    expect(res.json).toEqual(t.emulator.env)
    expect(res.json).toMatchObject({
      HTTPS_PROXY: t.emulator.proxyUrl,
      NO_PROXY: '',
      NODE_EXTRA_CA_CERTS: t.emulator.caCertPath,
      REQUESTS_CA_BUNDLE: t.emulator.caCertPath,
      AZURE_RESOURCE_GROUP: 'rg-cmk-demo',
      AZURE_LOCATION: 'westeurope',
      AZURE_HSM_NAME: 'hsm-cmk-demo',
      AZURE_USER_ASSIGNED_IDENTITY: 'id-cosmos-cmk'
    })
    expect(res.json.ACTIONS_ID_TOKEN_REQUEST_URL).toMatch(
      /^https:\/\/pipelines\.actions\.githubusercontent\.com\/.+\/idtoken\?api-version=2\.0$/
    )
  })

  it('shows the state without private keys or client secrets', async () => {
    const world = t.emulator.store.world
    world.applications['3b2f8c71-9d4e-4f6a-a1b2-c3d4e5f6a7b8']!.clientSecrets = ['s3cret-value']
    world.hsmDataPlanes['hsm-admin'] = {
      name: 'hsm-admin',
      roleAssignments: {},
      keys: {
        k: {
          name: 'k',
          versions: [
            {
              version: 'v1',
              kty: 'RSA-HSM',
              keySize: 3072,
              keyOps: ['wrapKey'],
              enabled: true,
              created: 1,
              updated: 1,
              tags: {},
              privateKeyPem: '-----BEGIN PRIVATE KEY-----\nSECRET\n-----END PRIVATE KEY-----',
              n: 'AQAB',
              e: 'AQAB'
            }
          ]
        }
      }
    }
    const res = await admin(t.emulator, '/state')
    expect(res.status).toBe(200)
    expect(res.json.tenantId).toBe(t.emulator.scenario.tenantId)
    expect(res.json.hsmDataPlanes['hsm-admin'].keys.k.versions[0].n).toBe('AQAB')
    const text = JSON.stringify(res.json)
    expect(text).not.toContain('PRIVATE KEY')
    expect(text).not.toContain('s3cret-value')
    // The live world keeps its key material.
    expect(world.hsmDataPlanes['hsm-admin']!.keys.k!.versions[0]!.privateKeyPem).toContain('SECRET')
  })

  it('resets the world to the loaded scenario', async () => {
    t.emulator.store.world.resourceGroups = {}
    const res = await admin(t.emulator, '/reset', { method: 'POST' })
    expect(res.status).toBe(200)
    expect(Object.keys(t.emulator.store.world.resourceGroups)).toEqual([
      '/subscriptions/6c1b9e3a-2f4d-4a7b-8e5c-9d0f1a2b3c4d/resourcegroups/rg-cmk-demo'
    ])
    expect(t.emulator.store.world.hsmDataPlanes['hsm-admin']).toBeUndefined()
  })

  it('lists requests since a sequence number and clears them', async () => {
    await admin(t.emulator, '/reset', { method: 'POST' })
    await getIDToken('api://AzureADTokenExchange')
    const all = await admin(t.emulator, '/requests')
    expect(all.json.requests.length).toBeGreaterThan(0)
    const last = all.json.lastSeq as number
    await getIDToken('api://AzureADTokenExchange')
    const since = await admin(t.emulator, `/requests?since=${last}`)
    expect(since.json.requests).toHaveLength(1)
    expect(since.json.requests[0]).toMatchObject({ seq: last + 1, kind: 'token', status: 200 })
    const cleared = await admin(t.emulator, '/requests', { method: 'DELETE' })
    expect(cleared.json.cleared).toBeGreaterThan(1)
    expect((await admin(t.emulator, '/requests')).json.requests).toEqual([])
  })

  it('reads and changes timing, rejecting bad values', async () => {
    expect((await admin(t.emulator, '/timing')).json.rbacPropagation).toBe(300)
    const put = await admin(t.emulator, '/timing', {
      method: 'PUT',
      body: { rbacPropagation: [10, 20] }
    })
    expect(put.status).toBe(200)
    expect(put.json.rbacPropagation).toEqual([10, 20])
    expect(t.emulator.timing.rbacPropagation).toEqual([10, 20])
    const bad = await admin(t.emulator, '/timing', {
      method: 'PUT',
      body: { rbacPropagation: -1, nope: 1 }
    })
    expect(bad.status).toBe(400)
    expect(bad.json.error.problems).toHaveLength(2)
  })

  it('reads and replaces fault rules with their counts', async () => {
    const put = await admin(t.emulator, '/faults', {
      method: 'PUT',
      body: { rules: [{ kind: 'throttle', rate: 0.25, host: 'management.azure.com' }] }
    })
    expect(put.status).toBe(200)
    const get = await admin(t.emulator, '/faults')
    expect(get.json).toEqual({
      rules: [{ kind: 'throttle', rate: 0.25, host: 'management.azure.com' }],
      counts: { throttle: 0, 'server-error': 0, reset: 0, stall: 0 }
    })
    const bad = await admin(t.emulator, '/faults', {
      method: 'PUT',
      body: [{ kind: 'explode', rate: 2 }]
    })
    expect(bad.status).toBe(400)
    await admin(t.emulator, '/faults', { method: 'PUT', body: [] })
  })

  it('changes the GitHub subject of new ID tokens', async () => {
    const put = await admin(t.emulator, '/github-subject', {
      method: 'PUT',
      body: { subject: 'repo:contoso/cosmos-cmk:pull_request' }
    })
    expect(put.json).toEqual({
      subject: 'repo:contoso/cosmos-cmk:pull_request',
      repository: 'contoso/cosmos-cmk'
    })
    expect(decodeClaims(await getIDToken('api://AzureADTokenExchange')).sub).toBe(
      'repo:contoso/cosmos-cmk:pull_request'
    )
    await admin(t.emulator, '/reset', { method: 'POST' })
    expect(decodeClaims(await getIDToken('api://AzureADTokenExchange')).sub).toBe(
      'repo:contoso/cosmos-cmk:ref:refs/heads/main'
    )
  })

  it('loads a scenario and rejects an invalid one with the problems listed', async () => {
    const bad = await admin(t.emulator, '/scenario', { method: 'POST', body: { tenantId: 'x' } })
    expect(bad.status).toBe(400)
    expect(bad.json.error.problems).toEqual(
      expect.arrayContaining(['tenantId must be a GUID', 'subscriptions must be an array'])
    )
    const notJson = await admin(t.emulator, '/scenario', { method: 'POST', body: '{nope' })
    expect(notJson.status).toBe(400)

    const scenario = defaultScenario()
    scenario.tenantId = '12345678-1234-4123-8123-123456789abc'
    const ok = await admin(t.emulator, '/scenario', { method: 'POST', body: scenario })
    expect(ok.status).toBe(200)
    expect(t.emulator.store.world.tenantId).toBe('12345678-1234-4123-8123-123456789abc')
    expect((await admin(t.emulator, '/scenario')).json.tenantId).toBe(
      '12345678-1234-4123-8123-123456789abc'
    )
    await admin(t.emulator, '/scenario', { method: 'POST', body: defaultScenario() })
  })

  it('moves the clock forward', async () => {
    const before = t.emulator.now()
    const res = await admin(t.emulator, '/clock', {
      method: 'POST',
      body: { advanceMs: 3_600_000 }
    })
    expect(res.status).toBe(200)
    expect(t.emulator.now() - before).toBeGreaterThanOrEqual(3_600_000)
  })

  it('answers unknown routes and methods with JSON errors', async () => {
    expect((await admin(t.emulator, '/nope')).status).toBe(404)
    const wrong = await admin(t.emulator, '/state', { method: 'DELETE' })
    expect(wrong.status).toBe(405)
    expect(wrong.json.error.code).toBe('MethodNotAllowed')
  })
})
