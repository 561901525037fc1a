import { describe, expect, it } from '@jest/globals'
import { admin, defaultScenario, useTestEmulator } from './helpers.js'

const HSM = 'hsm-cmk-demo'
const ADMIN = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d'

const t = useTestEmulator(() => {
  const scenario = defaultScenario()
  const hsm = scenario.subscriptions[0]!.resourceGroups![0]!.managedHsms![0]!
  hsm.keys = [{ name: 'cmk', size: 2048 }]
  hsm.roleAssignments = [
    { role: 'Managed HSM Crypto User', principalId: ADMIN, scope: '/keys' },
    { role: 'Managed HSM Crypto Auditor', principalId: ADMIN, scope: '/keys/cmk' }
  ]
  return { scenario }
})

const versions = () => t.emulator.store.world.hsmDataPlanes[HSM]!.keys.cmk!.versions

describe('admin hooks for keys and grants', () => {
  it('updates a key: enabled, expiry and not-before, as ISO times', async () => {
    const expires = '2030-01-01T00:00:00.000Z'
    const res = await admin(t.emulator, '/hsm-key', {
      method: 'PATCH',
      body: { hsm: HSM, key: 'CMK', enabled: false, expires }
    })
    expect(res.status).toBe(200)
    expect(res.json).toMatchObject({ key: 'cmk', enabled: false, expires, notBefore: null })
    expect(versions()[0]).toMatchObject({ enabled: false, exp: Date.parse(expires) / 1000 })
    const cleared = await admin(t.emulator, '/hsm-key', {
      method: 'PATCH',
      body: { hsm: HSM, key: 'cmk', expires: null }
    })
    expect(cleared.json.expires).toBeNull()
    expect(versions()[0]!.exp).toBeUndefined()
  })

  it('rotates a key with new material, with or without a policy', async () => {
    const res = await admin(t.emulator, '/hsm-key/rotate', {
      method: 'POST',
      body: { hsm: HSM, key: 'cmk' }
    })
    expect(res.status).toBe(200)
    expect(versions()).toHaveLength(2)
    expect(res.json.version).toBe(versions()[1]!.version)
    expect(versions()[1]!.n).not.toBe(versions()[0]!.n)
  })

  it('removes the grants of a principal, at one scope or all', async () => {
    const one = await admin(t.emulator, '/hsm-role-assignments', {
      method: 'DELETE',
      body: { hsm: HSM, principalId: ADMIN.toUpperCase(), scope: '/keys/cmk' }
    })
    expect(one.json.removed).toEqual([
      expect.objectContaining({
        scope: '/keys/cmk',
        roleDefinitionId: expect.stringMatching(/2c18b078/)
      })
    ])
    const rest = await admin(t.emulator, '/hsm-role-assignments', {
      method: 'DELETE',
      body: { hsm: HSM, principalId: ADMIN }
    })
    // the Crypto User grant and the HSM administrator's own role at '/'
    expect(rest.json.removed.map((r: { scope: string }) => r.scope).sort()).toEqual(['/', '/keys'])
    const left = Object.values(t.emulator.store.world.hsmDataPlanes[HSM]!.roleAssignments)
    expect(left.filter(a => a.principalId === ADMIN)).toEqual([])
  })

  it('answers what it cannot do with 400 and 404', async () => {
    const cases: [string, string, unknown, number, RegExp][] = [
      ['/hsm-key', 'PATCH', { key: 'cmk' }, 400, /"hsm" is required/],
      ['/hsm-key', 'PATCH', { hsm: 'nope', key: 'cmk' }, 404, /no Managed HSM 'nope'/],
      ['/hsm-key', 'PATCH', { hsm: HSM, key: 'nope' }, 404, /no key 'nope'/],
      [
        '/hsm-key',
        'PATCH',
        { hsm: HSM, key: 'cmk', enabled: 'no' },
        400,
        /"enabled" must be a boolean/
      ],
      ['/hsm-key', 'PATCH', { hsm: HSM, key: 'cmk', expires: 'soon' }, 400, /ISO time/],
      ['/hsm-key/rotate', 'POST', { hsm: HSM }, 400, /"key" is required/],
      [
        '/hsm-role-assignments',
        'DELETE',
        { hsm: HSM, principalId: ADMIN, scope: '/secrets' },
        400,
        /scope/
      ]
    ]
    for (const [path, method, body, status, message] of cases) {
      const res = await admin(t.emulator, path, { method, body })
      expect({ path, status: res.status }).toEqual({ path, status })
      expect(res.json.error.message).toMatch(message)
    }
    expect((await admin(t.emulator, '/hsm-key', { method: 'GET' })).status).toBe(405)
  })
})
