import { createPrivateKey, webcrypto, type KeyObject } from 'node:crypto'
import { loadX509 } from '../../src/tls/x509.js'
import { OFFICER_KEY_ALGORITHM, officerKeyPair } from '../../../testkit/certificates.js'

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
      const keys = await officerKeyPair()
      const cert = await x509.X509CertificateGenerator.createSelfSigned({
        serialNumber: `0${i + 1}`,
        name: `CN=security-domain-${i}`,
        notBefore: new Date(Date.now() - 3_600_000),
        notAfter: new Date(Date.now() + 86_400_000),
        signingAlgorithm: OFFICER_KEY_ALGORITHM,
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
