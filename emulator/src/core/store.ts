import type { Scenario } from './scenario-types.js'
import { emptyWorld, type World } from './world.js'

/** Where the local Azure keeps its state: the world, rebuilt from a scenario on reset. */
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

  constructor(private readonly build: (scenario: Scenario) => World) {
    this.current = emptyWorld('00000000-0000-0000-0000-000000000000')
  }

  get world(): World {
    return this.current
  }

  reset(scenario: Scenario): void {
    this.current = this.build(scenario)
  }

  snapshot(): World {
    return structuredClone(this.current)
  }

  restore(world: World): void {
    this.current = structuredClone(world)
  }
}
