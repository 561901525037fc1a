import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import { X509Certificate, createPrivateKey, generateKeyPairSync, webcrypto } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { connect as netConnect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect as tlsConnect, type TLSSocket } from 'node:tls'
import { loadX509, startEmulator, type Emulator } from '../../src/index.js'
import { startTestEmulator, type TestEmulator } from './helpers.js'

let t: TestEmulator

beforeAll(async () => {
  t = await startTestEmulator()
  t.emulator.store.world.hsmDataPlanes['hsm-tls'] ??= {
    name: 'hsm-tls',
    keys: {},
    roleAssignments: {}
  }
})

afterAll(async () => {
  await t.stop()
})

/** Sends a CONNECT and returns the proxy's answer head, plus the socket when the tunnel opened. */
function connectThroughProxy(
  target: string,
  port = t.emulator.port
): Promise<{ head: string; body: string; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(port, '127.0.0.1', () => {
      socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`)
    })
    let data = ''
    socket.setEncoding('latin1')
    const onData = (chunk: string) => {
      data += chunk
      const end = data.indexOf('\r\n\r\n')
      if (end < 0) return
      const head = data.slice(0, end)
      if (/^HTTP\/1\.1 200/.test(head)) {
        socket.off('data', onData)
        resolve({ head, body: '', socket })
      }
    }
    socket.on('data', onData)
    socket.on('end', () => {
      const end = data.indexOf('\r\n\r\n')
      resolve({ head: data.slice(0, end), body: data.slice(end + 4), socket })
    })
    socket.on('error', reject)
  })
}

/** The certificate `emulator` serves for `host`, through a handshake that verifies it. */
async function leafOf(emulator: Emulator, host: string): Promise<X509Certificate> {
  const res = await connectThroughProxy(`${host}:443`, emulator.port)
  const secure = await handshake(res.socket, host, emulator.caCertPem)
  const leaf = secure.getPeerX509Certificate()!
  secure.destroy()
  return leaf
}

/** A leaf certificate for `host` from the CA in `dir`, valid for `days` more days, and its key. */
async function leafFromCa(
  dir: string,
  host: string,
  days: number
): Promise<{ certPem: string; keyPem: string }> {
  const x509 = await loadX509()
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
  const caKeyDer = createPrivateKey(readFileSync(join(dir, 'ca-key.pem'), 'utf8')).export({
    type: 'pkcs8',
    format: 'der'
  })
  const caKey = await webcrypto.subtle.importKey('pkcs8', caKeyDer, algorithm, false, ['sign'])
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, [
    'sign',
    'verify'
  ])) as webcrypto.CryptoKeyPair
  const ca = new x509.X509Certificate(readFileSync(join(dir, 'ca.pem'), 'utf8'))
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: '01',
    subject: `CN=${host}`,
    issuer: ca.subject,
    notBefore: new Date(Date.now() - 24 * 3600_000),
    notAfter: new Date(Date.now() + days * 24 * 3600_000),
    signingAlgorithm: algorithm,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: host }], false)]
  })
  const key = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey))
  const keyPem = createPrivateKey({ key, format: 'der', type: 'pkcs8' })
    .export({ type: 'pkcs8', format: 'pem' })
    .toString()
  return { certPem: `${cert.toString('pem')}\n`, keyPem }
}

function handshake(
  socket: Socket,
  servername: string,
  caCertPem = t.emulator.caCertPem
): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const secure = tlsConnect({ socket, servername, ca: [caCertPem] }, () => resolve(secure))
    secure.on('error', reject)
  })
}

describe('the CONNECT proxy', () => {
  it('refuses a host it does not emulate with 403 and says why', async () => {
    const res = await connectThroughProxy('registry.npmjs.org:443')
    expect(res.head).toMatch(/^HTTP\/1\.1 403 Forbidden/)
    expect(res.body).toContain('registry.npmjs.org')
    expect(res.body).toContain('only serves the Azure host names it emulates')
    const entry = t.emulator
      .requests()
      .find(e => e.method === 'CONNECT' && e.host === 'registry.npmjs.org')
    expect(entry).toMatchObject({ status: 403, kind: 'read' })
  })

  it('refuses an emulated host on another port', async () => {
    const res = await connectThroughProxy('management.azure.com:8443')
    expect(res.head).toMatch(/^HTTP\/1\.1 403/)
  })

  it('refuses a Managed HSM that does not exist like a failed DNS lookup', async () => {
    const res = await connectThroughProxy('no-such-hsm.managedhsm.azure.net:443')
    expect(res.head).toMatch(/^HTTP\/1\.1 502 Bad Gateway/)
    expect(res.body).toContain('ENOTFOUND no-such-hsm.managedhsm.azure.net')
    expect(res.body).toContain("no Managed HSM named 'no-such-hsm'")
  })

  it('terminates TLS with a certificate for the host, trusted through the local CA', async () => {
    const res = await connectThroughProxy('management.azure.com:443')
    const secure = await handshake(res.socket, 'management.azure.com')
    expect(secure.authorized).toBe(true)
    expect(secure.getPeerCertificate().subjectaltname).toBe('DNS:management.azure.com')
    expect(secure.alpnProtocol).toBe(false)
    secure.destroy()
  })

  it('uses a wildcard certificate for Managed HSM hosts', async () => {
    const res = await connectThroughProxy('hsm-tls.managedhsm.azure.net:443')
    const secure = await handshake(res.socket, 'hsm-tls.managedhsm.azure.net')
    expect(secure.authorized).toBe(true)
    expect(secure.getPeerCertificate().subjectaltname).toBe('DNS:*.managedhsm.azure.net')
    secure.destroy()
  })

  it('serves HTTP/1.1 with keep-alive inside the tunnel', async () => {
    const res = await connectThroughProxy('login.microsoftonline.com:443')
    const secure = await handshake(res.socket, 'login.microsoftonline.com')
    const tenant = t.emulator.scenario.tenantId
    const ask = (path: string) =>
      new Promise<string>(resolve => {
        let buf = ''
        const onData = (d: Buffer) => {
          buf += d.toString('utf8')
          const m = /content-length: (\d+)/i.exec(buf)
          const end = buf.indexOf('\r\n\r\n')
          if (m && end >= 0 && Buffer.byteLength(buf.slice(end + 4)) >= Number(m[1])) {
            secure.off('data', onData)
            resolve(buf)
          }
        }
        secure.on('data', onData)
        secure.write(`GET ${path} HTTP/1.1\r\nHost: login.microsoftonline.com\r\n\r\n`)
      })
    const first = await ask(`/${tenant}/v2.0/.well-known/openid-configuration`)
    const second = await ask(`//${tenant}//discovery/v2.0/keys`)
    expect(first).toMatch(/^HTTP\/1\.1 200/)
    expect(first).toContain('"token_endpoint"')
    expect(second).toMatch(/^HTTP\/1\.1 200/)
    expect(second).toContain('"keys"')
    secure.destroy()
  })

  it('refuses plain-HTTP proxy requests and answers unknown plain paths with JSON', async () => {
    const viaProxy = await new Promise<string>(resolve => {
      const s = netConnect(t.emulator.port, '127.0.0.1', () =>
        s.write('GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n')
      )
      let buf = ''
      s.on('data', d => (buf += d.toString()))
      s.on('end', () => resolve(buf))
    })
    expect(viaProxy).toMatch(/^HTTP\/1\.1 403/)
    expect(viaProxy).toContain('never forwards anything')
    const res = await fetch(`${t.emulator.proxyUrl}/something`)
    expect(res.status).toBe(404)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('NotFound')
  })
})

