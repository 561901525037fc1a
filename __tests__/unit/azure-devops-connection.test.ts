/**
 * The Azure Pipelines sign-in pieces in-process: the service connection read from the agent's
 * endpoint variables (a table here), the ID-token request to the job's OIDC endpoint (a typed fake
 * HttpClient that records what was sent and answers as Azure DevOps does), the job access token,
 * and what each refusal says.
 */
import { describe, expect, it } from '@jest/globals'
import {
  createHttpHeaders,
  type HttpClient,
  type PipelineRequest,
  type PipelineResponse
} from '@azure/core-rest-pipeline'
import {
  AZURE_DEVOPS_TOKEN_AUDIENCE,
  WIF_SCHEME,
  describeOidcFailure,
  jobAccessToken,
  readServiceConnection,
  requestIdToken,
  type EndpointReader
} from '../../src/auth/azure-devops.js'
import { ActionError } from '../../src/errors.js'

const ID = 'c0ffee00-0000-4000-8000-000000000001'

type Endpoint = { scheme?: string; auth?: Record<string, string>; data?: Record<string, string> }

/** The agent's endpoint variables of one connection, as task-lib would read them. */
function endpoints(endpoint: Endpoint): EndpointReader {
  return {
    scheme: id => (id === ID ? endpoint.scheme : undefined),
    authParameter: (id, key) => (id === ID ? endpoint.auth?.[key] : undefined),
    dataParameter: (id, key) => (id === ID ? endpoint.data?.[key] : undefined)
  }
}

const wif = (auth: Record<string, string> = {}, data: Record<string, string> = {}): Endpoint => ({
  scheme: WIF_SCHEME,
  auth: { serviceprincipalid: 'client-1', tenantid: 'tenant-1', ...auth },
  data
})

function refusal(endpoint: Endpoint): string {
  try {
    readServiceConnection(ID, endpoints(endpoint))
  } catch (error) {
    expect(error).toBeInstanceOf(ActionError)
    return (error as Error).message
  }
  throw new Error('the connection was accepted')
}

describe('readServiceConnection', () => {
  it('reads a workload identity federation connection, trimmed, in the public cloud by default', () => {
    const connection = readServiceConnection(
      ID,
      endpoints(wif({ serviceprincipalid: ' client-1 ', tenantid: '\ttenant-1\n' }))
    )
    expect(connection).toEqual({
      id: ID,
      clientId: 'client-1',
      tenantId: 'tenant-1',
      subscriptionId: undefined,
      environment: 'AzureCloud'
    })
  })

  it("takes the connection's subscription and cloud, the cloud's name in any case", () => {
    const connection = readServiceConnection(
      ID,
      endpoints(wif({}, { subscriptionid: ' sub-1 ', environment: ' azureusgovernment ' }))
    )
    expect(connection.subscriptionId).toBe('sub-1')
    expect(connection.environment).toBe('AzureUSGovernment')
    expect(
      readServiceConnection(ID, endpoints(wif({}, { environment: 'AZURECHINACLOUD' }))).environment
    ).toBe('AzureChinaCloud')
  })

  it('counts a blank subscription and a blank environment as not given', () => {
    const connection = readServiceConnection(
      ID,
      endpoints(wif({}, { subscriptionid: '  ', environment: '  ' }))
    )
    expect(connection.subscriptionId).toBeUndefined()
    expect(connection.environment).toBe('AzureCloud')
  })

  it('accepts the scheme in any case', () => {
    const endpoint = { ...wif(), scheme: 'workloadidentityfederation' }
    expect(readServiceConnection(ID, endpoints(endpoint)).clientId).toBe('client-1')
  })

  it('refuses a connection the agent did not pass, naming the variable and the input', () => {
    expect(refusal({})).toBe(
      `The agent gave the task no service connection '${ID}' (no ENDPOINT_AUTH_SCHEME_${ID}). ` +
        "Input 'azureSubscription' must name an Azure Resource Manager service connection the " +
        'pipeline may use.'
    )
  })

  it.each([
    ['ServicePrincipal', 'a service principal with a secret or a certificate; convert it'],
    ['serviceprincipal', 'a service principal with a secret or a certificate; convert it'],
    ['ManagedServiceIdentity', "the managed identity of a self-hosted agent's VM"],
    ['PublishProfile', "a publish profile; create a 'Workload identity federation' connection"],
    ['Token', 'another kind of sign-in']
  ])('refuses the scheme %s with what to configure instead', (scheme, advice) => {
    const message = refusal({ ...wif(), scheme })
    expect(message).toMatch(
      new RegExp(`^Service connection '${ID}' uses the authentication scheme '${scheme}' \\(`)
    )
    expect(message).toContain(advice)
    expect(message).toMatch(
      /\)\. This task signs in only with workload identity federation \(scheme 'WorkloadIdentityFederation'\), so that no secret is stored; nothing was requested\.$/
    )
  })

  it.each([
    [{ serviceprincipalid: '' }, 'service principal (client) id'],
    [{ serviceprincipalid: '   ' }, 'service principal (client) id'],
    [{ tenantid: '' }, 'tenant id'],
    [{ tenantid: ' ' }, 'tenant id']
  ])('refuses a connection without %j: it names the %s', (auth, missing) => {
    expect(refusal(wif(auth))).toBe(
      `Service connection '${ID}' has no ${missing}; edit it in Project settings > Service ` +
        'connections and save it again.'
    )
  })

  it('refuses a cloud it does not support, with the ones it does', () => {
    expect(refusal(wif({}, { environment: 'AzureStack' }))).toBe(
      `Service connection '${ID}' is for the environment 'AzureStack'; this task supports ` +
        'AzureCloud, AzureUSGovernment, AzureChinaCloud.'
    )
  })
})

