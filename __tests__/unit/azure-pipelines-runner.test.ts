/**
 * The Azure Pipelines Runner in-process, on a typed fake of azure-pipelines-task-lib that records
 * what the task tells the agent: inputs by their camelCase names and from the service connection,
 * output variables, log lines in the task's words, groups and progress, masking, the ID token from
 * the job's OIDC endpoint (the local Azure's), the summary attachment, failure, resource tags
 * and the agent's network settings.
 */
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals'
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeJwtClaims } from '../../src/auth/jwt.js'
import { stepGuide } from '../../src/steps/names.js'
import { useLocalAzure } from './local-azure.js'

const ID = 'c0ffee00-0000-4000-8000-000000000001'

/** What the agent would hand the task, and what the task told it. */
const agent = {
  inputs: {} as Record<string, string | undefined>,
  variables: {} as Record<string, string | undefined>,
  endpoints: {} as Record<
    string,
    { scheme?: string; auth?: Record<string, string>; data?: Record<string, string> }
  >,
  vssAuthorization: undefined as { parameters?: Record<string, string> } | undefined,
  cert: undefined as { caFile?: string } | undefined,
  proxy: undefined as
    { proxyUrl: string; proxyPassword?: string; proxyBypassHosts?: string[] } | undefined,
  told: [] as [string, ...unknown[]][],
  schemeReads: 0
}

const tell =
  (what: string) =>
  (...args: unknown[]) => {
    agent.told.push([what, ...args])
  }

const TaskResult = { Succeeded: 0, SucceededWithIssues: 1, Failed: 2, Cancelled: 3, Skipped: 4 }

jest.unstable_mockModule('azure-pipelines-task-lib/task.js', () => ({
  TaskResult,
  getInput: (name: string) => agent.inputs[name],
  getVariable: (name: string) => agent.variables[name],
  // Each endpoint read must be optional: task-lib fails the task itself on a required one.
  getEndpointAuthorizationScheme: (id: string, optional: boolean) => {
    agent.schemeReads += 1
    return optional ? agent.endpoints[id]?.scheme : undefined
  },
  getEndpointAuthorizationParameter: (id: string, key: string, optional: boolean) =>
    optional ? agent.endpoints[id]?.auth?.[key] : undefined,
  getEndpointDataParameter: (id: string, key: string, optional: boolean) =>
    optional ? agent.endpoints[id]?.data?.[key] : undefined,
  getEndpointAuthorization: (id: string) =>
    id === 'SYSTEMVSSCONNECTION' ? agent.vssAuthorization : undefined,
  getHttpCertConfiguration: () => agent.cert,
  getHttpProxyConfiguration: () => agent.proxy,
  setSecret: tell('setSecret'),
  setVariable: tell('setVariable'),
  setProgress: tell('setProgress'),
  warning: tell('warning'),
  error: tell('error'),
  debug: tell('debug'),
  addAttachment: tell('addAttachment'),
  setResult: tell('setResult')
}))

const { azurePipelinesRunner, useAgentNetwork, SUMMARY_TITLE } =
  await import('../../src/runner/azure-pipelines.js')

const ZWSP = '\u200b'
let logged: string[] = []

beforeEach(() => {
  agent.inputs = { azureSubscription: ID }
  agent.variables = {}
  agent.endpoints = {
    [ID]: {
      scheme: 'WorkloadIdentityFederation',
      auth: { serviceprincipalid: 'client-1', tenantid: 'tenant-1' },
      data: { subscriptionid: 'sub-of-connection', environment: 'AzureUSGovernment' }
    }
  }
  agent.vssAuthorization = { parameters: { AccessToken: 'job-token-value' } }
  agent.cert = undefined
  agent.proxy = undefined
  agent.told = []
  agent.schemeReads = 0
  logged = []
  jest.spyOn(console, 'log').mockImplementation((line: unknown) => {
    logged.push(String(line))
  })
})

afterEach(() => {
  jest.restoreAllMocks()
})

const told = (what: string) => agent.told.filter(([w]) => w === what).map(([, ...args]) => args)

