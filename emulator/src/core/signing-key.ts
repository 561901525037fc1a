import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { keyIdOf } from './jwt.js'
import { keyPool } from './key-pool.js'
import { readStateFile, writeStateFile } from './state-dir.js'

/** An RSA key that signs tokens (Entra access tokens, GitHub ID tokens), kept in the state folder. */
export interface SigningKey {
  kid: string
  privateKey: KeyObject
  publicKey: KeyObject
  /** The public key as a JWKS entry. */
  jwk: Record<string, unknown>
}

export function loadOrCreateSigningKey(stateDir: string, fileName: string): SigningKey {
  const pem = readStateFile(stateDir, fileName)
  let privateKey: KeyObject | undefined
  if (pem) {
    try {
      privateKey = createPrivateKey(pem)
    } catch {
      privateKey = undefined
    }
  }
  if (!privateKey || privateKey.asymmetricKeyType !== 'rsa') {
    privateKey =
      keyPool()?.rsaKeySync(2048, 'signing') ??
      generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
    writeStateFile(
      stateDir,
      fileName,
      privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      0o600
    )
  }
  const publicKey = createPublicKey(privateKey)
  const kid = keyIdOf(publicKey)
  const { n, e } = publicKey.export({ format: 'jwk' })
  return {
    kid,
    privateKey,
    publicKey,
    jwk: { kty: 'RSA', use: 'sig', alg: 'RS256', kid, x5t: kid, n, e }
  }
}
