import type { Scenario } from '../core/scenario-types.js'
import { emptyWorld, type Application, type World } from '../core/world.js'
import { resourceGroupKey } from './ids.js'
import { seedResources, type SeedEnv } from './seed.js'
import { seedGitHub } from './github-repository.js'

/** Federated credentials default to the audience Azure recommends for workload identity federation. */
const DEFAULT_FEDERATED_AUDIENCE = 'api://AzureADTokenExchange'

/**
 * Builds a world from a scenario: subscriptions and directory objects here, ARM resources through
 * seedResources.
 */
export function buildWorld(scenario: Scenario, env: SeedEnv): World {
  const world = emptyWorld(scenario.tenantId.toLowerCase())
  const now = env.now()

  for (const sub of scenario.subscriptions) {
    const subscriptionId = sub.subscriptionId.toLowerCase()
    const providers: World['subscriptions'][string]['providers'] = {}
    for (const [namespace, state] of Object.entries(sub.providers ?? {})) {
      providers[namespace.toLowerCase()] = { namespace, state }
    }
    world.subscriptions[subscriptionId] = {
      subscriptionId,
      displayName: sub.displayName ?? `Subscription ${subscriptionId.slice(0, 8)}`,
      tenantId: world.tenantId,
      providers
    }
    for (const rg of sub.resourceGroups ?? []) {
      world.resourceGroups[resourceGroupKey(subscriptionId, rg.name)] = {
        subscriptionId,
        name: rg.name,
        location: rg.location
      }
    }
  }

  for (const app of scenario.applications ?? []) {
    const application: Application = {
      appId: app.appId.toLowerCase(),
      displayName: app.displayName,
      servicePrincipalId: (app.servicePrincipalId ?? env.newGuid()).toLowerCase(),
      clientSecrets: [...(app.clientSecrets ?? [])],
      federatedCredentials: (app.federatedCredentials ?? []).map(fc => ({
        name: fc.name,
        issuer: fc.issuer,
        subject: fc.subject,
        audiences: fc.audiences ?? [DEFAULT_FEDERATED_AUDIENCE]
      })),
      armRoles: (app.armRoles ?? []).map(r => ({ ...r })),
      canReadDirectory: app.canReadDirectory ?? false
    }
    world.applications[application.appId] = application
    world.servicePrincipals[application.servicePrincipalId] = {
      id: application.servicePrincipalId,
      appId: application.appId,
      displayName: application.displayName,
      servicePrincipalType: 'Application',
      replicatedAt: now
    }
  }

  for (const sp of scenario.servicePrincipals ?? []) {
    const id = (sp.id ?? env.newGuid()).toLowerCase()
    world.servicePrincipals[id] = {
      id,
      appId: sp.appId.toLowerCase(),
      displayName: sp.displayName,
      servicePrincipalType: 'Application',
      replicatedAt: now
    }
  }

  if (scenario.directoryReaders?.length) {
    world.directoryReaders = scenario.directoryReaders.map(id => id.toLowerCase())
  }

  seedResources(world, scenario, env)
  world.github = seedGitHub(scenario, now)
  return world
}
