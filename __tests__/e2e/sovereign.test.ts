/**
 * Azure US Government end to end, against the local Azure's US Government hosts
 * (login.microsoftonline.us, management.usgovcloudapi.net, graph.microsoft.us,
 * <name>.managedhsm.usgovcloudapi.net): the bundled action with `environment: AzureUSGovernment`,
 * and the Azure Pipelines task with a service connection to that cloud, each from an empty
 * subscription. The HSM URI comes from ARM, the Cosmos DB principal from the cloud's own
 * application id, and no request goes to a public-cloud host.
 */
import { describe, expect, it } from '@jest/globals'
import {
  agentEnvOf,
  assertExit0,
  assertSucceeded,
  defaultNames,
  emptySubscriptionScenario,
  runTaskOn,
  taskLeaksIn,
  type Scenario
} from '../../testkit/index.js'
import { hsmCreationPerFile, labPerFile } from '../../testkit/jest-lab.js'

const GOV_COSMOS_APP = '57506a73-e302-42a9-b869-6f12d9ec29e9'
const GOV_HSM = `https://${defaultNames.hsmName}.managedhsm.usgovcloudapi.net`
const PUBLIC_HOSTS =
  /(^|\.)(login\.microsoftonline\.com|management\.azure\.com|graph\.microsoft\.com|managedhsm\.azure\.net)$/

/**
 * The empty subscription in a US Government tenant: GitHub's credentials for the cloud's
 * token-exchange audience, and the Azure DevOps connection to AzureUSGovernment with its Entra
 * issuer there. (The local Azure's Graph answers there with Azure Government's Azure Cosmos DB
 * application id.)
 */
function governmentScenario(): Scenario {
  const scenario = emptySubscriptionScenario()
  for (const app of scenario.applications ?? []) {
    for (const fc of app.federatedCredentials ?? []) {
      if (fc.issuer === 'https://token.actions.githubusercontent.com') {
        fc.audiences = ['api://AzureADTokenExchangeUSGov']
      }
      fc.issuer = fc.issuer.replace('login.microsoftonline.com', 'login.microsoftonline.us')
    }
  }
  for (const sc of scenario.azureDevOps?.serviceConnections ?? [])
    sc.environment = 'AzureUSGovernment'
  return scenario
}

const createHsm = hsmCreationPerFile()
const lab = labPerFile(governmentScenario)

function publicHostsReached(): string[] {
  return [...new Set(lab.emulator.requests().map(r => r.host))].filter(h => PUBLIC_HOSTS.test(h))
}

function account(name: string) {
  return Object.values(lab.emulator.store.world.cosmosAccounts).find(a => a.name === name)
}

describe('Azure US Government', () => {
  it('the action provisions there from an empty subscription', async () => {
    const result = await lab.run(
      lab.inputs('cosmos-gov-action', undefined, {
        environment: 'AzureUSGovernment',
        ...createHsm.actionInputs('action')
      })
    )
    assertExit0(result)
    expect(result.outputs['hsm-uri']).toBe(`${GOV_HSM}/`)
    expect(result.outputs['key-uri']).toBe(`${GOV_HSM}/keys/cosmos-cmk`)
    expect(result.outputs['cosmos-principal-id']).toBe(defaultNames.cosmosObjectId)
    expect(account('cosmos-gov-action')?.provisioningState).toBe('Succeeded')
    expect(publicHostsReached()).toEqual([])
    // the GitHub ID token was asked for the cloud's audience
    const [idToken] = lab.emulator.tokens.issued().idTokens
    const claims = JSON.parse(Buffer.from(idToken!.split('.')[1]!, 'base64url').toString())
    expect(claims.aud).toBe('api://AzureADTokenExchangeUSGov')
    expect(lab.leaks(result)).toEqual([])
  }, 120_000)

  it('the Azure Pipelines task provisions there with a connection to AzureUSGovernment', async () => {
    const env = agentEnvOf(lab)
    expect(env[`ENDPOINT_DATA_${env.AZURE_DEVOPS_SERVICE_CONNECTION}_ENVIRONMENT`]).toBe(
      'AzureUSGovernment'
    )
    const result = await runTaskOn(
      lab,
      'cosmos-gov-task',
      'system-assigned',
      createHsm.taskInputs('task')
    )
    assertSucceeded(result)
    expect(result.variables.hsmUri).toBe(`${GOV_HSM}/`)
    expect(result.variables.keyUri).toBe(`${GOV_HSM}/keys/cosmos-cmk`)
    expect(result.variables.defaultIdentity).toBe('SystemAssignedIdentity')
    expect(result.variables.accountEndpoint).toBe('https://cosmos-gov-task.documents.azure.us:443/')
    expect(publicHostsReached()).toEqual([])
    // the first-party principal was looked up under Azure Government's application id
    expect(
      lab.emulator
        .requests()
        .some(r => r.host === 'graph.microsoft.us' && r.path.includes(GOV_COSMOS_APP))
    ).toBe(true)
    expect(taskLeaksIn(lab, result)).toEqual([])
  }, 120_000)
})
