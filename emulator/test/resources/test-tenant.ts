/** The test tenant: one subscription, one resource group and the principals the resource tests act as. */
import { emptyWorld, type ArmRoleAssignment, type World } from '../../src/core/world.js'

export const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47'
export const SUB = '11111111-2222-3333-4444-555555555555'
export const RG = 'cmk-rg'
export const DEPLOYER_APP = '0a0a0a0a-0000-0000-0000-000000000001'
export const DEPLOYER = 'd0d0d0d0-0000-0000-0000-000000000001'
export const READER_APP = '0a0a0a0a-0000-0000-0000-000000000002'
export const READER = 'd0d0d0d0-0000-0000-0000-000000000002'
export const COSMOS_FP_APP = 'a232010e-820c-4083-83bb-3ace5fc29d0b'
export const COSMOS_FP = 'c0c0c0c0-0000-0000-0000-000000000001'

export function addApp(
  world: World,
  appId: string,
  objectId: string,
  roles: ArmRoleAssignment[]
): void {
  world.applications[appId] = {
    appId,
    displayName: `app-${appId.slice(-4)}`,
    servicePrincipalId: objectId,
    clientSecrets: [],
    federatedCredentials: [],
    armRoles: roles,
    canReadDirectory: false
  }
  world.servicePrincipals[objectId] = {
    id: objectId,
    appId,
    displayName: `app-${appId.slice(-4)}`,
    servicePrincipalType: 'Application',
    replicatedAt: 0
  }
}

/** A tenant with one subscription (providers registered), one resource group, a Contributor
 * deployer, a Reader and the Azure Cosmos DB first-party service principal. */
export function baseWorld(): World {
  const world = emptyWorld(TENANT)
  world.subscriptions[SUB] = {
    subscriptionId: SUB,
    displayName: 'Test subscription',
    tenantId: TENANT,
    providers: Object.fromEntries(
      ['Microsoft.DocumentDB', 'Microsoft.KeyVault', 'Microsoft.ManagedIdentity'].map(ns => [
        ns.toLowerCase(),
        { namespace: ns, state: 'Registered' as const }
      ])
    )
  }
  world.resourceGroups[`/subscriptions/${SUB}/resourcegroups/${RG}`] = {
    subscriptionId: SUB,
    name: RG,
    location: 'westeurope'
  }
  addApp(world, DEPLOYER_APP, DEPLOYER, [{ role: 'Contributor', scope: `/subscriptions/${SUB}` }])
  addApp(world, READER_APP, READER, [{ role: 'Reader', scope: `/subscriptions/${SUB}` }])
  world.servicePrincipals[COSMOS_FP] = {
    id: COSMOS_FP,
    appId: COSMOS_FP_APP,
    displayName: 'Azure Cosmos DB',
    servicePrincipalType: 'Application',
    replicatedAt: 0
  }
  return world
}
