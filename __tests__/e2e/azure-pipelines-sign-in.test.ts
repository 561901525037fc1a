/**
 * How the built Azure Pipelines task fails to sign in, run as an agent runs it: a connection that is
 * not workload identity federation (refused before any request), a renamed connection, each issuer
 * format without a matching federated credential, a connection the stage does not reference, and a
 * bad job access token. Each failure names what was presented and what to configure, and writes
 * nothing. And a self-hosted agent's network: the task reaches Azure only through Agent.ProxyUrl
 * (its credentials masked) and trusts Agent.CAInfo; bypass entries that name hosts go to NO_PROXY.
 */
import { describe, expect, it } from '@jest/globals'
import { createDefaultHttpClient, type HttpClient } from '@azure/core-rest-pipeline'
import { trustEmulatorCa, useEmulatorProxy } from '../../emulator/src/index.js'
import { useAgentProxy } from '../../src/auth/agent-network.js'
import { requestIdToken } from '../../src/auth/azure-devops.js'
import {
  agentEnvOf,
  assertSucceeded,
  defaultScenario,
  runTask,
  runTaskOn,
  taskInputs,
  taskLeaksIn,
  writes,
  type TaskRun
} from '../../testkit/index.js'
import { labPerFile } from '../../testkit/jest-lab.js'

const lab = labPerFile(defaultScenario)

const ORG_ID = () => lab.emulator.azureDevOps!.organizationId
const connection = () => lab.emulator.azureDevOps!.serviceConnections[0]!

function run(
  inputs: Record<string, string> = {},
  agentEnv: Record<string, string> = {}
): Promise<TaskRun> {
  return runTaskOn(lab, 'cosmos-ado-signin', undefined, { mode: 'plan', ...inputs }, { agentEnv })
}

/** The failure as the agent shows it: the message of `task.complete result=Failed`. */
function failure(result: TaskRun): string {
  expect(result.result).toBe('Failed')
  const complete = result.commands.filter(c => c.command === 'task.complete').pop()
  return complete?.message ?? ''
}

function noLeaks(result: TaskRun): void {
  expect(taskLeaksIn(lab, result)).toEqual([])
}

function federatedCredentials() {
  const app = lab.emulator.store.world.applications[connection().appId]!
  return app.federatedCredentials
}

describe('a service connection that does not use workload identity federation', () => {
  it.each([
    ['ServicePrincipal', /a secret or a certificate; convert it/],
    ['ManagedServiceIdentity', /managed identity of a self-hosted agent/]
  ])('%s is refused before any network call', async (scheme, advice) => {
    const result = await run({}, { [`ENDPOINT_AUTH_SCHEME_${connection().id}`]: scheme })
    const message = failure(result)
    expect(message).toContain(`uses the authentication scheme '${scheme}'`)
    expect(message).toMatch(advice)
    expect(message).toContain("(scheme 'WorkloadIdentityFederation')")
    expect(lab.emulator.requests()).toEqual([])
    expect(result.summaries[0]?.text).toMatch(/nothing was requested/)
    noLeaks(result)
  })

  it('a missing azureSubscription input is refused before any network call', async () => {
    const result = await run({ azureSubscription: '' })
    expect(failure(result)).toMatch(/^Input 'azureSubscription' is required/)
    expect(lab.emulator.requests()).toEqual([])
  })
})

