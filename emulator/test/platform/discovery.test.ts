import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createPublicKey, createVerify } from 'node:crypto'
import { parseTarget } from '../../src/server/parse-request.js'
import { rawRequest, startTestEmulator, type TestEmulator } from './helpers.js'

let t: TestEmulator
let tenant: string

beforeAll(async () => {
  t = await startTestEmulator()
  tenant = t.emulator.scenario.tenantId
})

afterAll(async () => {
  await t.stop()
})

function verifiesWith(jwt: string, jwks: { keys: { kid: string }[] }): boolean {
  const [h, p, s] = jwt.split('.')
  const header = JSON.parse(Buffer.from(h!, 'base64url').toString()) as { kid: string }
  const jwk = jwks.keys.find(k => k.kid === header.kid)
  if (!jwk) return false
  const verifier = createVerify('RSA-SHA256')
  verifier.update(`${h}.${p}`)
  return verifier.verify(
    createPublicKey({ key: jwk as never, format: 'jwk' }),
    Buffer.from(s!, 'base64url')
  )
}

describe('discovery endpoints', () => {
  it("serves the tenant's OpenID configuration and signing keys", async () => {
    const config = await rawRequest(
      `https://login.microsoftonline.com/${tenant}/v2.0/.well-known/openid-configuration`
    )
    expect(config.status).toBe(200)
    expect(config.json).toMatchObject({
      issuer: `https://login.microsoftonline.com/${tenant}/v2.0`,
      token_endpoint: `https://login.microsoftonline.com/${tenant}/oauth2/v2.0/token`,
      authorization_endpoint: `https://login.microsoftonline.com/${tenant}/oauth2/v2.0/authorize`,
      jwks_uri: `https://login.microsoftonline.com/${tenant}/discovery/v2.0/keys`
    })
    const keys = await rawRequest(config.json.jwks_uri)
    expect(keys.json.keys[0]).toMatchObject({ kty: 'RSA', use: 'sig', alg: 'RS256' })
    expect(verifiesWith(t.emulator.tokens.accessToken(), keys.json)).toBe(true)
  })

  it('answers instance discovery the way MSAL expects', async () => {
    const authorize = encodeURIComponent(
      `https://login.microsoftonline.com/${tenant}/oauth2/v2.0/authorize`
    )
    const res = await rawRequest(
      `https://login.microsoftonline.com/common/discovery/instance?api-version=1.1&authorization_endpoint=${authorize}`
    )
    expect(res.status).toBe(200)
    expect(res.json.tenant_discovery_endpoint).toBe(
      `https://login.microsoftonline.com/${tenant}/v2.0/.well-known/openid-configuration`
    )
    expect(res.json.metadata[0].aliases).toContain('login.microsoftonline.com')
  })

  it('reports an unknown tenant with AADSTS90002', async () => {
    const res = await rawRequest(
      'https://login.microsoftonline.com/11111111-1111-4111-8111-111111111111/oauth2/v2.0/token',
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials'
      }
    )
    expect(res.status).toBe(400)
    expect(res.json).toMatchObject({ error: 'invalid_request', error_codes: [90002] })
    expect(res.json.error_description).toMatch(
      /^AADSTS90002: Tenant '11111111-1111-4111-8111-111111111111' not found/
    )
    expect(res.json.trace_id).toMatch(/^[0-9a-f-]{36}$/)
  })

  it("serves GitHub's issuer metadata, whose keys verify the ID tokens", async () => {
    const config = await rawRequest(
      'https://token.actions.githubusercontent.com/.well-known/openid-configuration'
    )
    expect(config.json.issuer).toBe('https://token.actions.githubusercontent.com')
    const jwks = await rawRequest(config.json.jwks_uri)
    const idToken = await rawRequest(
      `${t.emulator.idTokenRequestUrl}&audience=api://AzureADTokenExchange`,
      {
        token: t.emulator.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN
      }
    )
    expect(idToken.status).toBe(200)
    expect(verifiesWith(idToken.json.value, jwks.json)).toBe(true)
  })

  it('refuses an ID-token request without the request token', async () => {
    const res = await rawRequest(t.emulator.idTokenRequestUrl, { token: 'wrong' })
    expect(res.status).toBe(401)
    expect(res.text).not.toContain(t.emulator.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN!)
  })

  it('adds the configured latency before answering', async () => {
    t.emulator.setTiming({ requestLatency: 250 })
    try {
      const started = Date.now()
      await rawRequest('https://token.actions.githubusercontent.com/.well-known/jwks')
      expect(Date.now() - started).toBeGreaterThanOrEqual(240)
    } finally {
      t.emulator.setTiming({ requestLatency: 0 })
    }
  })

  it('answers unknown paths with JSON, never HTML', async () => {
    const res = await rawRequest('https://token.actions.githubusercontent.com/nope')
    expect(res.status).toBe(404)
    expect(res.headers['content-type']).toMatch(/^application\/json/)
  })
})

describe('request target parsing', () => {
  it('decodes query names and values, collapses slashes and decodes the path', () => {
    const { path, query } = parseTarget(
      '//subscriptions//abc/providers/Microsoft.KeyVault/managedHSMs/my%20hsm?api%2Dversion=2026-02-01&%24filter=appId%20eq%20%27x%27'
    )
    expect(path).toBe('/subscriptions/abc/providers/Microsoft.KeyVault/managedHSMs/my hsm')
    expect(query.get('api-version')).toBe('2026-02-01')
    expect(query.get('$filter')).toBe("appId eq 'x'")
    expect(parseTarget('///providers/Microsoft.Authorization/roleAssignments').path).toBe(
      '/providers/Microsoft.Authorization/roleAssignments'
    )
  })
})
