import { createPrivateKey, createPublicKey, randomBytes, webcrypto } from 'node:crypto'
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

const CA_CERT_FILE = 'ca.pem'
const CA_KEY_FILE = 'ca-key.pem'

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
 * so that clients trust it once (NODE_EXTRA_CA_CERTS / REQUESTS_CA_BUNDLE point at ca.pem).
 */
export class LocalCa {
  private readonly contexts = new Map<string, Promise<SecureContext>>()
  private leafKeys?: Promise<{ pair: KeyPair; pem: string }>

  private constructor(
    readonly certPem: string,
    readonly certPath: string,
    private readonly x509: X509Module,
    private readonly cert: X509.X509Certificate,
    private readonly key: CryptoKey
  ) {}

  static async loadOrCreate(stateDir: string): Promise<LocalCa> {
    const x509 = await loadX509()
    const existing = await LocalCa.load(stateDir, x509)
    if (existing) return existing
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
    const ca = new LocalCa(certPem, certPath, x509, cert, keys.privateKey)
    loadedCas.set(stateDir, Promise.resolve({ certPem, keyPem, ca }))
    return ca
  }

  private static async load(stateDir: string, x509: X509Module): Promise<LocalCa | undefined> {
    const certPem = readStateFile(stateDir, CA_CERT_FILE)
    const keyPem = readStateFile(stateDir, CA_KEY_FILE)
    if (!certPem || !keyPem) return undefined
    // The same CA in the same folder as before in this process: its certificates serve again.
    const known = loadedCas.get(stateDir)
    if (known) {
      const same = await known
      if (same && same.certPem === certPem && same.keyPem === keyPem) return same.ca
    }
    const loading = LocalCa.read(stateDir, x509, certPem, keyPem)
    loadedCas.set(stateDir, loading)
    const loaded = await loading
    if (!loaded) loadedCas.delete(stateDir)
    return loaded?.ca
  }

  private static async read(
    stateDir: string,
    x509: X509Module,
    certPem: string,
    keyPem: string
  ): Promise<LoadedCa | undefined> {
    try {
      const cert = new x509.X509Certificate(certPem)
      if (cert.notAfter.getTime() < Date.now() + 30 * DAY) return undefined
      const nodeKey = createPrivateKey(keyPem)
      const spki = createPublicKey(nodeKey).export({ type: 'spki', format: 'der' })
      if (!Buffer.from(cert.publicKey.rawData).equals(spki)) return undefined
      const der = nodeKey.export({ type: 'pkcs8', format: 'der' })
      const key = (await subtle.importKey('pkcs8', der, KEY_ALGORITHM, false, [
        'sign'
      ])) as CryptoKey
      return {
        certPem,
        keyPem,
        ca: new LocalCa(certPem, join(stateDir, CA_CERT_FILE), x509, cert, key)
      }
    } catch {
      return undefined
    }
  }

  /** A TLS context whose certificate names the host (a wildcard for Managed HSM hosts). */
  secureContextFor(host: string): Promise<SecureContext> {
    const name = certificateNameFor(host)
    let context = this.contexts.get(name)
    if (!context) {
      context = this.issue(name)
      this.contexts.set(name, context)
      context.catch(() => this.contexts.delete(name))
    }
    return context
  }

  /** Issues a PEM leaf certificate for a DNS name (exposed for tests and tooling). */
  async issueLeafPem(dnsName: string): Promise<{ certPem: string; keyPem: string }> {
    const { pair, pem } = await this.leafKeyPair()
    const x509 = this.x509
    const now = Date.now()
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: serialNumber(),
      subject: `CN=${dnsName}`,
      issuer: this.cert.subject,
      notBefore: new Date(now - DAY),
      notAfter: new Date(now + 365 * DAY),
      signingAlgorithm: SIGNING_ALGORITHM,
      publicKey: pair.publicKey,
      signingKey: this.key,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
        new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: dnsName }], false),
        await x509.SubjectKeyIdentifierExtension.create(pair.publicKey),
        await x509.AuthorityKeyIdentifierExtension.create(this.cert)
      ]
    })
    return { certPem: leaf.toString('pem') + '\n', keyPem: pem }
  }

  private async issue(name: string): Promise<SecureContext> {
    const { certPem, keyPem } = await this.issueLeafPem(name)
    return createSecureContext({ key: keyPem, cert: certPem })
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

function serialNumber(): string {
  const bytes = randomBytes(16)
  bytes[0] = bytes[0]! & 0x7f
  if (bytes[0] === 0) bytes[0] = 0x01
  return bytes.toString('hex')
}
