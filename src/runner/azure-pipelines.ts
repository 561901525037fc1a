import { randomUUID } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as tl from 'azure-pipelines-task-lib/task.js'
import { useAgentProxy, trustAgentCa } from '../auth/agent-network.js'
import {
  AZURE_DEVOPS_TOKEN_AUDIENCE,
  jobAccessToken,
  readServiceConnection,
  requestIdToken,
  type ServiceConnection
} from '../auth/azure-devops.js'
import { ActionError } from '../errors.js'
import { plainText } from '../escape.js'
import { stepGuide } from '../steps/names.js'
import { inputDefaults } from '../inputs/settings.js'
import { outputNames } from '../outputs.js'
import {
  CONNECTION_INPUT,
  SUBSCRIPTION_INPUT,
  camelCase,
  inTaskWords
} from './azure-pipelines-inputs.js'
import type { Runner } from './runner.js'

/** The title of the run's section on the pipeline run's Extensions tab. */
export const SUMMARY_TITLE = 'Cosmos DB customer-managed key'

/** The action's input and output names, which the task spells in camelCase. */
const actionNames = [...Object.keys(inputDefaults), ...outputNames]

/** A text for the log in the task's words, that the agent reads as no command. */
const say = (text: string) => plainText(inTaskWords(text, actionNames))

/** Log lines of the core that say a long wait is going on (wait.ts, steps/context.ts). */
const waitLine = /^(Waiting for |Still waiting for |Started: )/

/**
 * The Runner for an Azure Pipelines task, on azure-pipelines-task-lib: inputs by their camelCase
 * task.json names, the sign-in from the `azureSubscription` workload identity federation service
 * connection, outputs as output variables, `##[group]` per phase, progress on long waits, the
 * summary as an attachment, failure through setResult.
 */
export function azurePipelinesRunner(): Runner {
  let connection: ServiceConnection | undefined
  const serviceConnection = (): ServiceConnection => {
    if (connection) return connection
    const id = tl.getInput(CONNECTION_INPUT)?.trim()
    if (!id) {
      throw new ActionError(
        `Input '${CONNECTION_INPUT}' is required: the Azure Resource Manager service connection ` +
          '(workload identity federation) to sign in with.'
      )
    }
    connection = readServiceConnection(id, {
      scheme: key => tl.getEndpointAuthorizationScheme(key, true),
      authParameter: (key, name) => tl.getEndpointAuthorizationParameter(key, name, true),
      dataParameter: (key, name) => tl.getEndpointDataParameter(key, name, true)
    })
    return connection
  }
  const masked = new Set<string>()
  const setSecret = (value: string) => {
    if (!value || masked.has(value)) return
    masked.add(value)
    tl.setSecret(value)
  }
  let percent = 0
  let summaries = 0

  return {
    getInput(name) {
      switch (name) {
        case 'auth-type':
          serviceConnection()
          return 'oidc'
        case 'client-id':
          return serviceConnection().clientId
        case 'tenant-id':
          return serviceConnection().tenantId
        case 'environment':
          return serviceConnection().environment
        case 'audience':
          return AZURE_DEVOPS_TOKEN_AUDIENCE
        case 'subscription-id':
          return tl.getInput(SUBSCRIPTION_INPUT)?.trim() || serviceConnection().subscriptionId || ''
        default:
          return tl.getInput(camelCase(name))?.trim() ?? ''
      }
    },
    setOutput: (name, value) => tl.setVariable(camelCase(name), value, false, true),
    info: message => {
      const text = say(message)
      console.log(text)
      if (waitLine.test(text)) tl.setProgress(percent, text.split('\n')[0]!)
    },
    warning: message => tl.warning(say(message)),
    error: message => tl.error(say(message)),
    debug: message => tl.debug(say(message)),
    async group(name, fn) {
      const index = stepGuide.findIndex(s => s.step === name)
      if (index >= 0) percent = Math.round((100 * index) / stepGuide.length)
      console.log(`##[group]${plainText(name)}`)
      tl.setProgress(percent, plainText(name))
      try {
        return await fn()
      } finally {
        console.log('##[endgroup]')
      }
    },
    setSecret,
    async getIdToken() {
      // Azure DevOps issues every connection's token for one fixed audience (see the connection's
      // federated credential), so the audience the core asks for is that one.
      const requestUri = tl.getVariable('System.OidcRequestUri')
      if (!requestUri) {
        throw new ActionError(
          'System.OidcRequestUri is not set: ID tokens for service connections need Azure DevOps ' +
            'Services and an agent of version 3.232 or later.'
        )
      }
      const accessToken = jobAccessToken(tl.getEndpointAuthorization('SYSTEMVSSCONNECTION', true))
      setSecret(accessToken)
      const token = await requestIdToken({
        requestUri,
        accessToken,
        serviceConnectionId: serviceConnection().id
      })
      setSecret(token)
      return token
    },
    async summary(markdown) {
      const dir = tl.getVariable('Agent.TempDirectory') || tmpdir()
      mkdirSync(dir, { recursive: true })
      summaries += 1
      const file = join(dir, `cosmos-cmk-summary-${summaries}-${randomUUID()}.md`)
      writeFileSync(file, inTaskWords(markdown, actionNames), {
        encoding: 'utf8',
        mode: 0o600
      })
      tl.addAttachment('Distributedtask.Core.Summary', SUMMARY_TITLE, file)
    },
    setFailed: message => tl.setResult(tl.TaskResult.Failed, say(message)),
    resourceTags
  }
}

function resourceTags(): Record<string, string> {
  const tags: Record<string, string> = { 'created-by': 'cosmos-cmk-hsm-task' }
  const collection = tl.getVariable('System.CollectionUri')
  const project = tl.getVariable('System.TeamProject')
  const buildId = tl.getVariable('Build.BuildId')
  if (!collection || !project) return tags
  const base = collection.endsWith('/') ? collection : `${collection}/`
  tags['azure-devops-project'] = `${base}${project}`
  if (buildId) {
    const url = `${base}${encodeURIComponent(project)}/_build/results?buildId=${buildId}`
    // Azure allows tag values up to 256 characters.
    if (url.length <= 256) tags['azure-devops-run-url'] = url
  }
  return tags
}

/**
 * The agent's proxy and CA for every request the task makes; answers warnings about bypass entries
 * that cannot be honoured.
 */
export function useAgentNetwork(runner: Pick<Runner, 'setSecret'>): string[] {
  trustAgentCa(tl.getHttpCertConfiguration()?.caFile)
  const proxy = tl.getHttpProxyConfiguration()
  if (proxy?.proxyPassword) runner.setSecret(proxy.proxyPassword)
  const unusable = useAgentProxy(proxy)
  return unusable.map(
    entry =>
      `Agent.ProxyBypassList entry '${entry}' is a pattern the Azure SDK cannot use (it takes host ` +
      'names only), so requests it matches still go through the proxy.'
  )
}
