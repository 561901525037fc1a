import type { CosmosIdentityType } from '../core/world.js'
import { UAI_TYPE, parseResourceId } from './ids.js'

/** A Cosmos DB account's `defaultIdentity`, read. */
export type DefaultIdentity =
  | { kind: 'FirstPartyIdentity' }
  | { kind: 'SystemAssignedIdentity' }
  | { kind: 'UserAssignedIdentity'; id: string }

export function hasSystemAssigned(type: CosmosIdentityType): boolean {
  return type === 'SystemAssigned' || type === 'SystemAssigned,UserAssigned'
}

export function hasUserAssigned(type: CosmosIdentityType): boolean {
  return type === 'UserAssigned' || type === 'SystemAssigned,UserAssigned'
}

export function parseDefaultIdentity(value: string): DefaultIdentity | undefined {
  if (/^FirstPartyIdentity$/i.test(value)) return { kind: 'FirstPartyIdentity' }
  if (/^SystemAssignedIdentity$/i.test(value)) return { kind: 'SystemAssignedIdentity' }
  const m = /^UserAssignedIdentity=(.+)$/i.exec(value)
  if (m && parseResourceId(m[1]!)?.type.toLowerCase() === UAI_TYPE.toLowerCase()) {
    return { kind: 'UserAssignedIdentity', id: m[1]! }
  }
  return undefined
}
