import { randomBytes } from 'node:crypto'
import { describe, expect, it } from '@jest/globals'
import { DEPLOYER, READER, addApp } from './test-tenant.js'
import { Harness } from './harness.js'
import { CRYPTO_USER, ENCRYPTION_USER, assignRole, hsmCall, seedHsm } from './hsm-fixtures.js'

const DAY = 86_400_000
const POLICY = '/keys/cmk/rotationpolicy'

function keyWorld(h: Harness, key: Record<string, unknown> = {}): void {
  seedHsm(h, {
    keys: [{ name: 'cmk', size: 2048, ops: ['wrapKey', 'unwrapKey'], ...key }],
    roleAssignments: [
      { role: 'Managed HSM Crypto User', principalId: DEPLOYER, scope: '/keys' },
      { role: 'Managed HSM Crypto Service Encryption User', principalId: READER, scope: '/keys' }
    ]
  })
}

const rotateAfter = (timeAfterCreate: string, expiryTime?: string) => ({
  lifetimeActions: [{ trigger: { timeAfterCreate }, action: { type: 'Rotate' } }],
  attributes: expiryTime ? { expiryTime } : {}
})

const putPolicy = (h: Harness, body: unknown, as?: string) =>
  hsmCall(h, { method: 'PUT', path: POLICY, body, ...(as ? { as } : {}) })
const rotate = (h: Harness, as?: string) =>
  hsmCall(h, { method: 'POST', path: '/keys/cmk/rotate', ...(as ? { as } : {}) })

async function versions(h: Harness): Promise<string[]> {
  const res = await hsmCall(h, { method: 'GET', path: '/keys/cmk/versions' })
  return res.json.value.map((v: { kid: string }) => v.kid.split('/').pop())
}

