import { constants, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto'
import { describe, expect, it } from '@jest/globals'
import { hsmService } from '../../src/services/hsm/index.js'
import { DEPLOYER, READER } from './test-tenant.js'
import { Harness } from './harness.js'
import { CRYPTO_USER, HSM_HOST, assignRole, hsmCall, seedHsm } from './hsm-fixtures.js'

async function userWithCryptoRole(h: Harness): Promise<void> {
  const res = await assignRole(h, DEPLOYER, CRYPTO_USER, '/keys')
  expect(res.status).toBe(201)
}

describe('Managed HSM keys', () => {
  it('refuses key operations until the caller holds a role, honouring propagation', async () => {
    const h = new Harness({ rbacPropagation: 60_000 })
    seedHsm(h)
    const create = () =>
      hsmCall(h, {
        method: 'POST',
        path: '/keys/cmk/create',
        body: { kty: 'RSA-HSM', key_size: 2048 }
      })
    const denied = await create()
    expect(denied.status).toBe(403)
    expect(denied.json.error.code).toBe('AccessDenied')
    expect(denied.json.error.message).toMatch(
      /^Not authorized to access Microsoft\.KeyVault\/managedHsm\/keys\/create on \/keys\/cmk \(Activity ID: [0-9a-f-]{36}\)$/
    )
    await userWithCryptoRole(h)
    expect((await create()).status).toBe(403)
    h.advance(59_999)
    expect((await create()).status).toBe(403)
    h.advance(1)
    expect((await create()).status).toBe(200)
  })

  it('creates RSA-HSM keys with real material, new versions on re-create, and reads them back', async () => {
    const h = new Harness()
    seedHsm(h)
    await userWithCryptoRole(h)
    const first = await hsmCall(h, {
      method: 'POST',
      path: '/keys/cmk/create',
      body: {
        kty: 'RSA-HSM',
        key_size: 3072,
        key_ops: ['wrapKey', 'unwrapKey'],
        attributes: {},
        tags: { use: 'cosmos' }
      }
    })
    expect(first.status).toBe(200)
    expect(first.json.key).toMatchObject({
      kty: 'RSA-HSM',
      key_ops: ['wrapKey', 'unwrapKey'],
      e: 'AQAB'
    })
    expect(first.json.key.kid).toMatch(
      /^https:\/\/testhsm\.managedhsm\.azure\.net\/keys\/cmk\/[0-9a-f]{32}$/
    )
    expect(Buffer.from(first.json.key.n, 'base64url')).toHaveLength(384)
    expect(first.json.attributes).toMatchObject({
      enabled: true,
      recoveryLevel: 'CustomizedRecoverable',
      recoverableDays: 7,
      exportable: false
    })
    expect(first.json.tags).toEqual({ use: 'cosmos' })

    const latest = await hsmCall(h, { method: 'GET', path: '/keys/cmk/' })
    expect(latest.json.key.kid).toBe(first.json.key.kid)

    const second = await hsmCall(h, {
      method: 'POST',
      path: '/keys/CMK/create',
      body: { kty: 'RSA' }
    })
    expect(second.status).toBe(200)
    expect(second.json.key.kty).toBe('RSA-HSM')
    expect(second.json.key.key_ops).toEqual([
      'wrapKey',
      'decrypt',
      'encrypt',
      'unwrapKey',
      'sign',
      'verify'
    ])
    expect(second.json.key.kid).not.toBe(first.json.key.kid)
    expect((await hsmCall(h, { method: 'GET', path: '/keys/cmk' })).json.key.kid).toBe(
      second.json.key.kid
    )

    const firstVersion = first.json.key.kid.split('/').pop()
    const old = await hsmCall(h, { method: 'GET', path: `/keys/cmk/${firstVersion}` })
    expect(old.json.key.n).toBe(first.json.key.n)

    const versions = await hsmCall(h, { method: 'GET', path: '/keys/cmk/versions' })
    expect(versions.json.value.map((v: { kid: string }) => v.kid)).toEqual([
      first.json.key.kid,
      second.json.key.kid
    ])
    const list = await hsmCall(h, { method: 'GET', path: '/keys' })
    expect(list.json.value).toEqual([
      expect.objectContaining({ kid: 'https://testhsm.managedhsm.azure.net/keys/cmk' })
    ])
  })

  it('wraps and unwraps with the real key for every RSA algorithm', async () => {
    const h = new Harness()
    seedHsm(h, { keys: [{ name: 'cmk', size: 2048 }] })
    await userWithCryptoRole(h)
    const bundle = (await hsmCall(h, { method: 'GET', path: '/keys/cmk' })).json
    const version = bundle.key.kid.split('/').pop()
    const publicKey = createPublicKey({
      key: { kty: 'RSA', n: bundle.key.n, e: bundle.key.e },
      format: 'jwk'
    })
    for (const alg of ['RSA-OAEP', 'RSA-OAEP-256', 'RSA1_5']) {
      const secret = randomBytes(32)
      const wrapped = await hsmCall(h, {
        method: 'POST',
        path: `/keys/cmk/${version}/wrapkey`,
        body: { alg, value: secret.toString('base64url') }
      })
      expect(wrapped.status).toBe(200)
      expect(wrapped.json.kid).toBe(bundle.key.kid)
      expect(Buffer.from(wrapped.json.value, 'base64url')).toHaveLength(256)
      const unwrapped = await hsmCall(h, {
        method: 'POST',
        path: `/keys/cmk/${version}/unwrapkey`,
        body: { alg, value: wrapped.json.value }
      })
      expect(unwrapped.status).toBe(200)
      expect(Buffer.from(unwrapped.json.value, 'base64url')).toEqual(secret)
    }
    // a client-side wrap with the public key unwraps in the HSM; a versionless path uses the latest
    const secret = randomBytes(32)
    const local = publicEncrypt(
      { key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      secret
    )
    const res = await hsmCall(h, {
      method: 'POST',
      path: '/keys/cmk/unwrapkey',
      body: { alg: 'RSA-OAEP-256', value: local.toString('base64url') }
    })
    expect(Buffer.from(res.json.value, 'base64url')).toEqual(secret)
    const garbage = await hsmCall(h, {
      method: 'POST',
      path: `/keys/cmk/${version}/unwrapkey`,
      body: { alg: 'RSA-OAEP-256', value: randomBytes(256).toString('base64url') }
    })
    expect(garbage.status).toBe(400)
  })

  it('refuses unusable keys and bad parameters', async () => {
    const h = new Harness()
    seedHsm(h, {
      keys: [
        { name: 'off', size: 2048, enabled: false },
        { name: 'old', size: 2048, expires: '2020-01-01T00:00:00Z' },
        { name: 'signonly', size: 2048, ops: ['sign', 'verify'] }
      ]
    })
    await userWithCryptoRole(h)
    const wrap = (name: string, alg = 'RSA-OAEP-256') =>
      hsmCall(h, { method: 'POST', path: `/keys/${name}/wrapkey`, body: { alg, value: 'AAAA' } })
    const off = await wrap('off')
    expect(off.status).toBe(403)
    expect(off.json.error.message).toBe('Operation "wrapKey" is not allowed on a disabled key.')
    expect((await wrap('old')).json.error.message).toContain('expired')
    expect((await wrap('signonly')).json.error.message).toContain('not permitted')
    expect((await wrap('off', 'A256KW')).status).toBe(400)
    const missing = await hsmCall(h, { method: 'GET', path: '/keys/absent' })
    expect(missing.status).toBe(404)
    expect(missing.json.error.code).toBe('KeyNotFound')
    expect(missing.json.error.message).toMatch(
      /^A key with \(name\/id\) absent was not found in this key vault\./
    )
    const create = (name: string, body: unknown) =>
      hsmCall(h, { method: 'POST', path: `/keys/${name}/create`, body })
    expect((await create('k1', { kty: 'RSA-HSM', key_size: 1024 })).status).toBe(400)
    expect((await create('k1', { kty: 'EC-HSM' })).status).toBe(400)
    expect((await create('k1', { kty: 'RSA-HSM', key_ops: ['fly'] })).status).toBe(400)
    expect((await create('bad_name', { kty: 'RSA-HSM' })).status).toBe(400)
    expect((await create('k1', 'not json')).status).toBe(400)
  })

  it('answers for the HSM only once it exists, is provisioned and is activated', async () => {
    const h = new Harness()
    const none = await h.call(hsmService, {
      method: 'GET',
      path: '/keys',
      host: 'ghost.managedhsm.azure.net'
    })
    expect(none.status).toBe(404)
    seedHsm(h, { activationStatus: 'NotActivated' })
    const keys = await hsmCall(h, { method: 'GET', path: '/keys' })
    expect(keys.status).toBe(403)
    expect(keys.json.error.code).toBe('HSMNotActivated')
    expect(keys.json.error.message).toContain('security domain')
    const rbac = await hsmCall(h, {
      method: 'GET',
      path: '/providers/Microsoft.Authorization/roleAssignments'
    })
    expect(rbac.json.error.code).toBe('HSMNotActivated')
    const hsm = Object.values(h.world.managedHsms)[0]!
    hsm.provisioningState = 'Provisioning'
    hsm.provisionedAt = h.now + 1_000
    expect((await hsmCall(h, { method: 'GET', path: '/keys' })).status).toBe(503)
  })

  it('requires an api-version and names what is not emulated', async () => {
    const h = new Harness()
    seedHsm(h)
    expect((await hsmCall(h, { method: 'GET', path: '/keys', apiVersion: null })).status).toBe(400)
    const rng = await hsmCall(h, { method: 'POST', path: '/rng', body: { count: 8 } })
    expect(rng.status).toBe(501)
    expect(rng.json.error.message).toContain(`POST /rng on ${HSM_HOST}`)
    expect((await hsmCall(h, { method: 'GET', path: '/keys', as: READER })).status).toBe(403)
  })
})
