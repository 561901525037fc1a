// Placeholder replaced by the resource seeding implementation.
import type { World } from '../../core/world.js'
import type { Scenario } from '../../core/scenario-types.js'

export interface SeedEnv {
  now(): number
  newGuid(): string
  random(): number
}

/** Seeds user-assigned identities, HSMs (with keys and role assignments) and Cosmos DB accounts. */
export function seedResources(world: World, scenario: Scenario, env: SeedEnv): void {
  void world
  void scenario
  void env
}
