import { createPrivateKey, createPublicKey, webcrypto, type KeyObject } from 'node:crypto'
import { keyPool } from '../../src/core/key-pool.js'
import { loadX509 } from '../../src/tls/x509.js'

const algorithm = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: 2048
}

export interface TestCertificate {
  /** The JWK a security-domain download request carries for this certificate. */
  jwk: Record<string, unknown>
  privateKey: KeyObject
}

/** Self-signed RSA certificates, as `az keyvault security-domain download` expects them. */
export async function makeCertificates(count: number): Promise<TestCertificate[]> {
  const x509 = await loadX509()
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const keys = await keyPair()
      const cert = await x509.X509CertificateGenerator.createSelfSigned({
        serialNumber: `0${i + 1}`,
        name: `CN=security-domain-${i}`,
        notBefore: new Date(Date.now() - 3_600_000),
        notAfter: new Date(Date.now() + 86_400_000),
        signingAlgorithm: algorithm,
        keys
      })
      const publicJwk = await webcrypto.subtle.exportKey('jwk', keys.publicKey)
      const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey))
      return {
        jwk: {
          kid: `cert${i}`,
          kty: 'RSA',
          key_ops: ['verify', 'encrypt', 'wrapKey'],
          alg: 'RSA-OAEP-256',
          n: publicJwk.n,
          e: publicJwk.e,
          x5c: [Buffer.from(cert.rawData).toString('base64')],
          'x5t#S256': Buffer.from(await cert.getThumbprint('SHA-256')).toString('base64url')
        },
        privateKey: createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' })
      }
    })
  )
}

/** A new RSA key pair: from the key pool when one is in use (see useKeyPool), else generated. */
async function keyPair(): Promise<webcrypto.CryptoKeyPair> {
  const subtle = webcrypto.subtle
  const pooled = await keyPool()?.rsaKey(algorithm.modulusLength, 'officer')
  if (!pooled) {
    return (await subtle.generateKey(algorithm, true, [
      'sign',
      'verify'
    ])) as webcrypto.CryptoKeyPair
  }
  const pkcs8 = pooled.export({ type: 'pkcs8', format: 'der' })
  const spki = createPublicKey(pooled).export({ type: 'spki', format: 'der' })
  return {
    privateKey: await subtle.importKey('pkcs8', pkcs8, algorithm, true, ['sign']),
    publicKey: await subtle.importKey('spki', spki, algorithm, true, ['verify'])
  }
}