describe('Managed HSM key rotation policy', () => {
  it('answers an empty policy for a key without one, stores a policy and removes it when empty', async () => {
    const h = new Harness()
    keyWorld(h)
    const none = await hsmCall(h, { method: 'GET', path: POLICY })
    expect(none.json).toEqual({ lifetimeActions: [], attributes: {} })
    const created = Math.floor(h.now / 1000)
    const set = await putPolicy(h, {
      lifetimeActions: [{ trigger: { timeAfterCreate: 'p18m' }, action: { type: 'rotate' } }],
      attributes: { expiryTime: 'P2Y' }
    })
    expect(set.status).toBe(200)
    expect(set.json).toEqual({
      id: 'https://testhsm.managedhsm.azure.net/keys/cmk/rotationpolicy',
      lifetimeActions: [{ trigger: { timeAfterCreate: 'P18M' }, action: { type: 'Rotate' } }],
      attributes: { expiryTime: 'P2Y', created, updated: created }
    })
    h.advance(60_000)
    const changed = await putPolicy(h, {
      lifetimeActions: [{ trigger: { timeBeforeExpiry: 'P30D' }, action: { type: 'Rotate' } }],
      attributes: { expiryTime: 'P90D' }
    })
    expect(changed.json.attributes).toEqual({
      expiryTime: 'P90D',
      created,
      updated: created + 60
    })
    expect((await hsmCall(h, { method: 'GET', path: POLICY })).json).toEqual(changed.json)
    const removed = await putPolicy(h, { lifetimeActions: [], attributes: {} })
    expect(removed.json).toEqual(none.json)
    expect((await rotate(h)).status).toBe(400)
  })

  it("refuses what Managed HSM refuses, with Key Vault's error shape", async () => {
    const h = new Harness()
    keyWorld(h)
    const refused: [unknown, RegExp][] = [
      [rotateAfter('P27D'), /at least P28D/],
      [rotateAfter('P28DT'), /not an ISO 8601 duration/],
      [rotateAfter('P1Y', 'P27D'), /expiryTime .* at least 28 days/],
      [rotateAfter('P1Y', 'P1Y'), /expire before it is rotated/],
      [
        {
          lifetimeActions: [{ trigger: { timeBeforeExpiry: 'P30D' }, action: { type: 'Notify' } }],
          attributes: { expiryTime: 'P1Y' }
        },
        /does not support the 'Notify' lifetime action/
      ],
      [
        {
          lifetimeActions: [{ trigger: { timeBeforeExpiry: 'P29D' }, action: { type: 'Rotate' } }],
          attributes: { expiryTime: 'P56D' }
        },
        /at most expiryTime minus 28 days/
      ],
      [
        {
          lifetimeActions: [{ trigger: { timeBeforeExpiry: 'P28D' }, action: { type: 'Rotate' } }]
        },
        /needs the expiryTime/
      ],
      [
        {
          lifetimeActions: [
            {
              trigger: { timeAfterCreate: 'P30D', timeBeforeExpiry: 'P30D' },
              action: { type: 'Rotate' }
            }
          ],
          attributes: { expiryTime: 'P1Y' }
        },
        /exactly one of 'timeAfterCreate' and 'timeBeforeExpiry'/
      ],
      [
        {
          lifetimeActions: [
            { trigger: { timeAfterCreate: 'P30D' }, action: { type: 'Rotate' } },
            { trigger: { timeAfterCreate: 'P60D' }, action: { type: 'Rotate' } }
          ]
        },
        /only one Rotate lifetime action/
      ],
      [
        {
          lifetimeActions: [1, 2, 3].map(() => ({
            trigger: { timeAfterCreate: 'P30D' },
            action: { type: 'Rotate' }
          }))
        },
        /at most 2 lifetime actions/
      ]
    ]
    for (const [body, message] of refused) {
      const res = await putPolicy(h, body)
      expect({ status: res.status, code: res.json.error.code }).toEqual({
        status: 400,
        code: 'BadParameter'
      })
      expect(res.json.error.message).toMatch(message)
    }
    // timeBeforeExpiry may be exactly expiryTime minus 28 days
    const edge = await putPolicy(h, {
      lifetimeActions: [{ trigger: { timeBeforeExpiry: 'P28D' }, action: { type: 'Rotate' } }],
      attributes: { expiryTime: 'P56D' }
    })
    expect(edge.status).toBe(200)
  })

  it('needs keys/write/action to set a policy and keys/rotate/action to rotate', async () => {
    const h = new Harness()
    keyWorld(h)
    const denied = await putPolicy(h, rotateAfter('P90D'), READER)
    expect(denied.status).toBe(403)
    expect(denied.json.error.message).toContain('Microsoft.KeyVault/managedHsm/keys/write/action')
    expect((await hsmCall(h, { method: 'GET', path: POLICY, as: READER })).status).toBe(200)
    await putPolicy(h, rotateAfter('P90D'))
    const noRotate = await rotate(h, READER)
    expect(noRotate.status).toBe(403)
    expect(noRotate.json.error.message).toContain(
      'Microsoft.KeyVault/managedHsm/keys/rotate/action'
    )
  })
})

