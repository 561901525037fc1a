/**
 * Azure DevOps in the local Azure: a job's OIDC token endpoint under dev.azure.com, the Azure DevOps
 * issuer under vstoken.dev.azure.com, both issuer formats accepted by the local Entra ID, and the
 * agent's variables in the environment the emulator hands out.
 */
import { beforeEach, describe, expect, it } from '@jest/globals'
import { createPublicKey, createVerify } from 'node:crypto'
import { decodeClaims, rawRequest, useTestEmulator, TENANT } from './helpers.js'

const local = useTestEmulator()
const SC = 'c5e1f7a3-2b9d-4e6f-8a0c-3d5b7f9e1a24'
const DEVOPS_APP = '5f1e2d3c-4b5a-4978-8c6d-1e2f3a4b5c6d'
const ORG_ID = '7d3f2b1c-8e4a-4f6b-9c2d-5a1e3b7c9d02'

beforeEach(() => local.emulator.reset())

function agent(): Record<string, string> {
  return local.emulator.azurePipelinesAgentEnv()
}

function accessToken(): string {
  return JSON.parse(agent().ENDPOINT_AUTH_SYSTEMVSSCONNECTION).parameters.AccessToken
}

async function oidcToken(
  o: { connection?: string | null; token?: string; apiVersion?: string; suppress?: boolean } = {}
) {
  const query = new URLSearchParams({ 'api-version': o.apiVersion ?? '7.1' })
  if (o.connection !== null) query.set('serviceConnectionId', o.connection ?? SC)
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (o.suppress !== false) headers['x-tfs-fedauthredirect'] = 'Suppress'
  return rawRequest(`${agent().SYSTEM_OIDCREQUESTURI}?${query}`, {
    method: 'POST',
    headers,
    token: o.token ?? accessToken(),
    body: ''
  })
}