interface Answer {
  status: number
  body?: string
  headers?: Record<string, string>
}

/** A typed fake of the HTTP client: records every request and gives the answers in turn. */
function fakeClient(...answers: Answer[]): HttpClient & { sent: PipelineRequest[] } {
  const sent: PipelineRequest[] = []
  return {
    sent,
    async sendRequest(request: PipelineRequest): Promise<PipelineResponse> {
      sent.push(request)
      const answer = answers[Math.min(sent.length, answers.length) - 1]!
      return {
        request,
        status: answer.status,
        headers: createHttpHeaders(answer.headers),
        bodyAsText: answer.body
      }
    }
  }
}

const REQUEST_URI =
  'https://dev.azure.com/contoso/11111111-2222-3333-4444-555555555555/_apis/distributedtask/hubs/build/plans/p/jobs/j/oidctoken'
const JOB_TOKEN = 'job-access-token-value'

function ask(client: HttpClient, requestUri = REQUEST_URI): Promise<string> {
  return requestIdToken({
    requestUri,
    accessToken: JOB_TOKEN,
    serviceConnectionId: ID,
    httpClient: client
  })
}

async function failureOf(...answers: Answer[]): Promise<string> {
  const error = await ask(fakeClient(...answers)).then(
    () => undefined,
    (e: unknown) => e
  )
  expect(error).toBeInstanceOf(ActionError)
  return (error as Error).message
}

