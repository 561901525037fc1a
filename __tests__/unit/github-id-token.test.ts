/**
 * The first ID token of a GitHub run, asked for on Node's own HTTPS client through the local
 * Azure's proxy (a CONNECT tunnel, TLS to the endpoint inside it), before the toolkit loads.
 */
import { afterEach, describe, expect, it } from '@jest/globals'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import { createServer as createTlsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import type { TLSSocket } from 'node:tls'
import { LocalCa } from '../../emulator/src/tls/local-ca.js'
import { decodeJwtClaims } from '../../src/auth/jwt.js'
import {
  firstGitHubIdToken,
  idTokenWithRetries,
  proxyFor,
  requestGitHubIdToken
} from '../../src/runner/github-id-token.js'
import { useLocalAzure } from './local-azure.js'

const local = useLocalAzure()
/** The audience Azure's federated credentials expect in the public cloud. */
const audience = 'api://AzureADTokenExchange'

describe('requestGitHubIdToken', () => {
  it("gets the run's ID token for the audience through the proxy", async () => {
    const token = await requestGitHubIdToken(audience, process.env)
    expect(decodeJwtClaims(token).aud).toBe(audience)
    const [request] = local.emulator.requests()
    expect(request).toEqual(
      expect.objectContaining({
        method: 'GET',
        host: 'pipelines.actions.githubusercontent.com',
        status: 200,
        query: expect.objectContaining({ audience })
      })
    )
  })

  it('names the status the endpoint answered with, for a bearer it does not accept', async () => {
    const env = { ...process.env, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'not-the-runners-token' }
    await expect(requestGitHubIdToken(audience, env)).rejects.toThrow(
      /^The runner's ID token endpoint answered 401/
    )
  })

  it('refuses at once, without a request or a retry, where the runner gave no endpoint', async () => {
    const env = { ...process.env, ACTIONS_ID_TOKEN_REQUEST_URL: '' }
    const debug: string[] = []
    await expect(idTokenWithRetries(audience, m => debug.push(m), env)).rejects.toThrow(
      'Unable to get ACTIONS_ID_TOKEN_REQUEST_URL env variable'
    )
    expect(debug).toEqual([])
    expect(local.emulator.requests()).toEqual([])
  })
})

describe('firstGitHubIdToken', () => {
  it('says the request is on its way before the answer comes', async () => {
    const order: string[] = []
    const { token, written } = firstGitHubIdToken(audience, process.env, 60_000)
    await Promise.all([
      written.then(() => order.push('written')),
      token.then(() => order.push('token'))
    ])
    expect(order).toEqual(['written', 'token'])
    expect(decodeJwtClaims(await token).aud).toBe(audience)
    expect(local.emulator.requests()).toHaveLength(1)
  })

  it('lets the run go on at once when the request cannot be made', async () => {
    const env = { ...process.env, ACTIONS_ID_TOKEN_REQUEST_TOKEN: '' }
    const { token, written } = firstGitHubIdToken(audience, env, 60_000)
    await written
    await expect(token).rejects.toThrow('Unable to get ACTIONS_ID_TOKEN_REQUEST_TOKEN env variable')
  })
})

describe('proxyFor', () => {
  const url = new URL('https://pipelines.actions.githubusercontent.com/x?api-version=2.0')

  it.each([
    [{ HTTPS_PROXY: 'http://proxy:3128' }, 'http://proxy:3128/'],
    [{ https_proxy: 'proxy.corp:8080' }, 'http://proxy.corp:8080/'],
    [{ HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: 'example.com' }, 'http://proxy:3128/'],
    [{ HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: 'githubusercontent.com' }, undefined],
    [{ HTTPS_PROXY: 'http://proxy:3128', no_proxy: '.actions.githubusercontent.com' }, undefined],
    [{ HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: '*' }, undefined],
    [
      { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: 'githubusercontent.com:8443' },
      'http://proxy:3128/'
    ],
    [{ HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: 'githubusercontent.com:443' }, undefined],
    [{ HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: 'usercontent.com' }, 'http://proxy:3128/'],
    [{ HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: ' , GitHubUserContent.COM ' }, undefined],
    [
      { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: 'pipelines.actions.githubusercontent.com' },
      undefined
    ],
    [{}, undefined]
  ])('%j: %s', (env, expected) => {
    expect(proxyFor(url, env)?.href).toBe(expected)
  })
})

describe("requestGitHubIdToken against endpoints and proxies of the test's own", () => {
  const servers: Server[] = []
  afterEach(async () => {
    await Promise.all(servers.splice(0).map(s => new Promise(resolve => s.close(resolve))))
  })

  /** A plain HTTP server on a free port of this host, closed after the test. */
  async function serve(server: Server): Promise<number> {
    servers.push(server)
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    return (server.address() as AddressInfo).port
  }

  async function endpointAnswering(status: number, body: string): Promise<string> {
    const port = await serve(
      createServer((_, res) => {
        res.writeHead(status, { 'content-type': 'application/json' })
        res.end(body)
      })
    )
    return `http://127.0.0.1:${port}/token?api-version=2.0`
  }

  const envFor = (endpoint: string) => ({
    ACTIONS_ID_TOKEN_REQUEST_URL: endpoint,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'runner-bearer'
  })

  it.each([
    ['no value', '{}'],
    ['an empty value', '{"value":""}'],
    ['a value that is not a string', '{"value":7}']
  ])('refuses an answer with %s', async (_, body) => {
    const env = envFor(await endpointAnswering(200, body))
    await expect(requestGitHubIdToken(audience, env)).rejects.toThrow(
      new Error("The runner's ID token endpoint answered without a token")
    )
  })

  it('names the status and the start of the body of a refusal', async () => {
    const env = envFor(await endpointAnswering(503, `busy ${'x'.repeat(400)}`))
    await expect(requestGitHubIdToken(audience, env)).rejects.toThrow(
      new Error(`The runner's ID token endpoint answered 503: busy ${'x'.repeat(295)}`)
    )
  })

  it('asks with the bearer and the audience, and answers the value', async () => {
    let seen: Record<string, string | undefined> = {}
    const port = await serve(
      createServer((req, res) => {
        const { authorization, accept, connection } = req.headers
        seen = { method: req.method, url: req.url, authorization, accept, connection }
        res.end('{"value":"the-id-token"}')
      })
    )
    const env = envFor(`http://127.0.0.1:${port}/token?api-version=2.0`)
    await expect(requestGitHubIdToken('api://Azure AD', env)).resolves.toBe('the-id-token')
    expect(seen).toEqual({
      method: 'GET',
      url: '/token?api-version=2.0&audience=api%3A%2F%2FAzure%20AD',
      authorization: 'Bearer runner-bearer',
      accept: 'application/json',
      connection: 'close'
    })
  })

  /** A port of this host that nothing listens on: one that was free a moment ago. */
  async function closedPort(): Promise<number> {
    const server = createServer()
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    await new Promise(resolve => server.close(resolve))
    return port
  }

  it('rejects with the connection error where nothing answers at the endpoint', async () => {
    const port = await closedPort()
    const env = envFor(`http://127.0.0.1:${port}/token?api-version=2.0`)
    await expect(requestGitHubIdToken(audience, env)).rejects.toThrow(
      `connect ECONNREFUSED 127.0.0.1:${port}`
    )
  })

  it('rejects with the connection error where nothing answers at the proxy', async () => {
    const port = await closedPort()
    const env = {
      ...envFor('https://token.example/x?api-version=2.0'),
      HTTPS_PROXY: `http://127.0.0.1:${port}`
    }
    await expect(requestGitHubIdToken(audience, env)).rejects.toThrow(
      `connect ECONNREFUSED 127.0.0.1:${port}`
    )
  })

  // Ports 80 and 443 of the loopback address are assumed closed, as on a CI machine: the error
  // names the port the proxy's scheme implies.
  it.each([
    ['http', 80],
    ['https', 443]
  ])("connects to an %s proxy given without a port on its scheme's port", async (scheme, port) => {
    const env = {
      ...envFor('https://token.example/x?api-version=2.0'),
      HTTPS_PROXY: `${scheme}://127.0.0.1`
    }
    await expect(requestGitHubIdToken(audience, env)).rejects.toThrow(
      `connect ECONNREFUSED 127.0.0.1:${port}`
    )
  })

  it('asks an https proxy for the tunnel over TLS, naming the proxy', async () => {
    const ca = await LocalCa.loadOrCreate(local.emulator.stateDir)
    const { certPem, keyPem } = await ca.issueLeafPem('localhost')
    const asked: (string | false | null | undefined)[] = []
    const proxy = createTlsServer({ cert: certPem, key: keyPem })
    proxy.on('secureConnection', (socket: TLSSocket) => asked.push(socket.servername))
    proxy.on('connect', (req: IncomingMessage, socket: Duplex) => {
      asked.push(req.url)
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n')
    })
    servers.push(proxy)
    await new Promise<void>(resolve => proxy.listen(0, 'localhost', resolve))
    const { port } = proxy.address() as AddressInfo
    const env = {
      ...envFor('https://token.example/x?api-version=2.0'),
      HTTPS_PROXY: `https://localhost:${port}`
    }
    await expect(requestGitHubIdToken(audience, env)).rejects.toThrow(
      new Error(`The proxy localhost:${port} refused a tunnel to token.example:443: 403`)
    )
    expect(asked).toEqual(['localhost', 'token.example:443'])
  })

  it("sends the proxy's credentials, and names the proxy that refuses the tunnel", async () => {
    const asked: { target?: string; auth?: string }[] = []
    const proxy = createServer()
    proxy.on('connect', (req: IncomingMessage, socket: Duplex) => {
      asked.push({ target: req.url, auth: req.headers['proxy-authorization'] })
      socket.end('HTTP/1.1 407 Proxy Authentication Required\r\n\r\n')
    })
    const port = await serve(proxy)
    const env = {
      ...envFor('https://token.example/x?api-version=2.0'),
      HTTPS_PROXY: `http://ci%40corp:p%3Ass@127.0.0.1:${port}`
    }
    await expect(requestGitHubIdToken(audience, env)).rejects.toThrow(
      new Error(`The proxy 127.0.0.1:${port} refused a tunnel to token.example:443: 407`)
    )
    expect(asked).toEqual([
      {
        target: 'token.example:443',
        auth: `Basic ${Buffer.from('ci@corp:p:ss').toString('base64')}`
      }
    ])
  })

  it('asks a proxy without credentials for the tunnel without any', async () => {
    const asked: (string | undefined)[] = []
    const proxy = createServer()
    proxy.on('connect', (req: IncomingMessage, socket: Duplex) => {
      asked.push(req.headers['proxy-authorization'])
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n')
    })
    const port = await serve(proxy)
    const env = {
      ...envFor('https://token.example:8443/x?api-version=2.0'),
      HTTPS_PROXY: `http://127.0.0.1:${port}`
    }
    await expect(requestGitHubIdToken(audience, env)).rejects.toThrow(
      `refused a tunnel to token.example:8443: 403`
    )
    expect(asked).toEqual([undefined])
  })
})
