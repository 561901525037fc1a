import { createHash, X509Certificate } from 'node:crypto'

/** A certificate as the security domain download wants it: an RSA JWK with its x5c chain. */
export interface SecurityDomainKey {
  kid: string
  kty: 'RSA'
  key_ops: string[]
  alg: 'RSA-OAEP-256'
  use: 'enc'
  n: string
  e: string
  x5c: string[]
  x5t: string
  'x5t#S256': string
}

export interface SecurityDomainCertificate {
  path: string
  subject: string
  jwk: SecurityDomainKey
}

const pemBlocks = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g

/** The smallest RSA modulus accepted for a security domain wrapping key. */
export const minSecurityDomainKeyBits = 2048

/**
 * Parses one PEM certificate, valid at `now`; throws an Error whose message says what is wrong
 * with the file.
 */
export function parseSecurityDomainCertificate(
  path: string,
  pem: string,
  now: Date = new Date()
): SecurityDomainCertificate {
  const blocks: string[] = pem.match(pemBlocks) ?? []
  const [first] = blocks
  if (first === undefined)
    throw new Error('it is not a PEM certificate (no BEGIN CERTIFICATE block)')
  if (blocks.length > 1) {
    throw new Error(
      `it holds ${blocks.length} certificates; give each certificate in a file of its own, so that each counts once`
    )
  }
  let cert: X509Certificate
  try {
    cert = new X509Certificate(first)
  } catch {
    throw new Error('its PEM block does not hold a valid X.509 certificate')
  }
  const keyType = cert.publicKey.asymmetricKeyType
  if (keyType !== 'rsa') {
    throw new Error(`its public key is ${keyType ?? 'unknown'}; the security domain needs RSA keys`)
  }
  const bits = cert.publicKey.asymmetricKeyDetails?.modulusLength ?? 0
  if (bits < minSecurityDomainKeyBits) {
    throw new Error(
      `its RSA key has ${bits} bits; the security domain needs at least ${minSecurityDomainKeyBits}`
    )
  }
  const validTo = new Date(cert.validTo)
  if (validTo.getTime() <= now.getTime()) {
    throw new Error(`it expired on ${validTo.toISOString()}`)
  }
  const validFrom = new Date(cert.validFrom)
  if (validFrom.getTime() > now.getTime()) {
    throw new Error(`it is not valid before ${validFrom.toISOString()}`)
  }
  const jwk = cert.publicKey.export({ format: 'jwk' }) as { n?: string; e?: string }
  if (!jwk.n || !jwk.e) throw new Error('its RSA public key could not be read')
  const sha256 = createHash('sha256').update(cert.raw).digest('base64url')
  return {
    path,
    subject: cert.subject.replace(/\n/g, ', '),
    jwk: {
      kid: sha256,
      kty: 'RSA',
      key_ops: ['verify', 'encrypt', 'wrapKey'],
      alg: 'RSA-OAEP-256',
      use: 'enc',
      n: jwk.n,
      e: jwk.e,
      x5c: [cert.raw.toString('base64')],
      x5t: createHash('sha1').update(cert.raw).digest('base64url'),
      'x5t#S256': sha256
    }
  }
}
