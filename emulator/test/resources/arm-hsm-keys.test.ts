import { constants, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto'
import { describe, expect, it } from '@jest/globals'
import { armService } from '../../src/services/arm/index.js'
import { DEPLOYER, READER, SUB } from './test-tenant.js'
import { hsmPath } from './arm-paths.js'
import { Harness } from './harness.js'
import { CRYPTO_USER, HSM, assignRole, hsmCall, seedHsm } from './hsm-fixtures.js'

const TRUST = 'AllowKeyManagementOperationsThroughARM'
const keysPath = (name = HSM) => `${hsmPath(name)}/keys`
const keyPath = (key = 'cmk') => `${keysPath()}/${key}`
const RSA_KEY = { properties: { kty: 'RSA-HSM', keySize: 3072, keyOps: ['wrapKey', 'unwrapKey'] } }

/** An HSM that trusts ARM, with the deployer as Managed HSM Crypto User on `/keys`. */
async function trustingHsm(h: Harness): Promise<void> {
  seedHsm(h, { settings: { [TRUST]: true } })
  expect((await assignRole(h, DEPLOYER, CRYPTO_USER, '/keys')).status).toBe(201)
}

function createKey(h: Harness, body: unknown = RSA_KEY, as?: string, key = 'cmk') {
  return h.call(armService, { method: 'PUT', path: keyPath(key), body, ...(as ? { as } : {}) })
}

function get(h: Harness, path: string, as?: string) {
  return h.call(armService, { method: 'GET', path, ...(as ? { as } : {}) })
}

describe('Microsoft.KeyVault/managedHSMs/keys through ARM', () => {
  it('refuses until an HSM administrator lets ARM manage keys (AllowKeyManagementOperationsThroughARM)', async () => {
    const h = new Harness()
    seedHsm(h)
    expect((await assignRole(h, DEPLOYER, CRYPTO_USER, '/keys')).status).toBe(201)
    const refused = await createKey(h)
    expect(refused.status).toBe(400)
    expect(refused.json.error.code).toBe('BadRequest')
    expect(refused.json.error.message).toContain(`enable the setting '${TRUST}'`)
    expect(h.world.hsmDataPlanes[HSM]!.keys).toEqual({})

    const setting = `/settings/${TRUST}`
    expect((await hsmCall(h, { method: 'GET', path: setting })).json).toEqual({
      name: TRUST,
      value: 'false',
      type: 'boolean'
    })
    const enabled = await hsmCall(h, { method: 'PATCH', path: setting, body: { value: 'true' } })
    expect(enabled.status).toBe(200)
    expect(enabled.json).toEqual({ name: TRUST, value: 'true', type: 'boolean' })
    expect((await createKey(h)).status).toBe(200)
  })

  it('creates the first version with real RSA material, the same key the data plane serves', async () => {
    const h = new Harness()
    await trustingHsm(h)
    const created = await createKey(h, { ...RSA_KEY, tags: { use: 'cosmos' } })
    expect(created.status).toBe(200)
    const version = created.json.properties.keyUriWithVersion.split('/').pop()
    expect(created.json).toEqual({
      id: `${hsmPath(HSM)}/keys/cmk`,
      name: 'cmk',
      type: 'Microsoft.KeyVault/managedHSMs/keys',
      tags: { use: 'cosmos' },
      properties: {
        attributes: {
          enabled: true,
          created: Math.floor(h.now / 1000),
          updated: Math.floor(h.now / 1000),
          recoveryLevel: 'CustomizedRecoverable',
          exportable: false
        },
        kty: 'RSA-HSM',
        keyOps: ['wrapKey', 'unwrapKey'],
        keySize: 3072,
        keyUri: `https://${HSM}.managedhsm.azure.net:443/keys/cmk`,
        keyUriWithVersion: `https://${HSM}.managedhsm.azure.net:443/keys/cmk/${version}`
      }
    })
    expect(version).toMatch(/^[0-9a-f]{32}$/)

    const bundle = await hsmCall(h, { method: 'GET', path: '/keys/cmk' })
    expect(bundle.json.key.kid).toBe(`https://${HSM}.managedhsm.azure.net/keys/cmk/${version}`)
    expect(Buffer.from(bundle.json.key.n, 'base64url')).toHaveLength(384)
    // what the public key wraps, the HSM unwraps: real key material
    const secret = randomBytes(32)
    const wrapped = publicEncrypt(
      {
        key: createPublicKey({
          key: { kty: 'RSA', n: bundle.json.key.n, e: bundle.json.key.e },
          format: 'jwk'
        }),
        padding: constants.RSA_PKCS1_OAEP_PADDING,
        oaepHash: 'sha256'
      },
      secret
    )
    const unwrapped = await hsmCall(h, {
      method: 'POST',
      path: `/keys/cmk/${version}/unwrapkey`,
      body: { alg: 'RSA-OAEP-256', value: wrapped.toString('base64url') }
    })
    expect(Buffer.from(unwrapped.json.value, 'base64url')).toEqual(secret)
  })

  it('answers an existing key as it is and never adds a version', async () => {
    const h = new Harness()
    await trustingHsm(h)
    const first = await createKey(h)
    h.advance(60_000)
    const again = await createKey(h, {
      properties: { kty: 'RSA', keySize: 4096 },
      tags: { x: 'y' }
    })
    expect(again.status).toBe(200)
    expect(again.json).toEqual(first.json)
    expect(h.world.hsmDataPlanes[HSM]!.keys.cmk!.versions).toHaveLength(1)

    // a version the data plane adds becomes the current one, and ARM still adds none
    const rotated = await hsmCall(h, {
      method: 'POST',
      path: '/keys/cmk/create',
      body: { kty: 'RSA-HSM', key_size: 2048 }
    })
    const third = await createKey(h)
    expect(third.json.properties.keyUriWithVersion).toBe(
      rotated.json.key.kid.replace('.net/', '.net:443/')
    )
    expect(third.json.properties.keySize).toBe(2048)
    expect(h.world.hsmDataPlanes[HSM]!.keys.cmk!.versions).toHaveLength(2)
  })

  it('ends concurrent creations of one new key with exactly one version', async () => {
    const h = new Harness()
    await trustingHsm(h)
    const answers = await Promise.all([createKey(h), createKey(h), createKey(h)])
    expect(answers.map(a => a.status)).toEqual([200, 200, 200])
    const versions = h.world.hsmDataPlanes[HSM]!.keys.cmk!.versions
    expect(versions).toHaveLength(1)
    for (const a of answers) {
      expect(a.json.properties.keyUriWithVersion).toMatch(new RegExp(`/${versions[0]!.version}$`))
    }
  })

  it('gets the current version, one version, and lists keys and versions', async () => {
    const h = new Harness()
    await trustingHsm(h)
    const first = (await createKey(h)).json.properties.keyUriWithVersion.split('/').pop()
    await createKey(h, RSA_KEY, undefined, 'other')
    const second = (
      await hsmCall(h, { method: 'POST', path: '/keys/cmk/create', body: { kty: 'RSA' } })
    ).json.key.kid
      .split('/')
      .pop()

    const current = await get(h, keyPath())
    expect(current.status).toBe(200)
    expect(current.json.properties.keyUriWithVersion).toMatch(new RegExp(`/${second}$`))

    const old = await get(h, `${keyPath()}/versions/${first}`)
    expect(old.status).toBe(200)
    expect(old.json).toMatchObject({
      id: `${hsmPath(HSM)}/keys/cmk/versions/${first}`,
      name: first,
      type: 'Microsoft.KeyVault/managedHSMs/keys/versions',
      properties: { kty: 'RSA-HSM', keySize: 3072 }
    })

    const versions = await get(h, `${keyPath()}/versions`)
    expect(versions.json.value.map((v: { name: string }) => v.name)).toEqual([first, second])
    expect(Object.keys(versions.json.value[0].properties).sort()).toEqual([
      'attributes',
      'keyUri',
      'keyUriWithVersion'
    ])

    const keys = await get(h, keysPath())
    expect(keys.json.value.map((k: { name: string }) => k.name).sort()).toEqual(['cmk', 'other'])
    expect(Object.keys(keys.json.value[0].properties).sort()).toEqual(['attributes', 'keyUri'])
  })

  it('reports a seeded EC key as EC-HSM on its curve', async () => {
    const h = new Harness()
    seedHsm(h, {
      settings: { [TRUST]: true },
      keys: [{ name: 'signing', kty: 'EC-HSM', curve: 'P-384' }]
    })
    await assignRole(h, DEPLOYER, CRYPTO_USER, '/keys')
    const key = await get(h, keyPath('signing'))
    expect(key.status).toBe(200)
    expect(key.json.properties).toMatchObject({
      kty: 'EC-HSM',
      curveName: 'P-384',
      keyOps: ['sign', 'verify']
    })
    expect(key.json.properties.keySize).toBeUndefined()
    const bundle = await hsmCall(h, { method: 'GET', path: '/keys/signing' })
    expect(bundle.json.key).toMatchObject({ kty: 'EC-HSM', crv: 'P-384' })
    expect(Buffer.from(bundle.json.key.x, 'base64url')).toHaveLength(48)
    expect(bundle.json.key.n).toBeUndefined()
  })
})

describe('authorization of Microsoft.KeyVault/managedHSMs/keys', () => {
  it('needs the ARM action: keys/write to create, keys/read and keys/versions/read to read', async () => {
    const h = new Harness()
    await trustingHsm(h)
    const denied = await createKey(h, RSA_KEY, READER)
    expect(denied.status).toBe(403)
    expect(denied.json.error).toEqual({
      code: 'AuthorizationFailed',
      message: expect.stringContaining(
        `action 'Microsoft.KeyVault/managedHSMs/keys/write' over scope '${keyPath()}'`
      )
    })
    // Reader passes ARM (*/read) but holds no local role: the HSM refuses on its behalf
    await createKey(h)
    const read = await get(h, keyPath(), READER)
    expect(read.status).toBe(400)
    expect(read.json.error.code).toBe('AccessDenied')
    expect(read.json.error.message).toMatch(
      /^\[AccessDenied \(Forbidden\)\] Not authorized to access Microsoft\.KeyVault\/managedHsm\/keys\/read\/action on \/keys\/cmk \(Activity ID: [0-9a-f-]{36}\)$/
    )
  })

  it("checks the caller's local RBAC, with propagation, as the data plane does", async () => {
    const h = new Harness({ rbacPropagation: 60_000 })
    seedHsm(h, { settings: { [TRUST]: true } })
    // the initial administrator manages roles, not keys
    const admin = await createKey(h)
    expect(admin.status).toBe(400)
    expect(admin.json.error.message).toContain('managedHsm/keys/create on /keys/cmk')
    await assignRole(h, DEPLOYER, CRYPTO_USER, '/keys/cmk')
    expect((await createKey(h)).json.error.code).toBe('AccessDenied')
    h.advance(60_000)
    expect((await createKey(h)).status).toBe(200)
  })

  it('answers missing parents, keys and versions, bad bodies and unusable HSMs', async () => {
    const h = new Harness()
    await trustingHsm(h)
    const noHsm = await get(h, `${keysPath('nohsm')}/cmk`)
    expect(noHsm.status).toBe(404)
    expect(noHsm.json.error).toEqual({
      code: 'ParentResourceNotFound',
      message:
        "Can not perform requested operation on nested resource. Parent resource 'nohsm' not found."
    })
    const noKey = await get(h, keyPath('none'))
    expect(noKey.status).toBe(404)
    expect(noKey.json.error.code).toBe('KeyNotFound')
    await createKey(h)
    expect((await get(h, `${keyPath()}/versions/${'0'.repeat(32)}`)).status).toBe(404)
    expect((await get(h, `${keyPath('none')}/versions`)).status).toBe(404)

    expect((await createKey(h, '', undefined, 'k1')).json.error.code).toBe('InvalidRequestContent')
    for (const body of [
      { properties: { kty: 'oct-HSM' } },
      { properties: { kty: 'EC-HSM', curveName: 'P-256' } },
      { properties: { kty: 'RSA', keySize: 1024 } },
      { properties: { kty: 'RSA', keyOps: ['fly'] } },
      { properties: { kty: 'RSA', attributes: { exportable: true } } },
      { properties: { kty: 'RSA', rotationPolicy: { lifetimeActions: [] } } },
      { tags: { a: 'b' } }
    ]) {
      const res = await createKey(h, body, undefined, 'k1')
      expect({ body, status: res.status, code: res.json.error.code }).toEqual({
        body,
        status: 400,
        code: 'BadRequest'
      })
    }
    expect(h.world.hsmDataPlanes[HSM]!.keys.k1).toBeUndefined()
    expect((await createKey(h, RSA_KEY, undefined, 'bad_name')).status).toBe(400)

    h.world.subscriptions[SUB]!.providers['microsoft.keyvault']!.state = 'NotRegistered'
    expect((await createKey(h)).json.error.code).toBe('MissingSubscriptionRegistration')
  })

  it('passes on what an HSM that is not activated answers', async () => {
    const h = new Harness()
    seedHsm(h, { activationStatus: 'NotActivated', settings: { [TRUST]: true } })
    const res = await get(h, keyPath())
    expect(res.status).toBe(400)
    expect(res.json.error.code).toBe('HSMNotActivated')
    expect(res.json.error.message).toMatch(/^\[HSMNotActivated \(Forbidden\)\] /)
  })
})

describe('Managed HSM account settings (data plane)', () => {
  it('lists, reads and changes settings, for a Managed HSM Administrator only', async () => {
    const h = new Harness()
    seedHsm(h)
    expect((await hsmCall(h, { method: 'GET', path: '/settings' })).json).toEqual({
      settings: [{ name: TRUST, value: 'false', type: 'boolean' }]
    })
    const patch = (value: unknown, as?: string, name = TRUST) =>
      hsmCall(h, {
        method: 'PATCH',
        path: `/settings/${name}`,
        body: { value },
        ...(as ? { as } : {})
      })
    // the value is a lower-case string, as the service takes it
    for (const value of ['True', true, 1]) {
      expect((await patch(value)).json.error.code).toBe('BadParameter')
    }
    expect((await patch('true', undefined, 'NoSuchSetting')).json.error.code).toBe('BadParameter')
    // a Crypto User manages keys, not the HSM's settings
    await assignRole(h, READER, CRYPTO_USER, '/')
    const denied = await patch('true', READER)
    expect(denied.status).toBe(403)
    expect(denied.json.error.code).toBe('AccessDenied')
    expect(h.world.hsmDataPlanes[HSM]!.settings).toBeUndefined()
    expect((await patch('true')).status).toBe(200)
    expect(h.world.hsmDataPlanes[HSM]!.settings).toEqual({ [TRUST]: true })
    expect((await patch('false')).json.value).toBe('false')
  })
})
