/**
 * The adapters on the small JSON client (Microsoft Graph, ARM permissions, the HSM data planes),
 * against the local Azure: the requests they send, on the transport's own pipeline, and how they
 * read answers with fields left out and paged lists.
 */
import https from 'node:https'
import { beforeEach, describe, expect, it, jest } from '@jest/globals'
import {
  createDefaultHttpClient,
  createHttpHeaders,
  createPipelineFromOptions,
  createPipelineRequest,
  type PipelinePolicy,
  type PipelineRequest
} from '@azure/core-rest-pipeline'
import { HttpsProxyAgent } from 'https-proxy-agent'
import { proxyKeepAlivePolicy } from '../../src/azure/http.js'
import { systemClock } from '../../src/clock.js'
import { Step } from '../../src/steps/names.js'
import { Timeline } from '../../src/timeline.js'
import { defaultNames } from '../../testkit/index.js'
import { createHsmDataPlane } from '../../src/azure/hsm-data-plane.js'
import { getCloud } from '../../src/cloud.js'
import { quickTransport, signedInApis, useLocalAzure } from './local-azure.js'
import { errorAnswer, hsmHost, scriptedArm, scriptedGraph, scriptedHsm } from './scripted-hosts.js'

const arm = scriptedArm()
const graph = scriptedGraph()
const hsm = scriptedHsm('hsm-json')
const local = useLocalAzure(undefined, [arm.service, graph.service, hsm.service])
const hsmUri = `https://${hsmHost('hsm-json')}`
const subscription = `/subscriptions/${defaultNames.subscriptionId}`
const permissionsPath = `${subscription}/providers/Microsoft.Authorization/permissions`

beforeEach(() => {
  for (const host of [arm, graph, hsm]) host.stop()
  local.emulator.store.world.hsmDataPlanes['hsm-json'] = {
    name: 'hsm-json',
    keys: {},
    roleAssignments: {}
  }
})

/**
 * Adapters built in the test itself: what a client fixes when it is built (its query, its
 * pipeline's policies) is then the test's to check, not the first test's that built the shared one.
 */
const ownApis = () => signedInApis(local.emulator).apis

/** `work` as a step of a run, and what the timeline made of its requests. */
async function spansOf(work: () => Promise<unknown>): Promise<string[]> {
  const timeline = new Timeline(systemClock)
  await timeline.within(Step.Observe, work)
  return timeline.spans().map(s => `${s.kind} ${s.label}`)
}

describe('Microsoft Graph', () => {
  it('reads service principals with GET, selecting their id, app id and display name', async () => {
    const { graph: own } = ownApis()
    const spans = await spansOf(async () => {
      await own.servicePrincipalIdByAppId(defaultNames.cosmosAppId)
      await own.servicePrincipal(defaultNames.cosmosObjectId)
    })
    const reads = local.emulator.requests().filter(r => r.host === 'graph.microsoft.com')
    expect(reads.map(r => [r.method, r.query])).toEqual([
      ['GET', { $select: 'id,appId,displayName' }],
      ['GET', { $select: 'id,appId,displayName' }]
    ])
    expect(spans.filter(s => s.includes('/servicePrincipals'))).toEqual([
      `read GET /v1.0/servicePrincipals(appId='${defaultNames.cosmosAppId}')`,
      `read GET /v1.0/servicePrincipals/${defaultNames.cosmosObjectId}`
    ])
  })

  it('reads a service principal without app id or display name as empty', async () => {
    graph.answer(() => ({ status: 200, body: { id: 'ABC' } }))
    expect(await local.apis.graph.servicePrincipal('abc')).toEqual({
      id: 'abc',
      appId: '',
      displayName: ''
    })
  })
})

describe('ARM permissions', () => {
  it("reads the caller's permissions with GET and the api-version of that API", async () => {
    const spans = await spansOf(() => ownApis().permissions.at(subscription))
    const reads = local.emulator
      .requests()
      .filter(r => r.host === 'management.azure.com' && r.path.endsWith('/permissions'))
    expect(reads.map(r => [r.method, r.query])).toEqual([['GET', { 'api-version': '2022-04-01' }]])
    expect(spans.filter(s => s.endsWith('/permissions'))).toEqual([`read GET ${permissionsPath}`])
  })

  it('follows next links with their own query and one api-version, fields left out as empty', async () => {
    arm.answer(request =>
      request.query.get('$skiptoken') === 'p2'
        ? { status: 200, body: { value: [{ actions: ['b/read'] }] } }
        : {
            status: 200,
            body: {
              value: [{}],
              nextLink: `https://management.azure.com${permissionsPath}?api-version=2022-04-01&$skiptoken=p2`
            }
          }
    )
    expect(await local.apis.permissions.at(`${subscription}/`)).toEqual([
      { actions: [], notActions: [] },
      { actions: ['b/read'], notActions: [] }
    ])
    expect(arm.requests.map(r => [r.path, r.query.getAll('api-version')])).toEqual([
      [permissionsPath, ['2022-04-01']],
      [permissionsPath, ['2022-04-01']]
    ])
  })
})

