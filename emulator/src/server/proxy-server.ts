import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { TLSSocket } from 'node:tls'
import type { LocalCa } from '../tls/local-ca.js'
import { managedHsmNameOf } from '../core/hosts.js'
import type { LocalAzure } from './local-azure.js'
import { serveEmulatedRequest, type ConnectionControl } from './serve-request.js'

type AdminHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>

/**
 * One loopback port: an HTTP CONNECT proxy that terminates TLS for the emulated Azure host names
 * (and never forwards anything anywhere), plus the plain-HTTP admin API.
 */
export class ProxyServer {
  private readonly outer: http.Server
  private readonly inner: http.Server
  private readonly sockets = new Set<Socket | TLSSocket>()
  private readonly hostOf = new WeakMap<object, string>()
  private readonly rawOf = new WeakMap<object, Socket>()
  private readonly stalls = new Set<NodeJS.Timeout>()
  private listeningPort = 0

  constructor(
    private readonly azure: LocalAzure,
    private readonly ca: LocalCa,
    private readonly admin: AdminHandler
  ) {
    this.inner = http.createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
      void this.onTunnelledRequest(req, res)
    })
    this.outer = http.createServer({ keepAliveTimeout: 5_000 }, (req, res) => {
      void this.onPlainRequest(req, res)
    })
    this.outer.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      void this.onConnect(req, socket as Socket, head)
    })
    this.outer.on('connection', (socket: Socket) => this.track(socket))
    this.outer.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n')
      else socket.destroy()
    })
    this.inner.on('clientError', (_err, socket) => socket.destroy())
  }

  get port(): number {
    return this.listeningPort
  }

  listen(port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.outer.once('error', reject)
      this.outer.listen(port, '127.0.0.1', () => {
        this.outer.off('error', reject)
        const address = this.outer.address()
        this.listeningPort = typeof address === 'object' && address ? address.port : port
        resolve(this.listeningPort)
      })
    })
  }

  async close(): Promise<void> {
    for (const t of this.stalls) clearTimeout(t)
    this.stalls.clear()
    const closed = new Promise<void>(resolve => this.outer.close(() => resolve()))
    this.inner.close()
    for (const s of this.sockets) s.destroy()
    this.sockets.clear()
    await closed
  }

  private track(socket: Socket | TLSSocket): void {
    this.sockets.add(socket)
    socket.on('close', () => this.sockets.delete(socket))
    socket.on('error', () => socket.destroy())
  }

  private async onConnect(req: IncomingMessage, raw: Socket, head: Buffer): Promise<void> {
    const started = performance.now()
    const { host, port } = splitHostPort(req.url ?? '')
    const refuse = (status: number, reason: string, message: string) => {
      const body = Buffer.from(`${message}\n`, 'utf8')
      raw.end(
        `HTTP/1.1 ${status} ${reason}\r\ncontent-type: text/plain; charset=utf-8\r\n` +
          `content-length: ${body.length}\r\nconnection: close\r\nx-local-azure-refused: ${host || '-'}\r\n\r\n` +
          body.toString('utf8')
      )
      this.azure.record({
        time: new Date(this.azure.now()).toISOString(),
        method: 'CONNECT',
        host,
        path: '',
        query: {},
        status,
        kind: 'read',
        durationMs: Math.round(performance.now() - started),
        error: message
      })
    }
    if (!host) {
      refuse(400, 'Bad Request', `CONNECT needs a host:port target, got '${req.url ?? ''}'.`)
      return
    }
    if (!this.azure.isEmulatedHost(host) || port !== 443) {
      refuse(
        403,
        'Forbidden',
        `The local Azure refuses CONNECT ${host}:${port}: it only serves the Azure host names it ` +
          'emulates (login.microsoftonline.com, graph.microsoft.com, management.azure.com, ' +
          '<name>.managedhsm.azure.net and their US Government and China counterparts, ' +
          'token.actions.githubusercontent.com, pipelines.actions.githubusercontent.com, ' +
          'dev.azure.com and vstoken.dev.azure.com, on port 443) and never forwards anything to ' +
          'the internet.'
      )
      return
    }
    if (managedHsmNameOf(host) !== undefined && !this.azure.hsmExists(host)) {
      const name = managedHsmNameOf(host) ?? host
      refuse(
        502,
        'Bad Gateway',
        `getaddrinfo ENOTFOUND ${host}: the local Azure has no Managed HSM named '${name}', so ` +
          'its host name does not resolve.'
      )
      return
    }
    let context
    try {
      context = await this.ca.secureContextFor(host)
    } catch (e) {
      refuse(
        500,
        'Internal Server Error',
        `The local Azure could not issue a certificate for ${host}: ${String(e)}`
      )
      return
    }
    if (raw.destroyed) return
    raw.write('HTTP/1.1 200 Connection Established\r\n\r\n')
    if (head.length) raw.unshift(head)
    const tlsSocket = new TLSSocket(raw, {
      isServer: true,
      secureContext: context,
      ALPNProtocols: ['http/1.1']
    })
    this.hostOf.set(tlsSocket, host)
    this.rawOf.set(tlsSocket, raw)
    this.track(tlsSocket)
    this.inner.emit('connection', tlsSocket)
  }

  private async onTunnelledRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const host = this.hostOf.get(req.socket) ?? ''
    try {
      await serveEmulatedRequest(this.azure, host, req, res, this.connectionControl)
    } catch (e) {
      console.error('[local-azure] request failed:', e)
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' })
        res.end(JSON.stringify({ error: { code: 'InternalServerError', message: String(e) } }))
      }
    }
  }

  private readonly connectionControl: ConnectionControl = {
    reset: req => {
      const raw = this.rawOf.get(req.socket)
      if (raw && !raw.destroyed) raw.resetAndDestroy()
      req.socket.destroy()
    },
    stall: (req, ms) => {
      const timer = setTimeout(() => {
        this.stalls.delete(timer)
        this.rawOf.get(req.socket)?.destroy()
        req.socket.destroy()
      }, ms)
      this.stalls.add(timer)
    }
  }

  private async onPlainRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/'
    if (url.startsWith('/')) {
      await this.admin(req, res)
      return
    }
    // An absolute-form target is a plain-HTTP proxy request; only the admin API itself is served.
    let target: URL | undefined
    try {
      target = new URL(url)
    } catch {
      target = undefined
    }
    const self =
      target &&
      ['127.0.0.1', 'localhost'].includes(target.hostname) &&
      Number(target.port || 80) === this.listeningPort
    if (self && target) {
      req.url = target.pathname + target.search
      await this.admin(req, res)
      return
    }
    const message =
      `The local Azure refuses to proxy ${req.method} ${url}: it only serves Azure's host names it ` +
      'emulates, over HTTPS (CONNECT), and never forwards anything.\n'
    res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' })
    res.end(message)
    this.azure.record({
      time: new Date(this.azure.now()).toISOString(),
      method: req.method ?? 'GET',
      host: target?.hostname ?? '',
      path: target?.pathname ?? url,
      query: {},
      status: 403,
      kind: 'read',
      durationMs: 0,
      error: message.trim()
    })
  }
}

function splitHostPort(target: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(target) ?? /^([^:]+)(?::(\d+))?$/.exec(target)
  if (!m) return { host: '', port: 0 }
  return { host: m[1]!.toLowerCase().replace(/\.$/, ''), port: m[2] ? Number(m[2]) : 443 }
}