describe('Managed HSM on-demand rotation', () => {
  it('needs a policy first, then makes a new version with new key material', async () => {
    const h = new Harness()
    keyWorld(h, { rotationPolicy: undefined })
    const before = await hsmCall(h, { method: 'GET', path: '/keys/cmk' })
    const noPolicy = await rotate(h)
    expect(noPolicy.status).toBe(400)
    expect(noPolicy.json.error.message).toMatch(
      /must be set before the key can be rotated on demand/
    )
    await putPolicy(h, rotateAfter('P90D', 'P1Y'))
    h.advance(1_000)
    const rotated = await rotate(h)
    expect(rotated.status).toBe(200)
    expect(rotated.json.key.kid).not.toBe(before.json.key.kid)
    expect(rotated.json.key.n).not.toBe(before.json.key.n)
    expect(rotated.json.key).toMatchObject({ kty: 'RSA-HSM', key_ops: ['wrapKey', 'unwrapKey'] })
    const created = Math.floor(h.now / 1000)
    expect(rotated.json.attributes).toMatchObject({ enabled: true, created })
    // expiryTime of the policy: one year on the calendar from now
    const inAYear = new Date(h.now)
    inAYear.setUTCFullYear(inAYear.getUTCFullYear() + 1)
    expect(rotated.json.attributes.exp).toBe(Math.floor(inAYear.getTime() / 1000))
    expect(await versions(h)).toHaveLength(2)
    expect((await hsmCall(h, { method: 'GET', path: '/keys/cmk' })).json.key.kid).toBe(
      rotated.json.key.kid
    )

    // the new version really wraps and unwraps, and the old one still unwraps what it wrapped
    const secret = randomBytes(32).toString('base64url')
    for (const kid of [rotated.json.key.kid, before.json.key.kid]) {
      const version = kid.split('/').pop()
      const wrapped = await hsmCall(h, {
        method: 'POST',
        path: `/keys/cmk/${version}/wrapkey`,
        body: { alg: 'RSA-OAEP-256', value: secret }
      })
      const unwrapped = await hsmCall(h, {
        method: 'POST',
        path: `/keys/cmk/${version}/unwrapkey`,
        body: { alg: 'RSA-OAEP-256', value: wrapped.json.value },
        as: READER
      })
      expect(unwrapped.json.value).toBe(secret)
    }
  })

  it('stops at 100 versions', async () => {
    const h = new Harness()
    keyWorld(h)
    await putPolicy(h, rotateAfter('P90D'))
    const key = h.world.hsmDataPlanes.testhsm!.keys.cmk!
    const first = key.versions[0]!
    for (let i = 1; i < 100; i++) key.versions.push({ ...first, version: `${i}`.padStart(32, '0') })
    const res = await rotate(h)
    expect(res.status).toBe(400)
    expect(res.json.error.message).toContain('100 versions')
    expect(key.versions).toHaveLength(100)
  })

  it('rotates by the policy when the clock passes the due time, version by version', async () => {
    const h = new Harness()
    keyWorld(h)
    await putPolicy(h, rotateAfter('P30D', 'P60D'))
    const start = h.now
    h.advance(29 * DAY)
    expect(await versions(h)).toHaveLength(1)
    // 65 days: rotations were due at day 30 and day 60
    h.advance(36 * DAY)
    const all = h.world.hsmDataPlanes.testhsm!.keys.cmk!.versions
    await hsmCall(h, { method: 'GET', path: '/keys/cmk' })
    expect(all.map(v => v.created)).toEqual(
      [0, 30, 60].map(days => Math.floor((start + days * DAY) / 1000))
    )
    expect(all[1]!.exp).toBe(Math.floor((start + 90 * DAY) / 1000))
    expect(new Set(all.map(v => v.n)).size).toBe(3)
  })

  it('rotates before expiry when the current version has an expiry date', async () => {
    const h = new Harness()
    const expires = new Date(h.now + 100 * DAY).toISOString()
    keyWorld(h, { expires })
    await putPolicy(h, {
      lifetimeActions: [{ trigger: { timeBeforeExpiry: 'P30D' }, action: { type: 'Rotate' } }],
      attributes: { expiryTime: 'P90D' }
    })
    h.advance(69 * DAY)
    expect(await versions(h)).toHaveLength(1)
    h.advance(DAY)
    expect(await versions(h)).toHaveLength(2)
  })
})

