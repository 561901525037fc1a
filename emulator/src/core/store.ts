import type { Scenario } from './scenario-types.js'
import { emptyWorld, type Application, type World } from './world.js'
import { seedResources, type SeedEnv } from '../services/resources/seed.js'

/** Federated credentials default to the audience Azure recommends for workload identity federation. */
export const DEFAULT_FEDERATED_AUDIENCE = 'api://AzureADTokenExchange'

/** Where the local Azure keeps its state. Only in memory for now; the interface leaves room for more. */
export interface Store {
  /** The live state; services mutate it directly. */
  readonly world: World
  /** Rebuilds the world from a scenario. */
  reset(scenario: Scenario): void
  /** A deep copy of the world. */
  snapshot(): World
  /** Replaces the world with a copy of the given one (e.g. a snapshot taken earlier). */
  restore(world: World): void
}

export class MemoryStore implements Store {
  private current: World

  constructor(private readonly env: SeedEnv) {
    this.current = emptyWorld('00000000-0000-0000-0000-000000000000')
  }

  get world(): World {
    return this.current
  }

  reset(scenario: Scenario): void {
    this.current = buildWorld(scenario, this.env)
  }

  snapshot(): World {
    return structuredClone(this.current)
  }

  restore(world: World): void {
    this.current = structuredClone(world)
  }
}

/** Builds a world from a scenario: directory objects here, ARM resources through seedResources. */
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
      world.resourceGroups[
        `/subscriptions/${subscriptionId}/resourcegroups/${rg.name}`.toLowerCase()
      ] = { subscriptionId, name: rg.name, location: rg.location }
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
  return world
}
