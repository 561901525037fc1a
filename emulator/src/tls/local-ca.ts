import { X509Certificate, createPrivateKey, randomBytes, webcrypto } from 'node:crypto'
import { join } from 'node:path'
import { createSecureContext, type SecureContext } from 'node:tls'
import type * as X509 from '@peculiar/x509'
import { readStateFile, writeStateFile } from '../core/state-dir.js'
import { loadX509, type X509Module } from './x509.js'

const subtle = webcrypto.subtle
type CryptoKey = webcrypto.CryptoKey
type KeyPair = webcrypto.CryptoKeyPair

const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' }
const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' }
const DAY = 24 * 60 * 60 * 1000
/** A certificate that expires sooner than this is replaced. */
const RENEW_BEFORE = 30 * DAY

const CA_CERT_FILE = 'ca.pem'
const CA_KEY_FILE = 'ca-key.pem'

/** What issuing a certificate takes: @peculiar/x509 (slow to load) and the CA as it reads it. */
interface Issuer {
  x509: X509Module
  cert: X509.X509Certificate
  key: CryptoKey
}

interface LoadedCa {
  certPem: string
  keyPem: string
  ca: LocalCa
}

/**
 * The CAs loaded in this process, by state folder: local Azures started one after the other on one
 * folder (a test suite starts hundreds) share the CA's leaf certificates instead of each issuing
 * its own.
 */
const loadedCas = new Map<string, Promise<LoadedCa | undefined>>()

/**
 * The local certificate authority: created on first start, kept in the state folder and re-used,
 * so that clients trust it once (NODE_EXTRA_CA_CERTS / REQUESTS_CA_BUNDLE point at ca.pem). The
 * leaf certificates it issues are kept there too (`leaf-<name>.pem`, certificate and key), and
 * re-used while they chain to the CA, name their host and stay valid for a month or more.
 */
export class LocalCa {
  private readonly contexts = new Map<string, Promise<SecureContext>>()
  private leafKeys?: Promise<{ pair: KeyPair; pem: string }>
  private issuer?: Promise<Issuer>
  private readonly caCert: X509Certificate

  private constructor(
    readonly certPem: string,
    readonly certPath: string,
    private readonly stateDir: string,
    private readonly keyPem: string,
    issuer?: Issuer
  ) {
    this.caCert = new X509Certificate(certPem)
    if (issuer) this.issuer = Promise.resolve(issuer)
  }

