import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { X509Certificate } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect as netConnect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect as tlsConnect, type TLSSocket } from 'node:tls'
import { startEmulator, type Emulator } from '../../src/index.js'
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
    const dir = mkdtempSync(join(tmpdir(), 'local-azure-ca-'))
    try {
      const first = await startEmulator({ port: 0, stateDir: dir, quiet: true })
      const pem = first.caCertPem
      await first.stop()
      const second = await startEmulator({ port: 0, stateDir: dir, quiet: true })
      expect(second.caCertPem).toBe(pem)
      expect(second.caCertPath).toBe(join(dir, 'ca.pem'))
      await second.stop()
      expect(pem).not.toBe(t.emulator.caCertPem)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('serves a host the same verified leaf certificate on later starts in one process', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'local-azure-ca-'))
    const leafOf = async (emulator: Emulator) => {
      const res = await connectThroughProxy('management.azure.com:443', emulator.port)
      const secure = await handshake(res.socket, 'management.azure.com', emulator.caCertPem)
      const leaf = secure.getPeerX509Certificate()!
      secure.destroy()
      return leaf
    }
    try {
      const first = await startEmulator({ port: 0, stateDir: dir, quiet: true })
      const leaf = await leafOf(first)
      await first.stop()
      const second = await startEmulator({ port: 0, stateDir: dir, quiet: true })
      const again = await leafOf(second)
      await second.stop()
      expect(again.fingerprint256).toBe(leaf.fingerprint256)
      expect(again.verify(new X509Certificate(second.caCertPem).publicKey)).toBe(true)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('issues new leaf certificates once the state folder holds another CA', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'local-azure-ca-'))
    try {
      const first = await startEmulator({ port: 0, stateDir: dir, quiet: true })
      await first.stop()
      rmSync(join(dir, 'ca.pem'))
      const second = await startEmulator({ port: 0, stateDir: dir, quiet: true })
      expect(second.caCertPem).not.toBe(first.caCertPem)
      const res = await connectThroughProxy('management.azure.com:443', second.port)
      const secure = await handshake(res.socket, 'management.azure.com', second.caCertPem)
      const leaf = secure.getPeerX509Certificate()!
      secure.destroy()
      await second.stop()
      expect(leaf.checkIssued(new X509Certificate(second.caCertPem))).toBe(true)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
