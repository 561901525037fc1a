/**
 * The first ID token of a GitHub run, asked for on Node's own HTTPS client through the local
 * Azure's proxy (a CONNECT tunnel, TLS to the endpoint inside it), before the toolkit loads.
 */
import { describe, expect, it } from '@jest/globals'
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
    [{}, undefined]
  ])('%j: %s', (env, expected) => {
    expect(proxyFor(url, env)?.href).toBe(expected)
  })
})
