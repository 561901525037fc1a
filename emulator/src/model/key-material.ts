import {
  constants,
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  generateKeyPairSync,
  privateDecrypt,
  publicEncrypt,
  type KeyObject
} from 'node:crypto'
import { promisify } from 'node:util'
import type { EcCurve } from '../core/world.js'
import { keyPool } from '../core/key-pool.js'

const generateKeyPairAsync = promisify(generateKeyPair)

/** What a key is: RSA of a modulus size, or EC on a curve. */
export type KeyShape = { kty: 'RSA-HSM'; size: number } | { kty: 'EC-HSM'; curve: EcCurve }

/** Generated key material: the private key and the public JWK fields. */
export interface KeyMaterial {
  /** PKCS#8 PEM of the private key. */
  privateKeyPem: string
  /** RSA modulus and public exponent, base64url. */
  n?: string
  e?: string
  /** EC public point, base64url. */
  x?: string
  y?: string
}

export const RSA_KEY_SIZES = [2048, 3072, 4096]

/** Managed HSM's curves: Node's name for each and its size in bits. */
export const EC_CURVES: Record<EcCurve, { nodeName: string; bits: number }> = {
  'P-256': { nodeName: 'prime256v1', bits: 256 },
  'P-384': { nodeName: 'secp384r1', bits: 384 },
  'P-521': { nodeName: 'secp521r1', bits: 521 },
  'P-256K': { nodeName: 'secp256k1', bits: 256 }
}

export function isEcCurve(value: unknown): value is EcCurve {
  return typeof value === 'string' && value in EC_CURVES
}

function material(privateKey: KeyObject): KeyMaterial {
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' })
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
  return jwk.kty === 'EC'
    ? { privateKeyPem: pem, x: jwk.x, y: jwk.y }
    : { privateKeyPem: pem, n: jwk.n, e: jwk.e }
}

/**
 * Real key material of the given shape, generated off the event loop (an RSA key comes from the
 * key pool instead when one is in use: see useKeyPool).
 */
export async function generateKeyMaterial(shape: KeyShape): Promise<KeyMaterial> {
  const pool = keyPool()
  if (shape.kty === 'RSA-HSM' && pool) return material(await pool.rsaKey(shape.size))
  const { privateKey } =
    shape.kty === 'EC-HSM'
      ? await generateKeyPairAsync('ec', { namedCurve: EC_CURVES[shape.curve].nodeName })
      : await generateKeyPairAsync('rsa', { modulusLength: shape.size })
  return material(privateKey)
}

/** The synchronous variant, for seeding the world at start-up. */
export function generateKeyMaterialSync(shape: KeyShape): KeyMaterial {
  const pool = keyPool()
  if (shape.kty === 'RSA-HSM' && pool) return material(pool.rsaKeySync(shape.size))
  const { privateKey } =
    shape.kty === 'EC-HSM'
      ? generateKeyPairSync('ec', { namedCurve: EC_CURVES[shape.curve].nodeName })
      : generateKeyPairSync('rsa', { modulusLength: shape.size })
  return material(privateKey)
}

const WRAP_ALGORITHMS = ['RSA-OAEP', 'RSA-OAEP-256', 'RSA1_5'] as const
type WrapAlgorithm = (typeof WRAP_ALGORITHMS)[number]

export function isWrapAlgorithm(alg: unknown): alg is WrapAlgorithm {
  return typeof alg === 'string' && (WRAP_ALGORITHMS as readonly string[]).includes(alg)
}

function padding(alg: WrapAlgorithm): { padding: number; oaepHash?: string } {
  if (alg === 'RSA1_5') return { padding: constants.RSA_PKCS1_PADDING }
  return {
    padding: constants.RSA_PKCS1_OAEP_PADDING,
    oaepHash: alg === 'RSA-OAEP-256' ? 'sha256' : 'sha1'
  }
}

/** Encrypts with the public half of an RSA key held as PKCS#8 PEM. Throws on oversize input. */
export function rsaWrap(privateKeyPem: string, alg: WrapAlgorithm, plaintext: Buffer): Buffer {
  return publicEncrypt({ key: createPublicKey(privateKeyPem), ...padding(alg) }, plaintext)
}

/** Decrypts with the private key. Throws when the ciphertext does not decrypt. */
export function rsaUnwrap(privateKeyPem: string, alg: WrapAlgorithm, ciphertext: Buffer): Buffer {
  const key = createPrivateKey(privateKeyPem)
  if (alg !== 'RSA1_5') return privateDecrypt({ key, ...padding(alg) }, ciphertext)
  try {
    return privateDecrypt({ key, padding: constants.RSA_PKCS1_PADDING }, ciphertext)
  } catch (e) {
    // Node builds without implicit rejection refuse PKCS#1 v1.5 decryption; undo the padding here.
    const raw = privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, ciphertext)
    const end = raw.indexOf(0, 2)
    if (raw[0] !== 0 || raw[1] !== 2 || end < 10) throw e
    return raw.subarray(end + 1)
  }
}