  static async loadOrCreate(stateDir: string): Promise<LocalCa> {
    const existing = await LocalCa.load(stateDir)
    if (existing) return existing
    const x509 = await loadX509()
    const keys = (await subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify'])) as KeyPair
    const now = Date.now()
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serialNumber(),
      name: 'CN=Local Azure Emulator CA, O=Local Azure Emulator',
      notBefore: new Date(now - DAY),
      notAfter: new Date(now + 10 * 365 * DAY),
      signingAlgorithm: SIGNING_ALGORITHM,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.keyCertSign |
            x509.KeyUsageFlags.cRLSign |
            x509.KeyUsageFlags.digitalSignature,
          true
        ),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
        await x509.AuthorityKeyIdentifierExtension.create(keys.publicKey)
      ]
    })
    const keyDer = Buffer.from(await subtle.exportKey('pkcs8', keys.privateKey))
    const keyPem = createPrivateKey({ key: keyDer, format: 'der', type: 'pkcs8' })
      .export({ type: 'pkcs8', format: 'pem' })
      .toString()
    const certPem = cert.toString('pem') + '\n'
    writeStateFile(stateDir, CA_KEY_FILE, keyPem, 0o600)
    const certPath = writeStateFile(stateDir, CA_CERT_FILE, certPem)
    const ca = new LocalCa(certPem, certPath, stateDir, keyPem, {
      x509,
      cert,
      key: keys.privateKey
    })
    loadedCas.set(stateDir, Promise.resolve({ certPem, keyPem, ca }))
    return ca
  }

  private static async load(stateDir: string): Promise<LocalCa | undefined> {
    const certPem = readStateFile(stateDir, CA_CERT_FILE)
    const keyPem = readStateFile(stateDir, CA_KEY_FILE)
    if (!certPem || !keyPem) return undefined
    // The same CA in the same folder as before in this process: its certificates serve again.
    const known = loadedCas.get(stateDir)
    if (known) {
      const same = await known
      if (same && same.certPem === certPem && same.keyPem === keyPem) return same.ca
    }
    const loaded = LocalCa.read(stateDir, certPem, keyPem)
    loadedCas.set(stateDir, Promise.resolve(loaded))
    return loaded?.ca
  }

  /** The CA in the folder, if it is valid for a month or more and its key is the certificate's. */
  private static read(stateDir: string, certPem: string, keyPem: string): LoadedCa | undefined {
    try {
      const cert = new X509Certificate(certPem)
      if (Date.parse(cert.validTo) < Date.now() + RENEW_BEFORE) return undefined
      if (!cert.checkPrivateKey(createPrivateKey(keyPem))) return undefined
      const ca = new LocalCa(certPem, join(stateDir, CA_CERT_FILE), stateDir, keyPem)
      return { certPem, keyPem, ca }
    } catch {
      return undefined
    }
  }

  /** A TLS context whose certificate names the host (a wildcard for Managed HSM hosts). */
  secureContextFor(host: string): Promise<SecureContext> {
    const name = certificateNameFor(host)
    let context = this.contexts.get(name)
    if (!context) {
      context = this.context(name)
      this.contexts.set(name, context)
      context.catch(() => this.contexts.delete(name))
    }
    return context
  }

  /** Issues a PEM leaf certificate for a DNS name (exposed for tests and tooling). */
  async issueLeafPem(dnsName: string): Promise<{ certPem: string; keyPem: string }> {
    const { x509, cert: caCert, key: caKey } = await this.loadIssuer()
    const { pair, pem } = await this.leafKeyPair()
    const now = Date.now()
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: serialNumber(),
      subject: `CN=${dnsName}`,
      issuer: caCert.subject,
      notBefore: new Date(now - DAY),
      notAfter: new Date(now + 365 * DAY),
      signingAlgorithm: SIGNING_ALGORITHM,
      publicKey: pair.publicKey,
      signingKey: caKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
        new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: dnsName }], false),
        await x509.SubjectKeyIdentifierExtension.create(pair.publicKey),
        await x509.AuthorityKeyIdentifierExtension.create(caCert)
      ]
    })
    return { certPem: leaf.toString('pem') + '\n', keyPem: pem }
  }

  /** The leaf certificate kept in the state folder for `name`, or a new one, kept there. */
  private async context(name: string): Promise<SecureContext> {
    const file = leafFileFor(name)
    const kept = file && this.keptLeaf(name, readStateFile(this.stateDir, file))
    if (kept) return createSecureContext(kept)
    const { certPem, keyPem } = await this.issueLeafPem(name)
    if (file) writeStateFile(this.stateDir, file, certPem + keyPem, 0o600)
    return createSecureContext({ key: keyPem, cert: certPem })
  }

  /** A kept certificate and key, if the certificate is this CA's for `name` and still valid. */
  private keptLeaf(
    name: string,
    pem: string | undefined
  ): { cert: string; key: string } | undefined {
    const cert = pem && /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/.exec(pem)?.[0]
    const key = pem && /-----BEGIN PRIVATE KEY-----[^-]+-----END PRIVATE KEY-----/.exec(pem)?.[0]
    if (!cert || !key) return undefined
    try {
      const leaf = new X509Certificate(cert)
      const now = Date.now()
      const usable =
        leaf.checkIssued(this.caCert) &&
        leaf.verify(this.caCert.publicKey) &&
        !leaf.ca &&
        leaf.subjectAltName === `DNS:${name}` &&
        Date.parse(leaf.validFrom) <= now &&
        Date.parse(leaf.validTo) >= now + RENEW_BEFORE &&
        leaf.checkPrivateKey(createPrivateKey(key))
      return usable ? { cert: `${cert}\n`, key: `${key}\n` } : undefined
    } catch {
      return undefined
    }
  }

  private loadIssuer(): Promise<Issuer> {
    this.issuer ??= (async () => {
      const x509 = await loadX509()
      const der = createPrivateKey(this.keyPem).export({ type: 'pkcs8', format: 'der' })
      const key = (await subtle.importKey('pkcs8', der, KEY_ALGORITHM, false, [
        'sign'
      ])) as CryptoKey
      return { x509, cert: new x509.X509Certificate(this.certPem), key }
    })()
    this.issuer.catch(() => (this.issuer = undefined))
    return this.issuer
  }

  private leafKeyPair(): Promise<{ pair: KeyPair; pem: string }> {
    this.leafKeys ??= (async () => {
      const pair = (await subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify'])) as KeyPair
      const der = Buffer.from(await subtle.exportKey('pkcs8', pair.privateKey))
      const pem = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })
        .export({ type: 'pkcs8', format: 'pem' })
        .toString()
      return { pair, pem }
    })()
    return this.leafKeys
  }
}

function certificateNameFor(host: string): string {
  const h = host.toLowerCase()
  const dot = h.indexOf('.')
  if (h.endsWith('.managedhsm.azure.net') && dot > 0 && h.slice(dot) === '.managedhsm.azure.net') {
    return '*.managedhsm.azure.net'
  }
  return h
}

/** The state file of a leaf certificate; none for a name that would not make a plain file name. */
function leafFileFor(name: string): string | undefined {
  if (!/^(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(name)) return undefined
  return `leaf-${name.replace(/^\*\./, 'wildcard.')}.pem`
}

function serialNumber(): string {
  const bytes = randomBytes(16)
  bytes[0] = bytes[0]! & 0x7f
  if (bytes[0] === 0) bytes[0] = 0x01
  return bytes.toString('hex')
}