describe('the local CA', () => {
  /** Local Azures on state folders of their own: stopped, and the folders removed, after each test. */
  const started: Emulator[] = []
  const folders: string[] = []
  const stateFolder = () => {
    folders.push(mkdtempSync(join(tmpdir(), 'local-azure-ca-')))
    return folders.at(-1)!
  }
  const start = async (dir: string) => {
    const emulator = await startEmulator({ port: 0, stateDir: dir, quiet: true })
    started.push(emulator)
    return emulator
  }
  afterEach(async () => {
    await Promise.all(started.splice(0).map(e => e.stop()))
    for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true })
  })

  it('is a proper CA whose leaf certificates chain to it', async () => {
    const ca = new X509Certificate(t.emulator.caCertPem)
    expect(ca.ca).toBe(true)
    const res = await connectThroughProxy('graph.microsoft.com:443')
    const secure = await handshake(res.socket, 'graph.microsoft.com')
    const leaf = secure.getPeerX509Certificate()!
    secure.destroy()
    expect(leaf.ca).toBe(false)
    expect(leaf.checkIssued(ca)).toBe(true)
    expect(leaf.verify(ca.publicKey)).toBe(true)
    expect(leaf.keyUsage).toContain('1.3.6.1.5.5.7.3.1')
    expect(leaf.checkHost('graph.microsoft.com')).toBe('graph.microsoft.com')
  })

  it('is created once per state folder and re-used on later starts', async () => {
    const dir = stateFolder()
    const first = await start(dir)
    const pem = first.caCertPem
    await first.stop()
    const second = await start(dir)
    expect(second.caCertPem).toBe(pem)
    expect(second.caCertPath).toBe(join(dir, 'ca.pem'))
    await second.stop()
    expect(pem).not.toBe(t.emulator.caCertPem)
  })

  it('keeps the leaf certificates it issues in the state folder and serves them on later starts', async () => {
    const dir = stateFolder()
    const first = await start(dir)
    const leaf = await leafOf(first, 'management.azure.com')
    await first.stop()
    expect(readdirSync(dir)).toContain('leaf-management.azure.com.pem')
    const second = await start(dir)
    const again = await leafOf(second, 'management.azure.com')
    await second.stop()
    expect(again.fingerprint256).toBe(leaf.fingerprint256)
    expect(again.verify(new X509Certificate(second.caCertPem).publicKey)).toBe(true)
  })

  it('serves no kept certificate of another CA, for another host, about to expire or without its key', async () => {
    const dir = stateFolder()
    const first = await start(dir)
    const old = await leafOf(first, 'management.azure.com')
    await first.stop()
    // Another CA in the folder: the kept certificate does not chain to it.
    rmSync(join(dir, 'ca.pem'))
    const second = await start(dir)
    expect(second.caCertPem).not.toBe(first.caCertPem)
    const ca = new X509Certificate(second.caCertPem)
    const renewed = await leafOf(second, 'management.azure.com')
    expect(renewed.fingerprint256).not.toBe(old.fingerprint256)
    expect(renewed.checkIssued(ca)).toBe(true)
    // A certificate of this CA kept under another host's name.
    const kept = readFileSync(join(dir, 'leaf-management.azure.com.pem'))
    writeFileSync(join(dir, 'leaf-graph.microsoft.com.pem'), kept)
    // One of this CA's for the host, but valid for ten more days only.
    const soon = await leafFromCa(dir, 'login.microsoftonline.com', 10)
    writeFileSync(join(dir, 'leaf-login.microsoftonline.com.pem'), soon.certPem + soon.keyPem)
    // This CA's certificate for the host, kept with a key that is not its own.
    const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString()
    const keyless = await leafFromCa(dir, 'dev.azure.com', 365)
    writeFileSync(join(dir, 'leaf-dev.azure.com.pem'), keyless.certPem + otherKey)
    await second.stop()
    const third = await start(dir)
    const graph = await leafOf(third, 'graph.microsoft.com')
    const login = await leafOf(third, 'login.microsoftonline.com')
    const devops = await leafOf(third, 'dev.azure.com')
    await third.stop()
    expect(devops.fingerprint256).not.toBe(new X509Certificate(keyless.certPem).fingerprint256)
    expect(graph.subjectAltName).toBe('DNS:graph.microsoft.com')
    expect(Date.parse(login.validTo)).toBeGreaterThan(Date.now() + 300 * 24 * 3600_000)
    expect(login.checkIssued(ca)).toBe(true)
  })
})