async function exchange(assertion: string) {
  const body = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: DEVOPS_APP,
    scope: 'https://management.azure.com/.default',
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: assertion
  })
  return rawRequest(`https://login.microsoftonline.com/${TENANT}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: body.toString()
  })
}

describe('the agent environment', () => {
  it('carries the job variables and the default service connection', () => {
    const env = local.emulator.env
    expect(env.SYSTEM_OIDCREQUESTURI).toMatch(
      /^https:\/\/dev\.azure\.com\/contoso\/[0-9a-f-]{36}\/_apis\/distributedtask\/hubs\/build\/plans\/[0-9a-f-]{36}\/jobs\/[0-9a-f-]{36}\/oidctoken$/
    )
    expect(env).toMatchObject({
      SYSTEM_COLLECTIONURI: 'https://dev.azure.com/contoso/',
      SYSTEM_TEAMPROJECT: 'cosmos-cmk',
      SYSTEM_HOSTTYPE: 'build',
      BUILD_BUILDID: '4242',
      AZURE_DEVOPS_SERVICE_CONNECTION: SC,
      [`ENDPOINT_AUTH_SCHEME_${SC}`]: 'WorkloadIdentityFederation',
      [`ENDPOINT_AUTH_PARAMETER_${SC}_SERVICEPRINCIPALID`]: DEVOPS_APP,
      [`ENDPOINT_AUTH_PARAMETER_${SC}_TENANTID`]: TENANT,
      [`ENDPOINT_DATA_${SC}_ENVIRONMENT`]: 'AzureCloud',
      [`ENDPOINT_URL_${SC}`]: 'https://management.azure.com/'
    })
    for (const name of [
      'SYSTEM_TEAMPROJECTID',
      'SYSTEM_PLANID',
      'SYSTEM_JOBID',
      'AGENT_TEMPDIRECTORY'
    ]) {
      expect(env[name]).toBeTruthy()
    }
    expect(JSON.parse(env.ENDPOINT_AUTH_SYSTEMVSSCONNECTION)).toEqual({
      parameters: { AccessToken: expect.any(String) },
      scheme: 'OAuth'
    })
  })
})

describe('the OIDC token endpoint', () => {
  it('issues an Entra-issued token for a connection, which the local Entra ID exchanges', async () => {
    const res = await oidcToken()
    expect(res.status).toBe(200)
    const claims = decodeClaims(res.json.oidcToken)
    expect(claims).toMatchObject({
      iss: `https://login.microsoftonline.com/${TENANT}/v2.0`,
      aud: 'api://AzureADTokenExchange'
    })
    expect(claims.sub).toMatch(new RegExp(`^/eid1/c/pub/t/[\\w-]+/a/[\\w-]+/sc/${ORG_ID}/${SC}$`))
    expect((claims.exp as number) - (claims.iat as number)).toBe(
      local.emulator.timing.idTokenLifetimeSeconds
    )
    expect(local.emulator.tokens.issued().idTokens).toContain(res.json.oidcToken)
    const token = await exchange(res.json.oidcToken)
    expect(token.status).toBe(200)
    expect(decodeClaims(token.json.access_token).appid).toBe(DEVOPS_APP)
  })

  it("issues a token of Azure DevOps' own issuer, verifiable with its discovery document", async () => {
    local.emulator.azureDevOps!.serviceConnections[0]!.issuer = 'azure-devops'
    const res = await oidcToken()
    const jwt = res.json.oidcToken as string
    const claims = decodeClaims(jwt)
    expect(claims).toMatchObject({
      iss: `https://vstoken.dev.azure.com/${ORG_ID}`,
      sub: 'sc://contoso/cosmos-cmk/sc-cosmos-cmk',
      aud: 'api://AzureADTokenExchange'
    })
    const discovery = await rawRequest(
      `https://vstoken.dev.azure.com/${ORG_ID}/.well-known/openid-configuration`
    )
    expect(discovery.json).toMatchObject({
      issuer: claims.iss,
      id_token_signing_alg_values_supported: ['RS256']
    })
    const jwks = await rawRequest(discovery.json.jwks_uri)
    const [head, body, signature] = jwt.split('.')
    const kid = JSON.parse(Buffer.from(head!, 'base64url').toString()).kid
    const jwk = jwks.json.keys.find((k: { kid: string }) => k.kid === kid)
    const verifier = createVerify('RSA-SHA256').update(`${head}.${body}`)
    expect(
      verifier.verify(
        createPublicKey({ key: jwk, format: 'jwk' }),
        Buffer.from(signature!, 'base64url')
      )
    ).toBe(true)
    expect((await exchange(jwt)).status).toBe(200)
    expect(
      (
        await rawRequest(
          'https://vstoken.dev.azure.com/00000000-0000-0000-0000-000000000000/.well-known/openid-configuration'
        )
      ).status
    ).toBe(404)
  })

  it('a renamed connection presents a subject no federated credential names (AADSTS700213)', async () => {
    const run = local.emulator.azureDevOps!
    run.serviceConnections[0]!.issuer = 'azure-devops'
    run.serviceConnections[0]!.name = 'sc-cosmos-cmk-prod'
    const res = await oidcToken()
    const token = await exchange(res.json.oidcToken)
    expect(token.status).toBe(401)
    expect(token.json.error_description).toMatch(
      /^AADSTS700213: .*presented assertion subject 'sc:\/\/contoso\/cosmos-cmk\/sc-cosmos-cmk-prod'/
    )
  })

  it('without serviceConnectionId, issues a pipeline-scoped token', async () => {
    const res = await oidcToken({ connection: null })
    expect(decodeClaims(res.json.oidcToken)).toMatchObject({
      sub: 'p://contoso/cosmos-cmk/cosmos-cmk-deploy',
      iss: `https://vstoken.dev.azure.com/${ORG_ID}`,
      org_id: ORG_ID
    })
  })

  it('refuses a connection the stage does not reference, as Azure DevOps words it', async () => {
    local.emulator.azureDevOps!.serviceConnections[0]!.referenced = false
    const res = await oidcToken()
    expect(res.status).toBe(400)
    expect(res.json.value).toBe(
      `There is no explicit reference to service connection ${SC} from current stage Deploy.Provision.__default.`
    )
    const unknown = await oidcToken({ connection: '11111111-1111-1111-1111-111111111111' })
    expect(unknown.json.value).toMatch(/no explicit reference to service connection 11111111-/)
  })

  it('a bad job access token gets 401, or the sign-in page without X-TFS-FedAuthRedirect', async () => {
    const refused = await oidcToken({ token: 'not-the-job-token' })
    expect(refused.status).toBe(401)
    expect(refused.json).toMatchObject({ typeKey: 'UnauthorizedRequestException' })
    expect(refused.json.message).toMatch(/^TF400813: /)
    const redirected = await oidcToken({ token: 'not-the-job-token', suppress: false })
    expect(redirected.status).toBe(302)
    expect(redirected.headers.location).toMatch(
      /^https:\/\/\w+\.vssps\.visualstudio\.com\/_signin\?/
    )
    expect(redirected.text).toContain('Object moved')
  })

  it('checks the api-version, the plan and the job', async () => {
    expect((await oidcToken({ apiVersion: '' })).json.typeKey).toBe(
      'VssVersionNotSpecifiedException'
    )
    expect((await oidcToken({ apiVersion: '7.1-preview' })).json.typeKey).toBe(
      'VssInvalidPreviewVersionException'
    )
    expect((await oidcToken({ apiVersion: '7.1-preview.1' })).status).toBe(200)
    const url = agent().SYSTEM_OIDCREQUESTURI.replace(
      /plans\/[^/]+/,
      'plans/00000000-0000-0000-0000-000000000000'
    )
    const res = await rawRequest(`${url}?api-version=7.1&serviceConnectionId=${SC}`, {
      method: 'POST',
      headers: { 'x-tfs-fedauthredirect': 'Suppress' },
      token: accessToken(),
      body: ''
    })
    expect(res.status).toBe(404)
    expect(res.json.typeKey).toBe('TaskOrchestrationPlanNotFoundException')
  })

  it('logs token requests without the job access token', async () => {
    local.emulator.clearRequests()
    await oidcToken()
    const [entry] = local.emulator.requests()
    expect(entry).toMatchObject({
      host: 'dev.azure.com',
      method: 'POST',
      kind: 'token',
      status: 200
    })
    expect(JSON.stringify(entry)).not.toContain(accessToken())
  })
})