describe('Managed HSM UpdateKey', () => {
  it('disables and re-enables a key, sets and clears its expiry, and changes operations', async () => {
    const h = new Harness()
    keyWorld(h)
    const disabled = await hsmCall(h, {
      method: 'PATCH',
      path: '/keys/cmk',
      body: { attributes: { enabled: false } }
    })
    expect(disabled.status).toBe(200)
    expect(disabled.json.attributes.enabled).toBe(false)
    const wrap = () =>
      hsmCall(h, {
        method: 'POST',
        path: '/keys/cmk/wrapkey',
        body: { alg: 'RSA-OAEP', value: 'AAEC' }
      })
    expect((await wrap()).status).toBe(403)
    const version = disabled.json.key.kid.split('/').pop()
    h.advance(5_000)
    const exp = Math.floor(h.now / 1000) + 3600
    const updated = await hsmCall(h, {
      method: 'PATCH',
      path: `/keys/cmk/${version}`,
      body: {
        attributes: { enabled: true, exp },
        key_ops: ['wrapKey', 'unwrapKey', 'encrypt'],
        tags: { t: 'v' }
      }
    })
    expect(updated.json).toMatchObject({
      key: { key_ops: ['wrapKey', 'unwrapKey', 'encrypt'] },
      attributes: { enabled: true, exp, updated: Math.floor(h.now / 1000) },
      tags: { t: 'v' }
    })
    expect((await wrap()).status).toBe(200)
    h.advance(3_600_000)
    expect((await wrap()).json.error.message).toContain('expired')
    const cleared = await hsmCall(h, {
      method: 'PATCH',
      path: '/keys/cmk',
      body: { attributes: { exp: null } }
    })
    expect(cleared.json.attributes.exp).toBeUndefined()
    expect((await wrap()).status).toBe(200)
  })

  it('refuses bad updates and callers without keys/write/action', async () => {
    const h = new Harness()
    keyWorld(h)
    const patch = (body: unknown, as?: string) =>
      hsmCall(h, { method: 'PATCH', path: '/keys/cmk', body, ...(as ? { as } : {}) })
    expect((await patch({ attributes: { enabled: 'no' } })).json.error.code).toBe('BadParameter')
    expect((await patch({ key_ops: ['sign', 'derive'] })).json.error.code).toBe('BadParameter')
    expect((await patch({ attributes: { exportable: true } })).json.error.code).toBe('BadParameter')
    expect((await patch({ attributes: { enabled: false } }, READER)).status).toBe(403)
    expect(h.world.hsmDataPlanes.testhsm!.keys.cmk!.versions[0]!.enabled).toBe(true)
    const none = await hsmCall(h, { method: 'PATCH', path: '/keys/none', body: {} })
    expect(none.json.error.code).toBe('KeyNotFound')
  })
})

describe('seeded rotation policies', () => {
  it('are checked like the data plane checks them', async () => {
    const h = new Harness()
    keyWorld(h, { rotationPolicy: rotateAfter('P90D', 'P1Y') })
    const policy = await hsmCall(h, { method: 'GET', path: POLICY })
    expect(policy.json.lifetimeActions).toEqual([
      { trigger: { timeAfterCreate: 'P90D' }, action: { type: 'Rotate' } }
    ])
    expect(() => keyWorld(new Harness(), { rotationPolicy: rotateAfter('P7D') })).toThrow(
      /rotationPolicy: .*at least P28D/
    )
  })

  it('let a grant of Crypto User rotate where a service identity cannot', async () => {
    const h = new Harness()
    keyWorld(h, { rotationPolicy: rotateAfter('P90D') })
    const other = 'd0d0d0d0-0000-0000-0000-0000000000f1'
    addApp(h.world, '0a0a0a0a-0000-0000-0000-0000000000f1', other, [])
    expect((await rotate(h, other)).status).toBe(403)
    expect((await assignRole(h, other, ENCRYPTION_USER, '/keys/cmk')).status).toBe(201)
    expect((await rotate(h, other)).status).toBe(403)
    expect((await assignRole(h, other, CRYPTO_USER, '/keys/cmk')).status).toBe(201)
    expect((await rotate(h, other)).status).toBe(200)
    expect(await versions(h)).toHaveLength(2)
  })
})
