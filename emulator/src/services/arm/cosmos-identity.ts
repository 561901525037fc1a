import type { CosmosIdentityType, World } from '../../core/world.js'
import {
  hasSystemAssigned,
  hasUserAssigned,
  parseDefaultIdentity,
  type DefaultIdentity
} from '../../model/cosmos-identity.js'
import { COSMOS_FIRST_PARTY_APP_ID, UAI_TYPE, parseResourceId, worldKey } from '../../model/ids.js'

export { hasSystemAssigned, hasUserAssigned, parseDefaultIdentity }

/** The managed identities of a Cosmos DB account. */
export interface AccountIdentity {
  type: CosmosIdentityType
  /** User-assigned identity resource ids, as the client spelled them. */
  userAssigned: string[]
  systemPrincipalId?: string
}

const TYPES: Record<string, CosmosIdentityType> = {
  none: 'None',
  systemassigned: 'SystemAssigned',
  userassigned: 'UserAssigned',
  'systemassigned,userassigned': 'SystemAssigned,UserAssigned'
}

/** Reads the `identity` of a request body; a problem message when it is malformed. */
export function parseIdentity(
  value: unknown
): { type: CosmosIdentityType; userAssigned: string[] } | string {
  if (typeof value !== 'object' || value === null)
    return 'The property "identity" must be an object.'
  const v = value as { type?: unknown; userAssignedIdentities?: unknown }
  const type =
    typeof v.type === 'string' ? TYPES[v.type.replace(/\s/g, '').toLowerCase()] : undefined
  if (!type) {
    return `The identity type '${String(v.type)}' is not valid. Use 'None', 'SystemAssigned', 'UserAssigned' or 'SystemAssigned,UserAssigned'.`
  }
  const uais = v.userAssignedIdentities
  if (uais !== undefined && uais !== null && (typeof uais !== 'object' || Array.isArray(uais))) {
    return 'The property "identity.userAssignedIdentities" must be an object keyed by identity resource id.'
  }
  const ids = Object.keys((uais ?? {}) as object)
  if (hasUserAssigned(type) && ids.length === 0) {
    return `The identity type '${type}' requires at least one entry in "identity.userAssignedIdentities".`
  }
  if (!hasUserAssigned(type) && ids.length > 0) {
    return `"identity.userAssignedIdentities" must be empty when the identity type is '${type}'.`
  }
  const bad = ids.find(id => parseResourceId(id)?.type.toLowerCase() !== UAI_TYPE.toLowerCase())
  if (bad) return `'${bad}' is not a user-assigned identity resource id.`
  return { type, userAssigned: ids }
}

export function malformedDefaultIdentityMessage(accountName: string): string {
  return (
    `The given default identity for ${accountName} is not valid. The format for the default identity ` +
    "is not valid, please use 'FirstPartyIdentity'/'SystemAssignedIdentity'/'UserAssignedIdentity=<UA_resource_id>'"
  )
}

/**
 * The directory object a default identity stands for on this account: the Cosmos DB first-party
 * app's service principal in the tenant, the account's system-assigned principal, or the
 * user-assigned identity's principal. A problem message when the account does not have it.
 */
export function defaultIdentityPrincipal(
  world: World,
  accountName: string,
  identity: DefaultIdentity,
  account: AccountIdentity
): { principalId: string | undefined } | { problem: string } {
  if (identity.kind === 'FirstPartyIdentity') {
    const sp = Object.values(world.servicePrincipals).find(
      s => s.appId.toLowerCase() === COSMOS_FIRST_PARTY_APP_ID
    )
    return { principalId: sp?.id }
  }
  if (identity.kind === 'SystemAssignedIdentity') {
    if (!hasSystemAssigned(account.type)) {
      return {
        problem: `The default identity 'SystemAssignedIdentity' cannot be used: the database account ${accountName} has no system-assigned identity.`
      }
    }
    return { principalId: account.systemPrincipalId }
  }
  const attached = account.userAssigned.some(id => id.toLowerCase() === identity.id.toLowerCase())
  if (!attached) {
    return {
      problem: `The user-assigned identity '${identity.id}' given as default identity is not assigned to the database account ${accountName}. Add it to "identity.userAssignedIdentities" first.`
    }
  }
  return { principalId: world.userAssignedIdentities[worldKey(identity.id)]?.principalId }
}