describe("Entra ID's refusals, explained with what was presented", () => {
  it('a renamed connection presents a new sc:// subject (AADSTS700213)', async () => {
    connection().issuer = 'azure-devops'
    connection().name = 'sc-cosmos-cmk-renamed'
    const result = await run()
    const message = failure(result)
    expect(message).toContain('Microsoft Entra ID refused the sign-in (AADSTS700213)')
    expect(message).toContain(
      `presented issuer 'https://vstoken.dev.azure.com/${ORG_ID()}', subject ` +
        "'sc://contoso/cosmos-cmk/sc-cosmos-cmk-renamed' and audience 'api://AzureADTokenExchange'"
    )
    expect(message).toMatch(/renaming any of them changes it/)
    expect(message).toMatch(/Edit the service connection and save it/)
    expect(writes(lab.emulator.requests())).toEqual([])
    noLeaks(result)
  })

  it("Azure DevOps' issuer without a credential for it (AADSTS700211)", async () => {
    connection().issuer = 'azure-devops'
    const credentials = federatedCredentials()
    credentials.splice(
      0,
      credentials.length,
      ...credentials.filter(c => !c.issuer.includes('vstoken'))
    )
    const message = failure(await run())
    expect(message).toContain('(AADSTS700211)')
    expect(message).toContain(`presented issuer 'https://vstoken.dev.azure.com/${ORG_ID()}'`)
    expect(message).toMatch(/presents Azure DevOps' own issuer/)
  })

  it('the Entra issuer without a credential for it (AADSTS700211)', async () => {
    const credentials = federatedCredentials()
    credentials.splice(
      0,
      credentials.length,
      ...credentials.filter(c => c.issuer.includes('vstoken'))
    )
    const message = failure(await run())
    const tenant = lab.emulator.store.world.tenantId
    expect(message).toContain('(AADSTS700211)')
    expect(message).toContain(`presented issuer 'https://login.microsoftonline.com/${tenant}/v2.0'`)
    expect(message).toMatch(
      new RegExp(`subject '/eid1/c/pub/t/[\\w-]+/a/[\\w-]+/sc/${ORG_ID()}/${connection().id}'`)
    )
    expect(message).toMatch(/presents the Microsoft Entra issuer/)
  })
})

describe("Azure DevOps' refusals of the ID-token request", () => {
  it('a connection the stage does not reference', async () => {
    connection().referenced = false
    const result = await run()
    const message = failure(result)
    expect(message).toContain(
      `There is no explicit reference to service connection ${connection().id} from current stage Deploy.Provision.__default.`
    )
    expect(message).toMatch(/Name the connection in the task's azureSubscription input itself/)
    expect(lab.emulator.requests().map(r => r.host)).toEqual(['dev.azure.com'])
  })

  it('a job access token Azure DevOps does not know', async () => {
    const bogus = 'c'.repeat(52)
    const result = await run(
      {},
      {
        ENDPOINT_AUTH_SYSTEMVSSCONNECTION: JSON.stringify({
          parameters: { AccessToken: bogus },
          scheme: 'OAuth'
        })
      }
    )
    const message = failure(result)
    expect(message).toMatch(/^Azure DevOps refused the job access token \(System\.AccessToken\)/)
    expect(message).toContain('TF400813')
    expect(result.secrets).toContain(bogus)
    expect(writes(lab.emulator.requests())).toEqual([])
  })
})

describe('the ID-token request without X-TFS-FedAuthRedirect', () => {
  it('explains the sign-in page Azure DevOps answers a bad job token with', async () => {
    trustEmulatorCa(lab.emulator.caCertPem)
    const restore = useEmulatorProxy(lab.emulator.proxyUrl)
    const client = createDefaultHttpClient()
    // as a client that does not ask Azure DevOps to suppress the redirect
    const redirected: HttpClient = {
      sendRequest: request => {
        request.headers.delete('x-tfs-fedauthredirect')
        return client.sendRequest(request)
      }
    }
    try {
      const env = agentEnvOf(lab)
      await expect(
        requestIdToken({
          requestUri: env.SYSTEM_OIDCREQUESTURI!,
          accessToken: 'not-the-job-token',
          serviceConnectionId: connection().id,
          httpClient: redirected
        })
      ).rejects.toThrow(
        /^Azure DevOps answered the ID-token request with its sign-in page \(HTTP 302\) instead of a token: the job access token \(System\.AccessToken\) is not valid/
      )
    } finally {
      restore()
    }
  })
})

describe('Agent.ProxyUrl and Agent.ProxyBypassList', () => {
  it('maps the proxy, its credentials and the host entries of the bypass list', () => {
    const env: NodeJS.ProcessEnv = {}
    const unusable = useAgentProxy(
      {
        proxyUrl: 'http://proxy.contoso.com:8080',
        proxyFormattedUrl: 'http://builder:s3cret@proxy.contoso.com:8080',
        proxyBypassHosts: [
          '^artifacts\\.contoso\\.com$',
          '\\.corp\\.contoso\\.com$',
          '.*/_apis/.*',
          '(a|b)\\.net'
        ]
      },
      env
    )
    expect(env.HTTPS_PROXY).toBe('http://builder:s3cret@proxy.contoso.com:8080')
    expect(env.NO_PROXY).toBe('artifacts.contoso.com,.corp.contoso.com')
    expect(unusable).toEqual(['.*/_apis/.*', '(a|b)\\.net'])
    expect(useAgentProxy(null, env)).toEqual([])
  })

  it('the task goes through the agent proxy, masks its password and reports unusable bypass entries', async () => {
    const env = agentEnvOf(lab)
    const proxy = new URL(env.HTTPS_PROXY!)
    const result = await runTask(taskInputs(env, 'cosmos-ado-proxy', undefined, { mode: 'plan' }), {
      env,
      agentEnv: {
        AGENT_PROXYURL: proxy.toString(),
        AGENT_PROXYUSERNAME: 'builder',
        // a secret variable, as the agent passes it
        SECRET_AGENT_PROXYPASSWORD: 'agent-proxy-secret-value',
        VSTS_SECRET_VARIABLES: JSON.stringify(['Agent.ProxyPassword']),
        AGENT_PROXYBYPASSLIST: JSON.stringify(['^packages\\.contoso\\.com$', '.*/_apis/.*'])
      }
    })
    assertSucceeded(result)
    expect(result.secrets).toContain('agent-proxy-secret-value')
    expect(result.warnings).toEqual([
      "Agent.ProxyBypassList entry '.*/_apis/.*' is a pattern the Azure SDK cannot use (it takes host names only), so requests it matches still go through the proxy."
    ])
    // task-lib's own debug line of the variable is masked by the agent, which knows its secrets
    const logged = result.stdout
      .split('\n')
      .filter(
        l =>
          !l.startsWith('##vso[task.setsecret]') &&
          !l.startsWith('##vso[task.debug]Agent.ProxyPassword=')
      )
    expect(logged.join('\n')).not.toContain('agent-proxy-secret-value')
    expect(result.stderr).not.toContain('agent-proxy-secret-value')
  }, 60_000)
})
