/** Self-signed RSA certificates for security-domain activation, written as PEM files. */
import { createPublicKey, webcrypto } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { keyPool, loadX509 } from './emulator.js'

/** The certificates' keys and signatures: RSA 2048, PKCS #1 v1.5 with SHA-256. */
export const OFFICER_KEY_ALGORITHM = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: 2048
}

/** Writes `count` certificates valid from a minute ago for a year; answers their paths. */
export async function writeSecurityDomainCertificates(
  dir: string,
  count: number
): Promise<string[]> {
  const x509 = await loadX509()
  const paths: string[] = []
  for (let i = 0; i < count; i++) {
    const keys = await officerKeyPair()
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: `0${i + 1}`,
      name: `CN=security-domain-officer-${i + 1}`,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 365 * 24 * 3600_000),
      keys,
      signingAlgorithm: OFFICER_KEY_ALGORITHM
    })
    const path = join(dir, `sd-officer-${i + 1}.cer`)
    writeFileSync(path, cert.toString('pem'))
    paths.push(path)
  }
  return paths
}

/**
 * A new RSA key pair for a security-domain certificate: from the key pool when one is in use (see
 * useKeyPool), else generated.
 */
export async function officerKeyPair(): Promise<webcrypto.CryptoKeyPair> {
  const subtle = webcrypto.subtle
  const pooled = await keyPool()?.rsaKey(OFFICER_KEY_ALGORITHM.modulusLength, 'officer')
  if (!pooled) {
    return (await subtle.generateKey(OFFICER_KEY_ALGORITHM, true, [
      'sign',
      'verify'
    ])) as webcrypto.CryptoKeyPair
  }
  const pkcs8 = pooled.export({ type: 'pkcs8', format: 'der' })
  const spki = createPublicKey(pooled).export({ type: 'spki', format: 'der' })
  return {
    privateKey: await subtle.importKey('pkcs8', pkcs8, OFFICER_KEY_ALGORITHM, true, ['sign']),
    publicKey: await subtle.importKey('spki', spki, OFFICER_KEY_ALGORITHM, true, ['verify'])
  }
}
