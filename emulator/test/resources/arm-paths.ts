/** Resource Manager paths of the test resource group, and what requests and answers carry. */
import { DEPLOYER, RG, SUB, TENANT } from './test-tenant.js'

export const rgPath = `/subscriptions/${SUB}/resourceGroups/${RG}`
export const hsmPath = (name: string) =>
  `${rgPath}/providers/Microsoft.KeyVault/managedHSMs/${name}`
export const uaiPath = (name: string) =>
  `${rgPath}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`
export const cosmosPath = (name: string) =>
  `${rgPath}/providers/Microsoft.DocumentDB/databaseAccounts/${name}`

/** What ARM puts around a resource of the test resource group (in westeurope). */
export function armEnvelope(type: string, name: string) {
  return { id: `${rgPath}/providers/${type}/${name}`, name, type, location: 'westeurope' }
}

export function hsmCreateBody(
  overrides: Record<string, unknown> = {},
  props: Record<string, unknown> = {}
): unknown {
  return {
    location: 'westeurope',
    sku: { family: 'B', name: 'Standard_B1' },
    tags: { env: 'test' },
    properties: {
      tenantId: TENANT,
      initialAdminObjectIds: [DEPLOYER],
      enableSoftDelete: true,
      softDeleteRetentionInDays: 7,
      enablePurgeProtection: true,
      ...props
    },
    ...overrides
  }
}

export function pathOf(url: string): string {
  return new URL(url).pathname
}

export function queryOf(url: string): Record<string, string> {
  return Object.fromEntries(new URL(url).searchParams)
}
