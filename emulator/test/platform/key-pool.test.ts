/**
 * The key pool (1024-bit keys where the size does not matter, for speed): real RSA keys generated ahead of time and kept in a folder, none handed out twice
 * by one pool; a second pool on the folder hands out the same keys without generating them again.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import { createPublicKey, privateDecrypt, publicEncrypt, type KeyObject } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { KeyPool, keyPool, useKeyPool } from '../../src/core/key-pool.js'
import { loadOrCreateSigningKey } from '../../src/core/signing-key.js'
import { generateKeyMaterial, generateKeyMaterialSync } from '../../src/model/key-material.js'

let dir: string
let folders = 0
/** A folder of its own for each pool under test. */
const folder = () => join(dir, `pool-${++folders}`)

const modulusOf = (key: KeyObject) => createPublicKey(key).export({ format: 'jwk' }).n

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'key-pool-test-'))
})

afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
})

describe('a key pool', () => {
  it('hands out real RSA keys of the size asked for, exponent 65537, each once', async () => {
    const pool = new KeyPool(folder())
    const keys = [pool.rsaKeySync(1024), await pool.rsaKey(1024), pool.rsaKeySync(1024, 'signing')]
    for (const key of keys) {
      expect(key.asymmetricKeyType).toBe('rsa')
      expect(key.asymmetricKeyDetails).toMatchObject({
        modulusLength: 1024,
        publicExponent: 65537n
      })
      // A working key pair: what its public half encrypts, its private half decrypts.
      const secret = Buffer.from('wrapped')
      expect(privateDecrypt(key, publicEncrypt(createPublicKey(key), secret))).toEqual(secret)
    }
    expect(new Set(keys.map(modulusOf)).size).toBe(3)
    expect(pool.handedOut(1024)).toBe(2)
    expect(pool.handedOut(1024, 'signing')).toBe(1)
  })

  it('hands out keys asked for at the same time apart', async () => {
    const pool = new KeyPool(folder())
    const keys = await Promise.all([pool.rsaKey(1024), pool.rsaKey(1024), pool.rsaKey(1024)])
    expect(new Set(keys.map(modulusOf)).size).toBe(3)
  })

  it('keeps its keys in the folder, where another pool finds them in the same order', async () => {
    const path = folder()
    const first = new KeyPool(path)
    const made = [first.rsaKeySync(1024), await first.rsaKey(1024)]
    expect(readdirSync(path).sort()).toEqual(['key-rsa-1024-0.pem', 'key-rsa-1024-1.pem'])
    const second = new KeyPool(path)
    const again = [await second.rsaKey(1024), second.rsaKeySync(1024)]
    expect(again.map(modulusOf)).toEqual(made.map(modulusOf))
    // Past the keys the folder holds, new ones.
    const third = second.rsaKeySync(1024)
    expect(made.map(modulusOf)).not.toContain(modulusOf(third))
    expect(readdirSync(path)).toHaveLength(3)
  })

  it('replaces what is not an RSA key of that size with a new key', () => {
    const path = folder()
    const pool = new KeyPool(path)
    pool.rsaKeySync(1024)
    const file = join(path, 'key-rsa-1024-0.pem')
    const original = readFileSync(file, 'utf8')
    for (const content of ['not a key', original.slice(0, 200)]) {
      writeFileSync(file, content)
      const key = new KeyPool(path).rsaKeySync(1024)
      expect(key.asymmetricKeyDetails?.modulusLength).toBe(1024)
      expect(readFileSync(file, 'utf8')).not.toBe(content)
    }
    // A key of another size at that place is not taken for a 2048-bit one either.
    writeFileSync(join(path, 'key-rsa-2048-0.pem'), readFileSync(file))
    expect(new KeyPool(path).rsaKeySync(2048).asymmetricKeyDetails?.modulusLength).toBe(2048)
  })

  it('refuses a purpose that could name another file', () => {
    expect(() => new KeyPool(folder()).rsaKeySync(1024, '../key')).toThrow(/purpose/)
  })
})

describe('the pool in use', () => {
  const before = keyPool()
  afterEach(() => {
    useKeyPool(before)
  })

  it('gives HSM keys and the signing keys of a new state folder from the pool', async () => {
    const path = folder()
    useKeyPool(path)
    const pool = keyPool()!
    const rsa = [
      generateKeyMaterialSync({ kty: 'RSA-HSM', size: 2048 }),
      await generateKeyMaterial({ kty: 'RSA-HSM', size: 2048 })
    ]
    expect(new Set(rsa.map(m => m.n)).size).toBe(2)
    expect(pool.handedOut(2048)).toBe(2)
    // EC keys are cheap to generate: never from the pool.
    const ec = await generateKeyMaterial({ kty: 'EC-HSM', curve: 'P-256' })
    expect(ec.x).toBeDefined()
    const stateDir = join(path, 'state')
    const signing = loadOrCreateSigningKey(stateDir, 'entra-signing-key.pem')
    expect(pool.handedOut(2048, 'signing')).toBe(1)
    expect(signing.jwk.n).toBe(modulusOf(new KeyPool(path).rsaKeySync(2048, 'signing')))
    // Kept in the state folder: the next start reads it there and takes nothing from the pool.
    expect(loadOrCreateSigningKey(stateDir, 'entra-signing-key.pem').kid).toBe(signing.kid)
    expect(pool.handedOut(2048, 'signing')).toBe(1)
  })

  it('generates every key again once the pool is put away', async () => {
    const path = folder()
    useKeyPool(path)
    useKeyPool(undefined)
    expect(keyPool()).toBeUndefined()
    await generateKeyMaterial({ kty: 'RSA-HSM', size: 2048 })
    expect(readdirSync(path)).toEqual([])
  })
})
