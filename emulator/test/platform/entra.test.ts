import { describe, expect, it } from '@jest/globals'
import { ClientAssertionCredential, ClientSecretCredential } from '@azure/identity'
import { getIDToken } from '@actions/core'
import {
  DEPLOYER_APP,
  DEPLOYER_SP,
  TENANT,
  decodeClaims,
  federatedCredential,
  useTestEmulatorWithApp
} from './helpers.js'

const SECRET_APP_ID = '11111111-2222-4333-8444-555555555555'
const SECRET = 'local-azure-test-secret~value'

const t = useTestEmulatorWithApp({
  appId: SECRET_APP_ID,
  displayName: 'secret-app',
  servicePrincipalId: '66666666-7777-4888-9999-000000000000',
  clientSecrets: [SECRET]
})

describe('Entra ID token endpoint with workload identity federation', () => {
  it('issues an ARM token for a GitHub ID token fetched through @actions/core', async () => {
    const token = await federatedCredential().getToken('https://management.azure.com/.default')
    expect(token.token).toMatch(/^ey/)
    expect(token.expiresOnTimestamp).toBeGreaterThan(Date.now() + 3500_000)
    const claims = decodeClaims(token.token)
    expect(claims).toMatchObject({
      aud: 'https://management.azure.com',
      iss: `https://sts.windows.net/${TENANT}/`,
      oid: DEPLOYER_SP,
      sub: DEPLOYER_SP,
      tid: TENANT,
      appid: DEPLOYER_APP,
      azp: DEPLOYER_APP,
      idtyp: 'app',
      ver: '1.0'
    })
    const iat = claims.iat as number
    expect(claims.nbf).toBe(iat)
    expect(claims.exp).toBe(iat + 3600)
  })

  it('keeps the trailing slash of a v1 resource in the audience', async () => {
    const token = await federatedCredential().getToken(
      'https://management.core.windows.net//.default'
    )
    expect(decodeClaims(token.token).aud).toBe('https://management.core.windows.net/')
  })

  it('serves the ID token with the requested audience and the configured subject', async () => {
    const idToken = await getIDToken('api://AzureADTokenExchange')
    const claims = decodeClaims(idToken)
    expect(claims).toMatchObject({
      iss: 'https://token.actions.githubusercontent.com',
      aud: 'api://AzureADTokenExchange',
      sub: 'repo:contoso/cosmos-cmk:ref:refs/heads/main',
      repository: 'contoso/cosmos-cmk',
      ref: 'refs/heads/main'
    })
    expect((claims.exp as number) - (claims.iat as number)).toBe(300)
    expect(typeof claims.jti).toBe('string')
  })

  it("defaults the ID token's audience to the repository owner's URL, as GitHub does", async () => {
    const claims = decodeClaims(await getIDToken())
    expect(claims.aud).toBe('https://github.com/contoso')
  })

  it('rejects a subject that differs only in case with AADSTS700213 naming the presented subject', async () => {
    t.emulator.setGitHubSubject('repo:Contoso/cosmos-cmk:ref:refs/heads/main')
    try {
      await expect(
        federatedCredential().getToken('https://management.azure.com/.default')
      ).rejects.toThrow(
        /AADSTS700213: No matching federated identity record found for presented assertion subject 'repo:Contoso\/cosmos-cmk:ref:refs\/heads\/main'/
      )
    } finally {
      t.emulator.setGitHubSubject('repo:contoso/cosmos-cmk:ref:refs/heads/main')
    }
  })

  it('accepts the environment subject configured for production', async () => {
    t.emulator.setGitHubSubject('repo:contoso/cosmos-cmk:environment:production')
    try {
      const token = await federatedCredential().getToken('https://management.azure.com/.default')
      expect(decodeClaims(token.token).oid).toBe(DEPLOYER_SP)
    } finally {
      t.emulator.setGitHubSubject('repo:contoso/cosmos-cmk:ref:refs/heads/main')
    }
  })

  it('rejects an expired assertion with AADSTS700024', async () => {
    const expired = t.emulator.tokens.githubIdToken({ expiresInSeconds: -60 })
    const credential = new ClientAssertionCredential(TENANT, DEPLOYER_APP, async () => expired)
    await expect(credential.getToken('https://management.azure.com/.default')).rejects.toThrow(
      /AADSTS700024: Client assertion is not within its valid time range/
    )
  })

  it('rejects an assertion for the wrong audience with AADSTS700212', async () => {
    const idToken = await getIDToken('https://github.com/contoso')
    const credential = new ClientAssertionCredential(TENANT, DEPLOYER_APP, async () => idToken)
    await expect(credential.getToken('https://management.azure.com/.default')).rejects.toThrow(
      /AADSTS700212/
    )
  })

  it('rejects an unknown application with AADSTS700016', async () => {
    const credential = federatedCredential('00000000-1111-4222-8333-444444444444')
    await expect(credential.getToken('https://management.azure.com/.default')).rejects.toThrow(
      /AADSTS700016: Application with identifier '00000000-1111-4222-8333-444444444444' was not found/
    )
  })

  it('rejects an assertion signed by another key', async () => {
    const good = await getIDToken('api://AzureADTokenExchange')
    const [h, p] = good.split('.')
    const forged = `${h}.${p}.${Buffer.alloc(256, 7).toString('base64url')}`
    const credential = new ClientAssertionCredential(TENANT, DEPLOYER_APP, async () => forged)
    await expect(credential.getToken('https://management.azure.com/.default')).rejects.toThrow(
      /AADSTS700027/
    )
  })
})

describe('Entra ID token endpoint with a client secret', () => {
  it('issues a token with ClientSecretCredential', async () => {
    const credential = new ClientSecretCredential(TENANT, SECRET_APP_ID, SECRET)
    const token = await credential.getToken('https://graph.microsoft.com/.default')
    expect(decodeClaims(token.token)).toMatchObject({
      aud: 'https://graph.microsoft.com',
      appid: SECRET_APP_ID,
      appidacr: '1',
      oid: '66666666-7777-4888-9999-000000000000'
    })
  })

  it('rejects a wrong secret with AADSTS7000215', async () => {
    const credential = new ClientSecretCredential(TENANT, SECRET_APP_ID, 'not-the-secret')
    await expect(credential.getToken('https://management.azure.com/.default')).rejects.toThrow(
      /AADSTS7000215: Invalid client secret provided/
    )
  })
})

describe('request log of token traffic', () => {
  it('records token requests as kind token, with the caller, and never a secret', async () => {
    const all = t.emulator.requests()
    const tokenCalls = all.filter(
      e => e.host === 'login.microsoftonline.com' && e.path.endsWith('/token')
    )
    expect(tokenCalls.length).toBeGreaterThan(3)
    for (const e of tokenCalls) expect(e.kind).toBe('token')
    expect(tokenCalls.some(e => e.status === 200 && e.principal === DEPLOYER_SP)).toBe(true)
    expect(tokenCalls.some(e => e.status === 401)).toBe(true)
    const idTokenCalls = all.filter(e => e.host === 'pipelines.actions.githubusercontent.com')
    expect(idTokenCalls.length).toBeGreaterThan(0)
    for (const e of idTokenCalls) {
      expect(e.kind).toBe('token')
      expect(e.query['api-version']).toBe('2.0')
    }
    const text = JSON.stringify(all)
    expect(text).not.toContain(SECRET)
    expect(text).not.toContain(t.emulator.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN)
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./)
  })
})
