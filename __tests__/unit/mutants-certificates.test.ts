/** Security-domain certificates as the download wants them, and the SDK's log kept token-free. */
import { afterEach, describe, expect, it } from '@jest/globals'
import { AzureLogger } from '@azure/logger'
import { createHash, X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { minSecurityDomainKeyBits, parseSecurityDomainCertificate } from '../../src/certificates.js'
import { sanitizeSdkLog } from '../../src/azure/sdk-log.js'
import { fakeJwt } from './fakes.js'

const fixture = (name: string) =>
  readFileSync(new URL(`./fixtures/${name}.pem`, import.meta.url), 'utf8')

describe('parseSecurityDomainCertificate', () => {
  it('answers an RSA JWK for wrapping, with the certificate and its thumbprints', () => {
    const pem = fixture('sd0')
    const raw = new X509Certificate(pem).raw
    const parsed = parseSecurityDomainCertificate('certs/sd0.pem', pem)
    const sha256 = createHash('sha256').update(raw).digest('base64url')
    expect(parsed.path).toBe('certs/sd0.pem')
    expect(parsed.subject).not.toContain('\n')
    expect(parsed.jwk).toMatchObject({
      kid: sha256,
      kty: 'RSA',
      key_ops: ['verify', 'encrypt', 'wrapKey'],
      alg: 'RSA-OAEP-256',
      use: 'enc',
      x5c: [raw.toString('base64')],
      x5t: createHash('sha1').update(raw).digest('base64url'),
      'x5t#S256': sha256
    })
    expect(parsed.jwk.n.length).toBeGreaterThan(300)
    expect(parsed.jwk.e).toBe('AQAB')
  })

  it('refuses what holds no certificate, or a block that is no certificate', () => {
    expect(() => parseSecurityDomainCertificate('a', 'hello')).toThrow(
      'it is not a PEM certificate (no BEGIN CERTIFICATE block)'
    )
    const broken = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----'
    expect(() => parseSecurityDomainCertificate('a', broken)).toThrow(
      'its PEM block does not hold a valid X.509 certificate'
    )
  })

  it('refuses a certificate not valid yet, naming the date', () => {
    const pem = fixture('sd1')
    const from = new Date(new X509Certificate(pem).validFrom)
    const before = new Date(from.getTime() - 1000)
    expect(() => parseSecurityDomainCertificate('a', pem, before)).toThrow(
      `it is not valid before ${from.toISOString()}`
    )
    expect(() => parseSecurityDomainCertificate('a', pem, from)).not.toThrow()
  })

  it('refuses keys that are not RSA or shorter than the minimum', () => {
    expect(() => parseSecurityDomainCertificate('a', fixture('ec'))).toThrow(
      /^its public key is ec; the security domain needs RSA keys$/
    )
    expect(() => parseSecurityDomainCertificate('a', fixture('rsa1024'))).toThrow(
      `its RSA key has 1024 bits; the security domain needs at least ${minSecurityDomainKeyBits}`
    )
    expect(minSecurityDomainKeyBits).toBe(2048)
  })
})

describe('sanitizeSdkLog', () => {
  const original = AzureLogger.log
  afterEach(() => {
    AzureLogger.log = original
  })

  it("writes the SDK's log lines, formatted, without the tokens in them", () => {
    const lines: string[] = []
    sanitizeSdkLog(line => lines.push(line))
    const token = fakeJwt({ oid: 'x' })
    AzureLogger.log('request %s with %d headers', `Bearer ${token}`, 3)
    expect(lines).toEqual(['request Bearer [redacted token] with 3 headers\n'])
  })
})