describe('requestIdToken', () => {
  it('POSTs to the OIDC endpoint with the job token, as Azure DevOps wants it, and answers the token', async () => {
    const client = fakeClient({ status: 200, body: JSON.stringify({ oidcToken: 'id-token' }) })
    await expect(ask(client, `${REQUEST_URI}?api-version=7.0`)).resolves.toBe('id-token')
    expect(client.sent).toHaveLength(1)
    const [request] = client.sent
    const url = new URL(request!.url)
    expect(`${url.origin}${url.pathname}`).toBe(REQUEST_URI)
    expect(url.searchParams.getAll('api-version')).toEqual(['7.1'])
    expect(url.searchParams.get('serviceConnectionId')).toBe(ID)
    expect(request!.method).toBe('POST')
    expect(request!.body).toBe('')
    expect(request!.timeout).toBe(30_000)
    expect(request!.headers.get('authorization')).toBe(`Bearer ${JOB_TOKEN}`)
    expect(request!.headers.get('content-type')).toBe('application/json')
    expect(request!.headers.get('x-tfs-fedauthredirect')).toBe('Suppress')
    expect(request!.headers.get('user-agent')).toMatch(/^cosmos-cmk-hsm-task /)
  })

  it('asks again after throttling, four times at most', async () => {
    const throttled = {
      status: 429,
      headers: { 'retry-after': '0' },
      body: '{"message":"slow down"}'
    }
    const client = fakeClient(throttled)
    const error = await ask(client).catch((e: unknown) => e)
    expect(client.sent).toHaveLength(5)
    expect((error as Error).message).toBe(
      `Azure DevOps refused the ID-token request for service connection ${ID} (HTTP 429): slow down.`
    )
    const recovered = fakeClient(throttled, {
      status: 200,
      body: JSON.stringify({ oidcToken: 'id-token' })
    })
    await expect(ask(recovered)).resolves.toBe('id-token')
    expect(recovered.sent).toHaveLength(2)
  })

  it.each([
    ['no oidcToken', '{}'],
    ['an empty oidcToken', '{"oidcToken":""}'],
    ['an oidcToken that is not a string', '{"oidcToken":42}']
  ])('refuses a 200 answer with %s', async (_, body) => {
    expect(await failureOf({ status: 200, body })).toBe(
      'Azure DevOps answered the ID-token request without an oidcToken.'
    )
  })

  it('explains a connection the stage does not reference, whatever the status', async () => {
    const value = `There is no explicit reference to service connection ${ID} from current stage Deploy.`
    const message = await failureOf({ status: 400, body: JSON.stringify({ value, message: 'no' }) })
    expect(message).toBe(
      'Azure DevOps issues ID tokens only for service connections the stage references, and it ' +
        `refused connection ${ID}: "${value}". Name the connection in the task's azureSubscription ` +
        'input itself (not through a variable set at run time), or in a template expression of the ' +
        'stage, and authorize the pipeline to use it.'
    )
  })

  it.each([
    [203, '{}'],
    [302, ''],
    [200, '<!DOCTYPE html><html><body>Sign in</body></html>'],
    [403, '  <html><head></head></html>']
  ])('explains a sign-in page (HTTP %s) as a job token that is not valid', async (status, body) => {
    expect(await failureOf({ status, body })).toBe(
      `Azure DevOps answered the ID-token request with its sign-in page (HTTP ${status}) instead of a ` +
        'token: the job access token (System.AccessToken) is not valid for this organization. Check ' +
        "that the job's access token is not restricted away from the project (job authorization " +
        'scope) and that the task runs in the job the token was made for.'
    )
  })

  it("explains a 401 with Azure DevOps' own words when it gives them", async () => {
    expect(await failureOf({ status: 401, body: '{"message":"TF400813: not authorized"}' })).toBe(
      'Azure DevOps refused the job access token (System.AccessToken) when asked for an ID token ' +
        '(HTTP 401: TF400813: not authorized). The task must run in the job the token was made for.'
    )
    expect(await failureOf({ status: 401, body: 'denied' })).toBe(
      'Azure DevOps refused the job access token (System.AccessToken) when asked for an ID token ' +
        '(HTTP 401). The task must run in the job the token was made for.'
    )
  })

  it.each([
    ['its message', '{"message":"connection not found","value":"other"}', 'connection not found'],
    ['its value', '{"value":"the value"}', 'the value'],
    ['the start of a text answer', `plain ${'x'.repeat(400)}`, `plain ${'x'.repeat(294)}`],
    ['no details for an empty answer', '', 'no details'],
    ['no details for a blank answer', '   ', 'no details'],
    ['the text of a JSON answer that is not an object', '["a"]', '["a"]'],
    ['the text of a JSON null', 'null', 'null'],
    ['a text answer with markup after its start', 'failed: <html>', 'failed: <html>']
  ])('explains any other refusal with %s', async (_, body, detail) => {
    expect(await failureOf({ status: 404, body })).toBe(
      `Azure DevOps refused the ID-token request for service connection ${ID} (HTTP 404): ${detail}.`
    )
  })

  it('explains a refusal without a body', async () => {
    expect(await failureOf({ status: 404 })).toBe(
      `Azure DevOps refused the ID-token request for service connection ${ID} (HTTP 404): no details.`
    )
  })

  it('removes tokens from what Azure DevOps said', async () => {
    const jwt = 'eyJhbGciOi.eyJzdWIiOiJ4.c2lnbmF0dXJl'
    const message = await failureOf({
      status: 400,
      body: JSON.stringify({ message: `bad ${jwt}` })
    })
    expect(message).not.toContain(jwt)
    expect(message).toContain('bad [redacted token]')
    const unauthorized = await failureOf({ status: 401, body: JSON.stringify({ message: jwt }) })
    expect(unauthorized).toContain('(HTTP 401: [redacted token])')
    const unreferenced = await failureOf({
      status: 400,
      body: JSON.stringify({ value: `no explicit reference ${jwt}` })
    })
    expect(unreferenced).toContain('"no explicit reference [redacted token]"')
  })

  it.each([
    [{ 'x-vss-e2eid': 'e2e-1' }, ' (x-vss-e2eid e2e-1)'],
    [{ 'x-msedge-ref': 'ref-1' }, ' (x-msedge-ref ref-1)'],
    [
      { 'x-vss-e2eid': 'e2e-1', 'x-msedge-ref': 'ref-1' },
      ' (x-vss-e2eid e2e-1, x-msedge-ref ref-1)'
    ],
    [{}, '']
  ])('ends a refusal with the trace ids Azure DevOps gave: %j', async (headers, trace) => {
    expect(await failureOf({ status: 404, body: '', headers })).toBe(
      `Azure DevOps refused the ID-token request for service connection ${ID} (HTTP 404): no details.${trace}`
    )
  })
})

