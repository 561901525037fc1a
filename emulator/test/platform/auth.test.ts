import { beforeAll, describe, expect, it } from '@jest/globals'
import type { AccessToken, TokenCredential } from '@azure/core-auth'
import { ClientAssertionCredential } from '@azure/identity'
import { ResourceManagementClient } from '@azure/arm-resources'
import { KeyClient } from '@azure/keyvault-keys'
import { getIDToken } from '@actions/core'
import type { Service } from '../../src/index.js'
import { armService } from '../../src/services/arm/index.js'
import { rawRequest, useTestEmulator } from './helpers.js'

const SP_ID = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d'
const SUB = '6c1b9e3a-2f4d-4a7b-8e5c-9d0f1a2b3c4d'
const KEY_VERSION = '0123456789abcdef0123456789abcdef'

/** Stands in for ARM so that these tests exercise only the platform's token checks. */
const armDouble: Service = {
  name: 'ARM test double',
  matches: host => host === 'management.azure.com',
  audiences: armService.audiences,
  handle: ({ req, principal }) => {
    const m = /^\/subscriptions\/([^/]+)\/providers\/([^/]+)$/i.exec(req.path)
    if (!m) return { status: 404, body: { error: { code: 'NotFound', message: req.path } } }
    return {
      status: 200,
      body: {
        id: `/subscriptions/${m[1]}/providers/${m[2]}`,
        namespace: m[2],
        registrationState: 'Registered',
        resourceTypes: [],
        // Echoed so that the test can see whom the platform authenticated.
        registrationPolicy: principal?.objectId
      }
    }
  }
}

/** A Managed HSM data plane with one key, behind the platform's challenge handling. */
const hsmDouble: Service = {
  name: 'Managed HSM test double',
  matches: host => host === 'hsm-test.managedhsm.azure.net',
  audiences: ['https://managedhsm.azure.net'],
  challenge: {
    authorization: tenantId => `https://login.microsoftonline.com/${tenantId}`,
    resource: 'https://managedhsm.azure.net'
  },
  handle: ({ req, origin }) => {
    if (req.method === 'GET' && /^\/keys\/k1\/?$/.test(req.path)) {
      return {
        status: 200,
        body: {
          key: {
            kid: `${origin}/keys/k1/${KEY_VERSION}`,
            kty: 'RSA-HSM',
            key_ops: ['wrapKey', 'unwrapKey'],
            n: Buffer.alloc(384, 1).toString('base64url'),
            e: 'AQAB'
          },
          attributes: {
            enabled: true,
            created: 1_700_000_000,
            updated: 1_700_000_000,
            recoveryLevel: 'Recoverable',
            recoverableDays: 7
          }
        }
      }
    }
    return { status: 404, body: { error: { code: 'KeyNotFound', message: req.path } } }
  }
}

const t = useTestEmulator(() => ({ extraServices: [armDouble, hsmDouble] }))
let tenantId: string

function addHsmHost(name: string): void {
  t.emulator.store.world.hsmDataPlanes[name] ??= { name, keys: {}, roleAssignments: {} }
}

beforeAll(() => {
  tenantId = t.emulator.scenario.tenantId
  addHsmHost('hsm-test')
  addHsmHost('hsm-raw')
})

function staticCredential(token: string): TokenCredential {
  return {
    getToken: async (): Promise<AccessToken> => ({
      token,
      expiresOnTimestamp: Date.now() + 3_600_000
    })
  }
}

async function armError(
  token: string
): Promise<{ statusCode?: number; code?: string; message: string }> {
  const client = new ResourceManagementClient(staticCredential(token), SUB)
  try {
    await client.providers.get('Microsoft.DocumentDB')
  } catch (e) {
    return e as { statusCode?: number; code?: string; message: string }
  }
  throw new Error('expected the request to fail')
}

