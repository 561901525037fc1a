import { constants, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto'
import { beforeAll, describe, expect, it } from '@jest/globals'
import { CryptographyClient, KeyClient, type KeyVaultKey } from '@azure/keyvault-keys'
import {
  DEPLOYER_SP,
  FAST_TIMING,
  HSM_ROLES,
  SEEDED_HSM,
  TENANT,
  hsmDataPlane,
  rejection,
  useSdkEmulator
} from './helpers.js'

const HOST = `${SEEDED_HSM}.managedhsm.azure.net`
const VAULT_URL = `https://${HOST}`
const KEY_OPTIONS = {
  hsm: true,
  keySize: 3072,
  keyOps: ['wrapKey' as const, 'unwrapKey' as const]
}

const s = useSdkEmulator()
let keys: KeyClient
let first: KeyVaultKey
let second: KeyVaultKey

beforeAll(async () => {
  keys = new KeyClient(VAULT_URL, s.credential)
})

describe('@azure/keyvault-keys against Managed HSM over HTTPS through the proxy', () => {
  it('runs the 401 challenge, then is refused: the HSM administrator holds no key rights', async () => {
    const since = s.emulator.requests().at(-1)?.seq ?? 0
    const err = await rejection(keys.createRsaKey('cmk', KEY_OPTIONS))
    expect(err.statusCode).toBe(403)
    expect(err.code).toBe('AccessDenied')
    expect(err.message).toMatch(
      /^Not authorized to access Microsoft\.KeyVault\/managedHsm\/keys\/create on \/keys\/cmk/
    )
    const log = s.emulator.requests(since)
    const creates = log.filter(e => e.host === HOST)
    expect(creates.map(e => [e.method, e.path, e.status])).toEqual([
      ['POST', '/keys/cmk/create', 401],
      ['POST', '/keys/cmk/create', 403]
    ])
    expect(creates[1]!.principal).toBe(DEPLOYER_SP)
    // the token came from the authority the challenge named, for the HSM audience
    const tokenCall = log.find(e => e.host === 'login.microsoftonline.com')
    expect(tokenCall).toMatchObject({ path: `/${TENANT}/oauth2/v2.0/token`, status: 200 })
  })

  it('creates an RSA-HSM 3072 key only once the Crypto User assignment has propagated', async () => {
    const plane = hsmDataPlane(SEEDED_HSM, s.credential)
    const assigned = await plane.assignRole(
      '/keys',
      '6f1c1c2e-1111-4aaa-8bbb-000000000001',
      HSM_ROLES.cryptoUser,
      DEPLOYER_SP
    )
    expect(assigned.status).toBe(201)

    const early = await rejection(keys.createRsaKey('cmk', KEY_OPTIONS))
    expect(early.statusCode).toBe(403)
    expect(early.code).toBe('AccessDenied')

    s.emulator.advanceClock(FAST_TIMING.rbacPropagation as number)
    first = await keys.createRsaKey('cmk', KEY_OPTIONS)
    expect(first.name).toBe('cmk')
    expect(first.keyType).toBe('RSA-HSM')
    expect(first.keyOperations).toEqual(['wrapKey', 'unwrapKey'])
    expect(first.id).toMatch(new RegExp(`^${VAULT_URL}/keys/cmk/[0-9a-f]{32}$`))
    expect(Buffer.from(first.key!.n!)).toHaveLength(384)
    expect(Buffer.from(first.key!.e!)).toEqual(Buffer.from([1, 0, 1]))
    expect(first.properties).toMatchObject({
      enabled: true,
      vaultUrl: VAULT_URL,
      recoveryLevel: 'CustomizedRecoverable',
      recoverableDays: 7,
      exportable: false
    })
  })

  it('gets the latest version and a given version', async () => {
    second = await keys.createRsaKey('cmk', KEY_OPTIONS)
    expect(second.properties.version).not.toBe(first.properties.version)
    const latest = await keys.getKey('cmk')
    expect(latest.id).toBe(second.id)
    expect(Buffer.from(latest.key!.n!)).toEqual(Buffer.from(second.key!.n!))
    const byVersion = await keys.getKey('cmk', { version: first.properties.version! })
    expect(byVersion.id).toBe(first.id)
    expect(Buffer.from(byVersion.key!.n!)).toEqual(Buffer.from(first.key!.n!))
    // the SDK asks for the latest version with a trailing slash
    expect(
      s.emulator
        .requests()
        .filter(e => e.method === 'GET' && e.host === HOST)
        .map(e => e.path)
    ).toEqual(['/keys/cmk/', `/keys/cmk/${first.properties.version}`])
  })

  it('lists the versions of the key', async () => {
    const versions: string[] = []
    for await (const p of keys.listPropertiesOfKeyVersions('cmk')) {
      expect(p.name).toBe('cmk')
      expect(p.enabled).toBe(true)
      versions.push(p.version!)
    }
    expect(versions.sort()).toEqual([first.properties.version!, second.properties.version!].sort())
  })

  it('wraps and unwraps with RSA-OAEP-256 in the HSM: the unwrapped bytes equal the original', async () => {
    const since = s.emulator.requests().at(-1)?.seq ?? 0
    const crypto = new CryptographyClient(second, s.credential)
    const cek = randomBytes(32)
    const wrapped = await crypto.wrapKey('RSA-OAEP-256', cek)
    expect(wrapped.keyID).toBe(second.id)
    expect(wrapped.result).toHaveLength(384)
    expect(Buffer.from(wrapped.result).equals(cek)).toBe(false)
    const unwrapped = await crypto.unwrapKey('RSA-OAEP-256', wrapped.result)
    expect(Buffer.from(unwrapped.result)).toEqual(cek)
    const version = second.properties.version!
    expect(
      s.emulator
        .requests(since)
        .filter(e => e.host === HOST)
        .map(e => [e.path, e.status])
    ).toEqual([
      // a new client starts with its own challenge
      [`/keys/cmk/${version}/wrapkey`, 401],
      [`/keys/cmk/${version}/wrapkey`, 200],
      [`/keys/cmk/${version}/unwrapkey`, 200]
    ])
  })

  it('unwraps what anyone wrapped with the published public key', async () => {
    const publicKey = createPublicKey({
      key: {
        kty: 'RSA',
        n: Buffer.from(first.key!.n!).toString('base64url'),
        e: Buffer.from(first.key!.e!).toString('base64url')
      },
      format: 'jwk'
    })
    const cek = randomBytes(32)
    const wrapped = publicEncrypt(
      { key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      cek
    )
    const crypto = new CryptographyClient(first.id!, s.credential)
    const unwrapped = await crypto.unwrapKey('RSA-OAEP-256', wrapped)
    expect(Buffer.from(unwrapped.result)).toEqual(cek)
    // another version's private key cannot unwrap it
    const other = new CryptographyClient(second, s.credential)
    const err = await rejection(other.unwrapKey('RSA-OAEP-256', wrapped))
    expect(err.statusCode).toBe(400)
    expect(err.code).toBe('BadParameter')
  })

  it('refuses to wrap with a disabled key', async () => {
    const plane = s.emulator.store.world.hsmDataPlanes[SEEDED_HSM]!
    const version = plane.keys.cmk!.versions.at(-1)!
    version.enabled = false
    try {
      expect((await keys.getKey('cmk')).properties.enabled).toBe(false)
      const crypto = new CryptographyClient(second, s.credential)
      const err = await rejection(crypto.wrapKey('RSA-OAEP-256', randomBytes(32)))
      expect(err.statusCode).toBe(403)
      expect(err.code).toBe('Forbidden')
      expect(err.message).toBe('Operation "wrapKey" is not allowed on a disabled key.')
    } finally {
      version.enabled = true
    }
  })

  it('answers 404 KeyNotFound for a key that does not exist', async () => {
    const err = await rejection(keys.getKey('no-such-key'))
    expect(err.statusCode).toBe(404)
    expect(err.code).toBe('KeyNotFound')
    expect(err.message).toMatch(
      /^A key with \(name\/id\) no-such-key was not found in this key vault\./
    )
  })
})