describe('jobAccessToken', () => {
  it.each([
    [{ parameters: { AccessToken: 'token-a' } }, 'token-a'],
    [{ parameters: { accesstoken: 'token-b' } }, 'token-b'],
    [{ parameters: { AccessToken: 'token-a', accesstoken: 'token-b' } }, 'token-a']
  ])('reads the token of the SystemVssConnection endpoint: %j', (authorization, token) => {
    expect(jobAccessToken(authorization)).toBe(token)
  })

  it.each([[undefined], [{}], [{ parameters: {} }], [{ parameters: { AccessToken: '' } }]])(
    'refuses an endpoint without a token: %j',
    authorization => {
      expect(() => jobAccessToken(authorization)).toThrow(ActionError)
      expect(() => jobAccessToken(authorization)).toThrow(
        new ActionError(
          'The agent gave the task no job access token (the SystemVssConnection endpoint), so no ID ' +
            'token can be requested. Run the task on an Azure Pipelines agent.'
        )
      )
    }
  )
})

describe('describeOidcFailure', () => {
  it("gives an ActionError's message as it is, and any other error's without tokens", () => {
    expect(describeOidcFailure(new ActionError('Bearer abcdefghijkl as said'))).toBe(
      'Bearer abcdefghijkl as said'
    )
    expect(describeOidcFailure(new Error('Bearer abcdefghijkl refused'))).toBe(
      'Bearer [redacted] refused'
    )
    expect(describeOidcFailure('plain')).toBe('plain')
  })
})

it('names the one audience Azure DevOps issues tokens for', () => {
  expect(AZURE_DEVOPS_TOKEN_AUDIENCE).toBe('api://AzureADTokenExchange')
})