describe('the US Government cloud', () => {
  it("serves Entra ID's discovery under login.microsoftonline.us", async () => {
    const res = await rawRequest(
      `https://login.microsoftonline.us/${TENANT}/v2.0/.well-known/openid-configuration`
    )
    expect(res.json.token_endpoint).toBe(
      `https://login.microsoftonline.us/${TENANT}/oauth2/v2.0/token`
    )
    expect(res.json.issuer).toBe(`https://login.microsoftonline.us/${TENANT}/v2.0`)
  })

  it('serves ARM under its own audience and names Managed HSMs with its suffix', async () => {
    const assertion = (await oidcToken()).json.oidcToken
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: DEVOPS_APP,
      scope: 'https://management.usgovcloudapi.net/.default',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion
    })
    const token = await rawRequest(`https://login.microsoftonline.us/${TENANT}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString()
    })
    expect(token.status).toBe(200)
    const gov = token.json.access_token as string
    const env = local.emulator.env
    const hsm = `/subscriptions/${env.AZURE_SUBSCRIPTION_ID}/resourceGroups/${env.AZURE_RESOURCE_GROUP}/providers/Microsoft.KeyVault/managedHSMs/${env.AZURE_HSM_NAME}?api-version=2025-07-01`
    const res = await rawRequest(`https://management.usgovcloudapi.net${hsm}`, { token: gov })
    expect(res.status).toBe(200)
    expect(res.json.properties.hsmUri).toBe(
      `https://${env.AZURE_HSM_NAME}.managedhsm.usgovcloudapi.net/`
    )
    const publicArm = await rawRequest(`https://management.azure.com${hsm}`, { token: gov })
    expect(publicArm.status).toBe(401)
    expect(publicArm.json.error.code).toBe('InvalidAuthenticationToken')
  })

  it('answers a Managed HSM that does not exist like a failed DNS lookup', async () => {
    const res = await rawRequest(
      'https://nowhere.managedhsm.usgovcloudapi.net/keys?api-version=7.6'
    )
    expect(res.status).toBe(502)
    expect(res.text).toMatch(/^getaddrinfo ENOTFOUND nowhere\.managedhsm\.usgovcloudapi\.net/)
  })
})
