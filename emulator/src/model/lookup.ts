import type { ManagedHsm, World } from '../core/world.js'

export function findHsmByName(world: World, name: string): ManagedHsm | undefined {
  return Object.values(world.managedHsms).find(h => h.name.toLowerCase() === name.toLowerCase())
}