describe('ARM bearer token checks', () => {
  it('lets a token from the federated sign-in through and names the caller', async () => {
    const credential = new ClientAssertionCredential(
      tenantId,
      t.emulator.env.AZURE_CLIENT_ID!,
      () => getIDToken('api://AzureADTokenExchange')
    )
    const client = new ResourceManagementClient(credential, SUB)
    const provider = await client.providers.get('Microsoft.DocumentDB')
    expect(provider.namespace).toBe('Microsoft.DocumentDB')
    expect(provider.registrationPolicy).toBe(SP_ID)
    const entry = t.emulator
      .requests()
      .find(e => e.host === 'management.azure.com' && e.status === 200)
    expect(entry?.principal).toBe(SP_ID)
  })

  it('answers a request without a token with AuthenticationFailed and a WWW-Authenticate header', async () => {
    const res = await rawRequest(
      `https://management.azure.com/subscriptions/${SUB}/providers/Microsoft.DocumentDB?api-version=2025-04-01`
    )
    expect(res.status).toBe(401)
    expect(res.json).toEqual({
      error: {
        code: 'AuthenticationFailed',
        message: "Authentication failed. The 'Authorization' header is missing."
      }
    })
    expect(res.headers['www-authenticate']).toMatch(
      /^Bearer authorization_uri="https:\/\/login\.windows\.net\/", error="invalid_token", error_description="/
    )
    expect(res.headers['x-ms-request-id']).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('rejects an expired token with ExpiredAuthenticationToken', async () => {
    const err = await armError(t.emulator.tokens.accessToken({ expiresInSeconds: -120 }))
    expect(err.statusCode).toBe(401)
    expect(err.code).toBe('ExpiredAuthenticationToken')
    expect(err.message).toMatch(
      /The access token expiry UTC time '.+' is earlier than current UTC time/
    )
  })

  it('rejects a token for another audience with InvalidAuthenticationToken', async () => {
    const err = await armError(
      t.emulator.tokens.accessToken({ audience: 'https://graph.microsoft.com' })
    )
    expect(err.statusCode).toBe(401)
    expect(err.code).toBe('InvalidAuthenticationToken')
    expect(err.message).toContain("wrong audience or resource 'https://graph.microsoft.com'")
  })

  it('accepts both spellings of the classic management audience', async () => {
    const client = new ResourceManagementClient(
      staticCredential(
        t.emulator.tokens.accessToken({ audience: 'https://management.core.windows.net/' })
      ),
      SUB
    )
    await expect(client.providers.get('Microsoft.KeyVault')).resolves.toMatchObject({
      namespace: 'Microsoft.KeyVault'
    })
  })

  it('rejects a token with a forged signature', async () => {
    const good = t.emulator.tokens.accessToken()
    const [h, p] = good.split('.')
    const err = await armError(`${h}.${p}.${Buffer.alloc(256, 3).toString('base64url')}`)
    expect(err.statusCode).toBe(401)
    expect(err.code).toBe('InvalidAuthenticationToken')
  })

  it('rejects a token from another tenant with InvalidAuthenticationTokenTenant', async () => {
    const err = await armError(
      t.emulator.tokens.accessToken({ tenantId: '99999999-9999-4999-8999-999999999999' })
    )
    expect(err.statusCode).toBe(401)
    expect(err.code).toBe('InvalidAuthenticationTokenTenant')
  })
})

describe('Key Vault challenge authentication (Managed HSM)', () => {
  it('challenges a request without a token the way Managed HSM does', async () => {
    const res = await rawRequest('https://hsm-raw.managedhsm.azure.net/keys?api-version=7.6')
    expect(res.status).toBe(401)
    expect(res.headers['www-authenticate']).toBe(
      `Bearer authorization="https://login.microsoftonline.com/${tenantId}", resource="https://managedhsm.azure.net"`
    )
    expect(res.json).toEqual({
      error: {
        code: 'Unauthorized',
        message: 'AKV10000: Request is missing a Bearer or PoP token.'
      }
    })
  })

  it('lets @azure/keyvault-keys run its challenge flow and then serves the request', async () => {
    t.emulator.clearRequests()
    const credential = new ClientAssertionCredential(
      tenantId,
      t.emulator.env.AZURE_CLIENT_ID!,
      () => getIDToken('api://AzureADTokenExchange')
    )
    const client = new KeyClient('https://hsm-test.managedhsm.azure.net', credential)
    const key = await client.getKey('k1')
    expect(key.id).toBe(`https://hsm-test.managedhsm.azure.net/keys/k1/${KEY_VERSION}`)
    const hsmCalls = t.emulator.requests().filter(e => e.host === 'hsm-test.managedhsm.azure.net')
    expect(hsmCalls.map(e => e.status)).toEqual([401, 200])
    expect(hsmCalls[1]!.principal).toBe(SP_ID)
    const tokenCall = t.emulator
      .requests()
      .find(e => e.host === 'login.microsoftonline.com' && e.status === 200)
    expect(tokenCall).toBeDefined()
  })

  it('rejects an ARM token at the HSM with an invalid-audience 401 and a fresh challenge', async () => {
    const res = await rawRequest('https://hsm-raw.managedhsm.azure.net/keys?api-version=7.6', {
      token: t.emulator.tokens.accessToken()
    })
    expect(res.status).toBe(401)
    expect(res.json.error.code).toBe('Unauthorized')
    expect(res.json.error.message).toContain('Invalid audience')
    expect(res.headers['www-authenticate']).toContain('resource="https://managedhsm.azure.net"')
  })
})

describe('Microsoft Graph token checks', () => {
  it("answers a request without a token with Graph's InvalidAuthenticationToken body", async () => {
    const res = await rawRequest(
      "https://graph.microsoft.com/v1.0/servicePrincipals(appId='a232010e-820c-4083-83bb-3ace5fc29d0b')",
      { headers: { 'client-request-id': 'c0ffee00-0000-4000-8000-000000000001' } }
    )
    expect(res.status).toBe(401)
    expect(res.json.error.code).toBe('InvalidAuthenticationToken')
    expect(res.json.error.message).toBe('Access token is empty.')
    expect(res.json.error.innerError['client-request-id']).toBe(
      'c0ffee00-0000-4000-8000-000000000001'
    )
    expect(res.json.error.innerError['request-id']).toMatch(/^[0-9a-f-]{36}$/)
    expect(res.json.error.innerError.date).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/)
  })

  it('rejects an expired token', async () => {
    const res = await rawRequest('https://graph.microsoft.com/v1.0/servicePrincipals', {
      token: t.emulator.tokens.accessToken({
        audience: 'https://graph.microsoft.com',
        expiresInSeconds: -1
      })
    })
    expect(res.status).toBe(401)
    expect(res.json.error.message).toMatch(/expired/)
  })
})
