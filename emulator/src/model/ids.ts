/** Resource ids as Azure spells them, and the lower-case keys the world stores them under. */

export const HSM_TYPE = 'Microsoft.KeyVault/managedHSMs'
export const UAI_TYPE = 'Microsoft.ManagedIdentity/userAssignedIdentities'
export const COSMOS_TYPE = 'Microsoft.DocumentDB/databaseAccounts'

/** The Azure Cosmos DB first-party application (public cloud). */
export const COSMOS_FIRST_PARTY_APP_ID = 'a232010e-820c-4083-83bb-3ace5fc29d0b'

const GUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export function isGuid(value: unknown): value is string {
  return typeof value === 'string' && GUID_PATTERN.test(value)
}

export function worldKey(id: string): string {
  return id.toLowerCase()
}

export function resourceGroupKey(subscriptionId: string, resourceGroup: string): string {
  return `/subscriptions/${subscriptionId}/resourcegroups/${resourceGroup}`.toLowerCase()
}

export function resourceId(
  subscriptionId: string,
  resourceGroup: string,
  type: string,
  name: string
): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/${type}/${name}`
}

export function hsmHost(name: string): string {
  return `${name.toLowerCase()}.managedhsm.azure.net`
}

export function hsmUri(name: string): string {
  return `https://${hsmHost(name)}/`
}

/** Splits an ARM resource id into its parts; undefined when it is not a resource id. */
export function parseResourceId(
  id: string
): { subscriptionId: string; resourceGroup: string; type: string; name: string } | undefined {
  const m =
    /^\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)\/providers\/([^/]+\/[^/]+)\/([^/]+)$/i.exec(
      id
    )
  if (!m) return undefined
  return { subscriptionId: m[1]!, resourceGroup: m[2]!, type: m[3]!, name: m[4]! }
}
