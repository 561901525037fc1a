import {
  X509Certificate,
  createHash,
  createPublicKey,
  randomBytes,
  type KeyObject
} from 'node:crypto'
import type { EmuResponse } from '../../core/service.js'
import { hsmHost } from '../../model/ids.js'
import { DataActions } from '../../model/rbac.js'
import { authorize, jsonBody, type HsmRequest } from './context.js'
import { badParameter, kvError } from './errors.js'
import { jweDirect, jweRsaOaep256 } from './jwe.js'
import { splitSecret } from './shamir.js'

interface Recipient {
  publicKey: KeyObject
  /** SHA-256 thumbprint of the certificate, base64url. */
  x5t256: string
}

function recipients(certificates: unknown): Recipient[] {
  if (!Array.isArray(certificates) || certificates.length < 3 || certificates.length > 10) {
    throw badParameter(
      'The security domain download requires between 3 and 10 certificates (property "certificates").'
    )
  }
  const result: Recipient[] = []
  for (const [i, jwk] of certificates.entries()) {
    const c = jwk as Record<string, unknown>
    if (
      typeof c !== 'object' ||
      c === null ||
      c.kty !== 'RSA' ||
      typeof c.n !== 'string' ||
      typeof c.e !== 'string'
    ) {
      throw badParameter(`Certificate ${i} is not an RSA JSON Web Key with "n" and "e".`)
    }
    const x5c = c.x5c
    if (!Array.isArray(x5c) || typeof x5c[0] !== 'string') {
      throw badParameter(`Certificate ${i} has no X.509 certificate chain ("x5c").`)
    }
    let cert: X509Certificate
    try {
      cert = new X509Certificate(Buffer.from(x5c[0], 'base64'))
    } catch {
      throw badParameter(`Certificate ${i}: "x5c" does not hold a valid X.509 certificate.`)
    }
    const certJwk = cert.publicKey.export({ format: 'jwk' })
    if (certJwk.kty !== 'RSA' || certJwk.n !== c.n.replace(/=+$/, '') || certJwk.e !== c.e) {
      throw badParameter(
        `Certificate ${i}: "n" and "e" do not match the public key of the certificate.`
      )
    }
    result.push({
      publicKey: createPublicKey({
        key: { kty: 'RSA', n: certJwk.n, e: certJwk.e },
        format: 'jwk'
      }),
      x5t256: createHash('sha256').update(cert.raw).digest('base64url')
    })
  }
  return result
}

/**
 * A real, decryptable security domain: a random domain key encrypts the HSM's backup blob, and
 * the key is split into Shamir shares, each encrypted (RSA-OAEP-256 + A256GCM) to one certificate.
 */
function buildSecurityDomain(to: Recipient[], required: number): string {
  const domainKey = randomBytes(32)
  const shares = splitSecret(domainKey, to.length, required)
  const document = {
    EncData: {
      data: [
        { compact_jwe: jweDirect(domainKey, randomBytes(1024), 'hsm_backup'), tag: 'hsm_backup' }
      ],
      kdf: 'sp108_kdf'
    },
    SharedKeys: {
      enc_shares: to.map((r, i) => ({
        enc_key: jweRsaOaep256(r.publicKey, shares[i]!, 'not used'),
        x5t_256: r.x5t256
      })),
      key_algorithm: 'shamir_share',
      required
    },
    version: 2
  }
  return Buffer.from(JSON.stringify(document)).toString('base64')
}

export function downloadSecurityDomain(r: HsmRequest): EmuResponse {
  authorize(r, DataActions.securityDomainDownload, '/')
  if (r.hsm.activationStatus === 'Active') {
    throw kvError(
      409,
      'Conflict',
      'The security domain of this managed HSM has already been downloaded; the HSM is active.'
    )
  }
  if (r.plane.securityDomainDownload?.status === 'InProgress') {
    throw kvError(409, 'Conflict', 'A security domain download is already in progress.')
  }
  const body = jsonBody(r)
  const to = recipients(body.certificates)
  const required = body.required ?? 2
  if (
    typeof required !== 'number' ||
    !Number.isInteger(required) ||
    required < 2 ||
    required > to.length
  ) {
    throw badParameter(
      `The quorum ("required") must be an integer from 2 to the number of certificates (${to.length}).`
    )
  }
  const value = buildSecurityDomain(to, required)
  r.plane.securityDomainDownload = {
    status: 'InProgress',
    completesAt: r.ctx.now() + r.ctx.delay('securityDomainDownload')
  }
  return {
    status: 202,
    headers: {
      'Azure-AsyncOperation': `https://${hsmHost(r.hsm.name)}/securitydomain/download/pending`,
      'Retry-After': String(r.ctx.timing.retryAfterSeconds)
    },
    body: { value }
  }
}

export function securityDomainDownloadStatus(r: HsmRequest): EmuResponse {
  authorize(r, DataActions.securityDomainDownloadRead, '/')
  const download = r.plane.securityDomainDownload
  if (!download) {
    if (r.hsm.activationStatus === 'Active') {
      return { status: 200, body: { status: 'Success', status_details: 'The resource is active.' } }
    }
    throw kvError(
      404,
      'NotFound',
      'No security domain download has been started for this managed HSM.'
    )
  }
  return {
    status: 200,
    logAs: 'poll',
    body: {
      status: download.status,
      ...(download.statusDetails ? { status_details: download.statusDetails } : {})
    }
  }
}