describe('inputs', () => {
  it('reads the sign-in inputs from the service connection, once', () => {
    const runner = azurePipelinesRunner()
    expect(runner.getInput('auth-type')).toBe('oidc')
    expect(runner.getInput('client-id')).toBe('client-1')
    expect(runner.getInput('tenant-id')).toBe('tenant-1')
    expect(runner.getInput('environment')).toBe('AzureUSGovernment')
    expect(runner.getInput('audience')).toBe('api://AzureADTokenExchange')
    expect(runner.getInput('subscription-id')).toBe('sub-of-connection')
    expect(agent.schemeReads).toBe(1)
  })

  it("takes the subscriptionId input, trimmed, over the connection's subscription", () => {
    agent.inputs.subscriptionId = '  sub-of-input '
    expect(azurePipelinesRunner().getInput('subscription-id')).toBe('sub-of-input')
  })

  it('answers an empty subscription when neither the input nor the connection has one', () => {
    agent.inputs.subscriptionId = '  '
    agent.endpoints[ID]!.data = {}
    expect(azurePipelinesRunner().getInput('subscription-id')).toBe('')
  })

  it('reads the other inputs by their camelCase names, trimmed, empty when not set', () => {
    agent.inputs.hsmName = '  contoso-hsm  '
    agent.inputs.removeBootstrapAssignment = 'true'
    const runner = azurePipelinesRunner()
    expect(runner.getInput('hsm-name')).toBe('contoso-hsm')
    expect(runner.getInput('remove-bootstrap-assignment')).toBe('true')
    expect(runner.getInput('account-name')).toBe('')
    expect(agent.schemeReads).toBe(0)
  })

  it.each([[undefined], [''], ['   ']])(
    'refuses a missing azureSubscription input (%j) when a sign-in input is asked for',
    value => {
      agent.inputs.azureSubscription = value
      const runner = azurePipelinesRunner()
      expect(() => runner.getInput('auth-type')).toThrow(
        "Input 'azureSubscription' is required: the Azure Resource Manager service connection " +
          '(workload identity federation) to sign in with.'
      )
      expect(agent.schemeReads).toBe(0)
    }
  )

  it('reads the connection the input names, trimmed', () => {
    agent.inputs.azureSubscription = `  ${ID} `
    expect(azurePipelinesRunner().getInput('client-id')).toBe('client-1')
  })
})

