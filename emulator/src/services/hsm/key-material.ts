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

const generateKeyPairAsync = promisify(generateKeyPair)

export interface RsaMaterial {
  /** PKCS#8 PEM of the private key. */
  privateKeyPem: string
  /** Modulus and public exponent, base64url, as in a JWK. */
  n: string
  e: string
}

export const RSA_KEY_SIZES = [2048, 3072, 4096]

function material(privateKey: KeyObject): RsaMaterial {
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' })
  return {
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    n: jwk.n as string,
    e: jwk.e as string
  }
}

/** Real RSA key material, generated off the event loop. */
export async function generateRsa(bits: number): Promise<RsaMaterial> {
  const { privateKey } = await generateKeyPairAsync('rsa', { modulusLength: bits })
  return material(privateKey)
}

/** The synchronous variant, for seeding the world at start-up. */
export function generateRsaSync(bits: number): RsaMaterial {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: bits })
  return material(privateKey)
}

export const WRAP_ALGORITHMS = ['RSA-OAEP', 'RSA-OAEP-256', 'RSA1_5'] as const
export type WrapAlgorithm = (typeof WRAP_ALGORITHMS)[number]

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
