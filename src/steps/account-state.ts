import type { CosmosAccountState } from '../azure/api.js'

/** Identity values compare without case or surrounding space (`UserAssignedIdentity=<id>` ids included). */
export function sameIdentity(a: string | undefined, b: string): boolean {
  return (a ?? '').trim().toLowerCase() === b.trim().toLowerCase()
}

export function isSucceeded(account: CosmosAccountState): boolean {
  return /^succeeded$/i.test(account.provisioningState ?? 'Succeeded')
}

export function hasSystemAssigned(account: CosmosAccountState): boolean {
  return /systemassigned/i.test(account.identity.type)
}

export function userAssignedIds(account: CosmosAccountState): string[] {
  return Object.keys(account.identity.userAssignedIdentities)
}

export function hasUserAssigned(account: CosmosAccountState, identityId: string): boolean {
  return userAssignedIds(account).some(id => id.toLowerCase() === identityId.toLowerCase())
}

export function describeAccount(account: CosmosAccountState): string {
  return `${account.provisioningState ?? '?'}, key ${account.keyVaultKeyUri ?? 'none'}, default identity ${account.defaultIdentity ?? 'none'}`
}