describe('what the task tells the agent', () => {
  it('sets an output as an output variable of its camelCase name', () => {
    azurePipelinesRunner().setOutput('key-uri', 'https://hsm/keys/k/1')
    expect(told('setVariable')).toEqual([['keyUri', 'https://hsm/keys/k/1', false, true]])
  })

  it("logs in the task's words, with no line the agent would read as a command", () => {
    const runner = azurePipelinesRunner()
    runner.info('Set hsm-name to go on.\n##vso[task.setvariable variable=x]1')
    runner.warning('key-uri is empty')
    runner.error('##[error]account-name is wrong')
    runner.debug('see create-hsm: true')
    expect(logged).toEqual([`Set hsmName to go on.\n##${ZWSP}vso[task.setvariable variable=x]1`])
    expect(told('warning')).toEqual([['keyUri is empty']])
    expect(told('error')).toEqual([[`${ZWSP}##[error]accountName is wrong`]])
    expect(told('debug')).toEqual([['see createHsm: true']])
    expect(told('setProgress')).toEqual([])
  })

  it.each(['Waiting for ', 'Still waiting for ', 'Started: '])(
    "shows a wait's line starting %j as the task's progress",
    start => {
      const runner = azurePipelinesRunner()
      runner.info(`${start}the hsm-name HSM\nsecond line`)
      expect(told('setProgress')).toEqual([[0, `${start}the hsmName HSM`]])
    }
  )

  it("does not take a wait's words in the middle of a line for progress", () => {
    azurePipelinesRunner().info('Done. Waiting for nothing')
    expect(told('setProgress')).toEqual([])
  })

  it("groups a phase, sets the progress to the step's place, and closes the group on failure", async () => {
    const runner = azurePipelinesRunner()
    const hsm = stepGuide.findIndex(s => s.step === 'Managed HSM')
    expect(hsm).toBeGreaterThan(0)
    await expect(runner.group('Managed HSM', async () => 'done')).resolves.toBe('done')
    await expect(
      runner.group('##[Unknown phase', async () => {
        throw new Error('broke')
      })
    ).rejects.toThrow('broke')
    runner.info('Waiting for the HSM')
    const percent = Math.round((100 * hsm) / stepGuide.length)
    expect(logged).toEqual([
      '##[group]Managed HSM',
      '##[endgroup]',
      `##[group]${ZWSP}##[Unknown phase`,
      '##[endgroup]',
      'Waiting for the HSM'
    ])
    expect(told('setProgress')).toEqual([
      [percent, 'Managed HSM'],
      [percent, `${ZWSP}##[Unknown phase`],
      [percent, 'Waiting for the HSM']
    ])
  })

  it("sets the progress back to the first step's place for the first step", async () => {
    const runner = azurePipelinesRunner()
    await runner.group('Managed HSM', async () => undefined)
    await runner.group('Sign in', async () => undefined)
    expect(told('setProgress').at(-1)).toEqual([0, 'Sign in'])
  })

  it('masks each secret once', () => {
    const runner = azurePipelinesRunner()
    runner.setSecret('s3cret')
    runner.setSecret('s3cret')
    runner.setSecret('')
    runner.setSecret('other')
    expect(told('setSecret')).toEqual([['s3cret'], ['other']])
  })

  it("fails the task with the message in the task's words", () => {
    azurePipelinesRunner().setFailed('Input hsm-name is required')
    expect(told('setResult')).toEqual([[TaskResult.Failed, 'Input hsmName is required']])
  })

  it('attaches each summary as its own file, only the agent able to read it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'summary-'))
    try {
      agent.variables['Agent.TempDirectory'] = join(dir, 'not-yet')
      const runner = azurePipelinesRunner()
      await runner.summary('## Run\nhsm-name: contoso')
      await runner.summary('second')
      const attached = told('addAttachment')
      expect(attached.map(([type, title]) => [type, title])).toEqual([
        ['Distributedtask.Core.Summary', SUMMARY_TITLE],
        ['Distributedtask.Core.Summary', SUMMARY_TITLE]
      ])
      expect(SUMMARY_TITLE).toBe('Cosmos DB customer-managed key')
      const [first, second] = attached.map(([, , file]) => String(file))
      expect(first).toMatch(/[/\\]cosmos-cmk-summary-1-[0-9a-f-]{36}\.md$/)
      expect(second).toMatch(/[/\\]cosmos-cmk-summary-2-[0-9a-f-]{36}\.md$/)
      expect(readFileSync(first!, 'utf8')).toBe('## Run\nhsmName: contoso')
      expect(readFileSync(second!, 'utf8')).toBe('second')
      expect(readdirSync(join(dir, 'not-yet')).sort()).toHaveLength(2)
      if (process.platform !== 'win32') expect(statSync(first!).mode & 0o777).toBe(0o600)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('resourceTags', () => {
  const tags = () => azurePipelinesRunner().resourceTags()

  it('says only what created the resource outside a pipeline run', () => {
    expect(tags()).toEqual({ 'created-by': 'cosmos-cmk-hsm-task' })
    agent.variables['System.CollectionUri'] = 'https://dev.azure.com/contoso/'
    expect(tags()).toEqual({ 'created-by': 'cosmos-cmk-hsm-task' })
  })

  it('names the project and the run, the project encoded in the URL', () => {
    agent.variables['System.CollectionUri'] = 'https://dev.azure.com/contoso'
    agent.variables['System.TeamProject'] = 'Cosmos CMK'
    agent.variables['Build.BuildId'] = '4242'
    expect(tags()).toEqual({
      'created-by': 'cosmos-cmk-hsm-task',
      'azure-devops-project': 'https://dev.azure.com/contoso/Cosmos CMK',
      'azure-devops-run-url':
        'https://dev.azure.com/contoso/Cosmos%20CMK/_build/results?buildId=4242'
    })
  })

  it('names the project without a run where there is no build id', () => {
    agent.variables['System.CollectionUri'] = 'https://dev.azure.com/contoso/'
    agent.variables['System.TeamProject'] = 'cmk'
    expect(tags()).toEqual({
      'created-by': 'cosmos-cmk-hsm-task',
      'azure-devops-project': 'https://dev.azure.com/contoso/cmk'
    })
  })

  it("leaves out a run URL longer than Azure's 256 characters for a tag, and keeps one of exactly 256", () => {
    const base = 'https://dev.azure.com/contoso/'
    const suffix = '/_build/results?buildId=1'
    agent.variables['System.CollectionUri'] = base
    agent.variables['Build.BuildId'] = '1'
    agent.variables['System.TeamProject'] = 'p'.repeat(256 - base.length - suffix.length)
    expect(tags()['azure-devops-run-url']).toHaveLength(256)
    agent.variables['System.TeamProject'] = 'p'.repeat(257 - base.length - suffix.length)
    expect(tags()).not.toHaveProperty('azure-devops-run-url')
    expect(tags()).toHaveProperty('azure-devops-project')
  })
})

describe('getIdToken', () => {
  const local = useLocalAzure()
  /** The agent's variables for the local Azure's pipeline job and its first service connection. */
  const job = () => {
    const env = local.emulator.azurePipelinesAgentEnv()
    const connection = env.AZURE_DEVOPS_SERVICE_CONNECTION!
    return {
      requestUri: env.SYSTEM_OIDCREQUESTURI!,
      accessToken: (JSON.parse(env.ENDPOINT_AUTH_SYSTEMVSSCONNECTION!) as AccessToken).parameters
        .AccessToken,
      connection,
      scheme: env[`ENDPOINT_AUTH_SCHEME_${connection}`],
      auth: JSON.parse(env[`ENDPOINT_AUTH_${connection}`]!) as AccessToken
    }
  }
  type AccessToken = { parameters: Record<string, string> }

  beforeEach(() => {
    const { requestUri, accessToken, connection, scheme, auth } = job()
    agent.inputs.azureSubscription = connection
    agent.endpoints = {
      [connection]: {
        scheme,
        auth: {
          serviceprincipalid: auth.parameters.serviceprincipalid!,
          tenantid: auth.parameters.tenantid!
        }
      }
    }
    agent.variables['System.OidcRequestUri'] = requestUri
    agent.vssAuthorization = { parameters: { AccessToken: accessToken } }
  })

  it("asks the job's OIDC endpoint for the connection's token and masks both tokens", async () => {
    const { accessToken, connection } = job()
    const runner = azurePipelinesRunner()
    const token = await runner.getIdToken('api://AzureADTokenExchange')
    expect(decodeJwtClaims(token).aud).toBe('api://AzureADTokenExchange')
    expect(String(decodeJwtClaims(token).sub)).toContain(connection)
    const again = await runner.getIdToken('api://AzureADTokenExchange')
    const requests = local.emulator.requests()
    expect(requests).toHaveLength(2)
    expect(requests[0]).toEqual(
      expect.objectContaining({
        method: 'POST',
        host: 'dev.azure.com',
        status: 200,
        query: expect.objectContaining({ serviceConnectionId: connection })
      })
    )
    // Each request gets a token of its own; each is masked once, the job token once.
    expect(again).not.toBe(token)
    expect(told('setSecret')).toEqual([[accessToken], [token], [again]])
  })

  it('says what is missing when the agent gives no OIDC endpoint, before any request', async () => {
    delete agent.variables['System.OidcRequestUri']
    await expect(azurePipelinesRunner().getIdToken('aud')).rejects.toThrow(
      'System.OidcRequestUri is not set: ID tokens for service connections need Azure DevOps ' +
        'Services and an agent of version 3.232 or later.'
    )
    expect(local.emulator.requests()).toEqual([])
  })

  it('refuses without a job access token, before any request', async () => {
    agent.vssAuthorization = undefined
    await expect(azurePipelinesRunner().getIdToken('aud')).rejects.toThrow(
      /^The agent gave the task no job access token/
    )
    expect(local.emulator.requests()).toEqual([])
    expect(told('setSecret')).toEqual([])
  })

  it("passes on Azure DevOps' refusal of a job token it does not know, masked, with no ID token", async () => {
    agent.vssAuthorization = { parameters: { AccessToken: 'c'.repeat(52) } }
    await expect(azurePipelinesRunner().getIdToken('aud')).rejects.toThrow(
      /^Azure DevOps (refused the job access token|answered the ID-token request with its sign-in page)/
    )
    expect(told('setSecret')).toEqual([['c'.repeat(52)]])
  })
})

describe('useAgentNetwork', () => {
  const savedEnv = { ...process.env }
  afterEach(() => {
    for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key]
    Object.assign(process.env, savedEnv)
  })

  it('leaves the network alone on an agent without a proxy or a CA', () => {
    delete process.env.HTTPS_PROXY
    const runner = { setSecret: jest.fn<(value: string) => void>() }
    expect(useAgentNetwork(runner)).toEqual([])
    expect(process.env.HTTPS_PROXY).toBeUndefined()
    expect(runner.setSecret).not.toHaveBeenCalled()
  })

  it("routes through the agent's proxy, masks its password, and warns of the bypass entries it cannot use", () => {
    agent.proxy = {
      proxyUrl: 'http://proxy.contoso:8080',
      proxyPassword: 'proxy-pass',
      proxyBypassHosts: ['^localhost$', '\\.contoso\\.com$', 'https?://.*\\.(net|org)']
    }
    const runner = { setSecret: jest.fn<(value: string) => void>() }
    expect(useAgentNetwork(runner)).toEqual([
      "Agent.ProxyBypassList entry 'https?://.*\\.(net|org)' is a pattern the Azure SDK cannot use " +
        '(it takes host names only), so requests it matches still go through the proxy.'
    ])
    expect(runner.setSecret).toHaveBeenCalledWith('proxy-pass')
    expect(process.env.HTTPS_PROXY).toBe('http://proxy.contoso:8080')
    expect(process.env.NO_PROXY).toBe('localhost,.contoso.com')
  })

  it('does not mask anything for a proxy without a password', () => {
    agent.proxy = { proxyUrl: 'http://proxy.contoso:8080' }
    const runner = { setSecret: jest.fn<(value: string) => void>() }
    expect(useAgentNetwork(runner)).toEqual([])
    expect(runner.setSecret).not.toHaveBeenCalled()
  })

  it('refuses an agent CA file it cannot read, naming it', () => {
    agent.cert = { caFile: join(tmpdir(), 'no-such-agent-ca.pem') }
    expect(() => useAgentNetwork({ setSecret: () => undefined })).toThrow(
      /^The agent's CA certificate file \(Agent\.CAInfo\) '.*no-such-agent-ca\.pem' cannot be read: /
    )
  })
})
