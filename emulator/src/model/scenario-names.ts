import type { Scenario } from '../core/scenario-types.js'
import { defaultScenario } from '../core/scenario.js'
import { workflowFromScenario } from './github-workflow.js'
import { COSMOS_FIRST_PARTY_APP_ID, UAI_TYPE, resourceId } from './ids.js'

/**
 * The names and ids a scenario defines that clients need: what `npm run emulator` prints as
 * `AZURE_*`, plus the principals around them. Fields a scenario leaves to generation are undefined.
 */
export interface ScenarioNames {
  tenantId: string
  subscriptionId?: string
  /** App (client) id of the workload identity the pipeline signs in as (`AZURE_CLIENT_ID`). */
  clientId?: string
  /** Object id of that app's service principal. */
  clientObjectId?: string
  resourceGroup?: string
  location?: string
  hsmName?: string
  /** Name of the user-assigned identity. */
  userAssignedIdentity?: string
  /** Its resource id. */
  userAssignedIdentityId?: string
  userAssignedIdentityPrincipalId?: string
  userAssignedIdentityClientId?: string
  /** The Azure Cosmos DB first-party application (the same in every public-cloud tenant). */
  cosmosAppId: string
  /** Object id of the Azure Cosmos DB service principal in the scenario's tenant. */
  cosmosObjectId?: string
  /** Subject and repository of the GitHub workflow whose ID tokens the emulator issues. */
  githubSubject: string
  githubRepository: string
}

/** The default scenario defines every name. */
export type DefaultScenarioNames = Required<ScenarioNames>

export function scenarioNames(s: Scenario): ScenarioNames {
  const d = s.defaults ?? {}
  const sub =
    s.subscriptions.find(x => x.subscriptionId.toLowerCase() === d.subscriptionId?.toLowerCase()) ??
    s.subscriptions[0]
  const groups = sub?.resourceGroups ?? []
  const rg = groups.find(g => g.name.toLowerCase() === d.resourceGroup?.toLowerCase()) ?? groups[0]
  const identities = groups.flatMap(g =>
    (g.userAssignedIdentities ?? []).map(identity => ({ group: g.name, ...identity }))
  )
  const uaiName = d.userAssignedIdentity ?? identities[0]?.name
  const uai = identities.find(u => u.name === uaiName)
  const clientId = d.clientId ?? s.applications?.[0]?.appId
  const app = s.applications?.find(a => a.appId.toLowerCase() === clientId?.toLowerCase())
  const cosmos = s.servicePrincipals?.find(
    sp => sp.appId.toLowerCase() === COSMOS_FIRST_PARTY_APP_ID
  )
  const workflow = workflowFromScenario(s, '')
  return {
    tenantId: s.tenantId,
    subscriptionId: d.subscriptionId ?? sub?.subscriptionId,
    clientId,
    clientObjectId: app?.servicePrincipalId,
    resourceGroup: d.resourceGroup ?? rg?.name,
    location: d.location ?? rg?.location,
    hsmName: d.hsmName ?? groups.flatMap(g => g.managedHsms ?? [])[0]?.name,
    userAssignedIdentity: uaiName,
    userAssignedIdentityId:
      uaiName && uai && sub
        ? resourceId(sub.subscriptionId, uai.group, UAI_TYPE, uaiName)
        : undefined,
    userAssignedIdentityPrincipalId: uai?.principalId,
    userAssignedIdentityClientId: uai?.clientId,
    cosmosAppId: COSMOS_FIRST_PARTY_APP_ID,
    cosmosObjectId: cosmos?.id,
    githubSubject: workflow.subject,
    githubRepository: workflow.repository
  }
}

function requireAll(names: ScenarioNames): DefaultScenarioNames {
  const all: (keyof ScenarioNames)[] = [
    'subscriptionId',
    'clientId',
    'clientObjectId',
    'resourceGroup',
    'location',
    'hsmName',
    'userAssignedIdentity',
    'userAssignedIdentityId',
    'userAssignedIdentityPrincipalId',
    'userAssignedIdentityClientId',
    'cosmosObjectId'
  ]
  const missing = all.filter(k => names[k] === undefined)
  if (missing.length) throw new Error(`The default scenario lacks ${missing.join(', ')}`)
  return Object.freeze(names as DefaultScenarioNames)
}

/** The well-known names and ids of emulator/scenarios/default.json. */
export const defaultNames: DefaultScenarioNames = requireAll(scenarioNames(defaultScenario()))
