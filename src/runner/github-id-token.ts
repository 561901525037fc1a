/**
 * The workflow run's OIDC ID token, from the runner's token endpoint (ACTIONS_ID_TOKEN_REQUEST_URL
 * with the bearer ACTIONS_ID_TOKEN_REQUEST_TOKEN, as `core.getIDToken` asks for it), on Node's own
 * HTTPS client. The action asks for it first thing, before the Actions toolkit and its HTTP stack
 * load, so that the answer arrives while they do. HTTPS_PROXY / NO_PROXY are honoured through a
 * CONNECT tunnel; certificates are verified as always (NODE_EXTRA_CA_CERTS included).
 */
import { request as httpRequest } from 'node:http'
import { request as httpsRequest, type RequestOptions } from 'node:https'
import { isIP, type Socket } from 'node:net'
import { connect as connectTls } from 'node:tls'

const RESPONSE_TIMEOUT_MS = 30_000

type Env = Record<string, string | undefined>

export async function requestGitHubIdToken(
  audience: string,
  env: Env = process.env,
  onWritten?: () => void
): Promise<string> {
  const endpoint = env.ACTIONS_ID_TOKEN_REQUEST_URL
  if (!endpoint) throw new Error('Unable to get ACTIONS_ID_TOKEN_REQUEST_URL env variable')
  const bearer = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN
  if (!bearer) throw new Error('Unable to get ACTIONS_ID_TOKEN_REQUEST_TOKEN env variable')
  const url = new URL(`${endpoint}&audience=${encodeURIComponent(audience)}`)
  const { status, body } = await get(url, bearer, env, onWritten)
  if (status !== 200) {
    throw new Error(`The runner's ID token endpoint answered ${status}: ${body.slice(0, 300)}`)
  }
  const value = (JSON.parse(body) as { value?: unknown }).value
  if (typeof value !== 'string' || !value) {
    throw new Error("The runner's ID token endpoint answered without a token")
  }
  return value
}

/**
 * The ID token with retries: core.getIDToken retries only 5xx answers; a throttled (429) or
 * cut-off request is retried here with a short backoff. A missing permission is not retried.
 */
export async function idTokenWithRetries(
  audience: string,
  debug: (message: string) => void = () => {},
  env: Env = process.env,
  onWritten?: () => void
): Promise<string> {
  const delays = [1_000, 2_000, 4_000, 8_000]
  for (let attempt = 0; ; attempt++) {
    try {
      return await requestGitHubIdToken(audience, env, attempt === 0 ? onWritten : undefined)
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      const permanent = /ACTIONS_ID_TOKEN_REQUEST_(URL|TOKEN)/.test(message)
      if (permanent || attempt >= delays.length) throw error
      debug(`Getting an ID token failed (${message.split('\n')[0]}); retrying.`)
      await new Promise(resolve => setTimeout(resolve, delays[attempt]))
    }
  }
}

/**
 * The run's first ID token, and `written`: when its request is on its way (or has failed, or at
 * most `maxWaitMs`). The action loads the toolkit and the Azure SDKs only then: compiling them
 * holds the event loop, and with it the TLS handshake of a request already started, for their
 * whole length.
 */
export function firstGitHubIdToken(
  audience: string,
  env: Env = process.env,
  maxWaitMs = 250
): { token: Promise<string>; written: Promise<void> } {
  let signal: () => void = () => {}
  const written = new Promise<void>(resolve => (signal = resolve))
  const token = idTokenWithRetries(audience, undefined, env, () => signal())
  token.then(
    () => signal(),
    () => signal()
  )
  const cap = setTimeout(() => signal(), maxWaitMs)
  cap.unref?.()
  void written.then(() => clearTimeout(cap))
  return { token, written }
}

/** `onWritten`: called once the request has been handed to the connection (TLS set up). */
async function get(
  url: URL,
  bearer: string,
  env: Env,
  onWritten?: () => void
): Promise<{ status: number; body: string }> {
  const proxy = url.protocol === 'https:' ? proxyFor(url, env) : undefined
  // TLS to the endpoint itself, inside the tunnel: the proxy sees only the host name.
  const socket = proxy
    ? connectTls({ socket: await tunnel(proxy, url), servername: url.hostname })
    : undefined
  const options: RequestOptions = {
    method: 'GET',
    // One request on this connection: nothing may keep the process alive after the run.
    headers: { Authorization: `Bearer ${bearer}`, Accept: 'application/json', Connection: 'close' },
    timeout: RESPONSE_TIMEOUT_MS,
    ...(socket ? { createConnection: () => socket } : {})
  }
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise((resolve, reject) => {
    const req = send(url, options, res => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => {
        res.socket?.destroy()
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') })
      })
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error('The ID token request timed out')))
    req.on('error', reject)
    if (onWritten) req.once('finish', onWritten)
    req.end()
  })
}

/** A TCP connection to `url`'s host through the proxy's CONNECT, for TLS to run over. */
function tunnel(proxy: URL, url: URL): Promise<Socket> {
  const target = `${url.hostname}:${url.port || 443}`
  const auth = proxy.username
    ? {
        'Proxy-Authorization': `Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}`
      }
    : {}
  const send = proxy.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise((resolve, reject) => {
    const req = send({
      host: proxy.hostname,
      port: proxy.port || (proxy.protocol === 'https:' ? 443 : 80),
      method: 'CONNECT',
      path: target,
      headers: { Host: target, ...auth },
      // TLS to an https proxy names the proxy, not the Host header's target (Node's default).
      servername: isIP(proxy.hostname) ? '' : proxy.hostname,
      timeout: RESPONSE_TIMEOUT_MS
    })
    req.on('connect', (res, socket) => {
      if (res.statusCode === 200) resolve(socket)
      else {
        socket.destroy()
        reject(
          new Error(`The proxy ${proxy.host} refused a tunnel to ${target}: ${res.statusCode}`)
        )
      }
    })
    req.on('timeout', () => req.destroy(new Error(`The proxy ${proxy.host} did not answer`)))
    req.on('error', reject)
    req.end()
  })
}

/** The proxy for an https `url` from HTTPS_PROXY (either case), unless NO_PROXY exempts it. */
export function proxyFor(url: URL, env: Env): URL | undefined {
  const value = env.https_proxy || env.HTTPS_PROXY
  if (!value || bypassed(url, env.no_proxy || env.NO_PROXY || '')) return undefined
  return new URL(/^[a-z]+:\/\//i.test(value) ? value : `http://${value}`)
}

/** NO_PROXY: `*`, or host names (a leading dot or none: the domain and its subdomains), ports optional. */
function bypassed(url: URL, noProxy: string): boolean {
  const host = url.hostname.toLowerCase()
  const port = url.port || (url.protocol === 'https:' ? '443' : '80')
  return noProxy
    .split(',')
    .map(entry => entry.trim().toLowerCase())
    .filter(Boolean)
    .some(entry => {
      if (entry === '*') return true
      const [name, entryPort] = entry.split(':')
      if (entryPort && entryPort !== port) return false
      const domain = name.replace(/^\*?\./, '')
      return host === domain || host.endsWith(`.${domain}`)
    })
}
