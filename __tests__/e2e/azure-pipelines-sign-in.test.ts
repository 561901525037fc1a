/**
 * How the built Azure Pipelines task fails to sign in, run as an agent runs it: a connection that is
 * not workload identity federation (refused before any request), a renamed connection, each issuer
 * format without a matching federated credential, a connection the stage does not reference, and a
 * bad job access token. Each failure names what was presented and what to configure, and writes
 * nothing.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import {
  agentEnvOf,
  defaultScenario,
  jobAccessTokenOf,
  runTask,
  startLab,
  taskInputs,
  taskLeaks,
  writes,
  type Lab,
  type TaskRun
} from '../../testkit/index.js'

let lab: Lab

beforeAll(async () => {
  lab = await startLab(defaultScenario())
})

afterAll(async () => {
  await lab?.stop()
})

beforeEach(() => {
  lab.emulator.reset()
  lab.emulator.clearRequests()
})

const ORG_ID = () => lab.emulator.azureDevOps!.organizationId
const connection = () => lab.emulator.azureDevOps!.serviceConnections[0]!

function run(
  inputs: Record<string, string> = {},
  agentEnv: Record<string, string> = {}
): Promise<TaskRun> {
  const env = agentEnvOf(lab)
  return runTask(taskInputs(env, 'cosmos-ado-signin', undefined, { mode: 'plan', ...inputs }), {
    env,
    agentEnv
  })
}

/** The failure as the agent shows it: the message of `task.complete result=Failed`. */
function failure(result: TaskRun): string {
  expect(result.result).toBe('Failed')
  const complete = result.commands.filter(c => c.command === 'task.complete').pop()
  return complete?.message ?? ''
}

function noLeaks(result: TaskRun): void {
  const issued = lab.emulator.tokens.issued()
  expect(taskLeaks(result, issued, [jobAccessTokenOf(agentEnvOf(lab))])).toEqual([])
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