describe('the HSM data plane client', () => {
  it('names the action in its user agent, and puts each attempt on the timeline', async () => {
    let answered = 0
    hsm.answer(() =>
      ++answered === 1 ? errorAnswer(503, 'ServiceUnavailable') : { status: 200, body: {} }
    )
    const spans = await spansOf(() => ownApis().hsm(hsmUri).settings.get('a-setting'))
    expect(hsm.requests.map(r => r.headers['user-agent'])).toEqual([
      expect.stringMatching(/^cosmos-cmk-hsm-action /),
      expect.stringMatching(/^cosmos-cmk-hsm-action /)
    ])
    // One span per attempt the HSM saw, the challenge's unauthenticated one included.
    const attempts = local.emulator.requests().filter(r => r.host === hsmHost('hsm-json'))
    expect(attempts.map(r => r.status).slice(-2)).toEqual([503, 200])
    expect(spans.filter(s => s.includes('/settings/'))).toEqual(
      attempts.map(() => 'read GET /settings/a-setting')
    )
  })

  // Each case builds its own client: the first request is the one that tells.
  it.each([
    ["the cloud's HSM token with the first request, in the cloud's domain", 'AzureCloud', [200]],
    ["the challenge first, outside the cloud's domain", 'AzureUSGovernment', [401, 200]],
    ['the challenge first, where the cloud is not known', undefined, [401, 200]]
  ] as const)('sends %s', async (_, cloudName, statuses) => {
    hsm.answer(() => ({ status: 200, body: { value: 'x' } }))
    const plane = createHsmDataPlane({
      hsmUri,
      credential: local.credential,
      transport: quickTransport,
      cloud: cloudName && getCloud(cloudName)
    })
    expect(await plane.settings.get('a-setting')).toBe('x')
    const attempts = local.emulator.requests().filter(r => r.host === hsmHost('hsm-json'))
    expect(attempts.map(r => r.status)).toEqual(statuses)
    expect(hsm.requests.map(r => r.headers.authorization)).toEqual([
      expect.stringMatching(/^Bearer \S+$/)
    ])
  })

  it('is one client per HSM, however its URI is written', () => {
    const plane = local.apis.hsm(hsmUri)
    for (const uri of [hsmUri, `${hsmUri}/`, `${hsmUri}//`, hsmUri.toUpperCase()]) {
      expect(local.apis.hsm(uri)).toBe(plane)
    }
    expect(local.apis.hsm(`https://${hsmHost('other')}`)).not.toBe(plane)
  })
})

describe('through a proxy (HTTPS_PROXY)', () => {
  /** Three GETs of one host in turn, on a pipeline of the SDK's own proxy policy (and `keepAlive`). */
  async function tunnelsForThreeRequests(keepAlive?: PipelinePolicy): Promise<number> {
    const connect = jest.spyOn(HttpsProxyAgent.prototype, 'connect')
    try {
      const pipeline = createPipelineFromOptions({})
      if (keepAlive) pipeline.addPolicy(keepAlive, { afterPhase: 'Retry' })
      const client = createDefaultHttpClient()
      for (let i = 0; i < 3; i++) {
        const response = await pipeline.sendRequest(
          client,
          createPipelineRequest({ url: 'https://graph.microsoft.com/v1.0/organization' })
        )
        expect(response.status).toBe(401)
      }
      return connect.mock.calls.filter(([, options]) => options.host === 'graph.microsoft.com')
        .length
    } finally {
      connect.mockRestore()
    }
  }

  it('opens one tunnel for requests sent one after another, where the SDK alone opens one each', async () => {
    expect(await tunnelsForThreeRequests()).toBe(3)
    expect(await tunnelsForThreeRequests(proxyKeepAlivePolicy(new Map()))).toBe(1)
  })

  /** The next policy of a pipeline, answering 200 and keeping the agent of each request. */
  const agentsSent = () => {
    const seen: unknown[] = []
    const next = async (request: PipelineRequest) => {
      seen.push(request.agent)
      return { request, status: 200, headers: createHttpHeaders() }
    }
    return { seen, next }
  }

  const requestWith = (url: string, agent: PipelineRequest['agent']) => {
    const request = createPipelineRequest({ url })
    request.agent = agent
    return request
  }

  it("swaps the SDK's proxy agent for one kept-alive agent per proxy, shared by every pipeline", async () => {
    const agents = new Map()
    const policy = proxyKeepAlivePolicy(agents)
    const { seen, next } = agentsSent()
    const send = (url: string, agent: PipelineRequest['agent']) =>
      policy.sendRequest(requestWith(url, agent), next)
    const sdkAgent = (proxy: string) => new HttpsProxyAgent(proxy)

    await send('https://management.azure.com/a', sdkAgent('http://proxy.contoso:8080'))
    await send('https://graph.microsoft.com/b', sdkAgent('http://proxy.contoso:8080'))
    await send('https://graph.microsoft.com/c', sdkAgent('http://other.contoso:3128'))
    const [first, second, third] = seen as HttpsProxyAgent<string>[]
    expect(first).toBe(second)
    expect(third).not.toBe(first)
    expect([...agents.keys()]).toEqual(['http://proxy.contoso:8080/', 'http://other.contoso:3128/'])
    for (const agent of [first, third]) {
      expect(agent).toBeInstanceOf(HttpsProxyAgent)
      expect(agent.keepAlive).toBe(true)
      // Pooled under the https name when Node names a socket outside any https call.
      expect(agent.isSecureEndpoint()).toBe(true)
    }
    expect(third.proxy.href).toBe('http://other.contoso:3128/')
  })

  it('leaves alone a request with no agent, with an agent of its own, or to an http URL', async () => {
    const policy = proxyKeepAlivePolicy(new Map())
    const { seen, next } = agentsSent()
    const own = new https.Agent({ keepAlive: false })
    const sdkAgent = new HttpsProxyAgent('http://proxy.contoso:8080')
    await policy.sendRequest(requestWith('https://graph.microsoft.com/a', undefined), next)
    await policy.sendRequest(requestWith('https://graph.microsoft.com/a', own), next)
    await policy.sendRequest(requestWith('http://graph.microsoft.com/a', sdkAgent), next)
    expect(seen).toEqual([undefined, own, sdkAgent])
  })
})
