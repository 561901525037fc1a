import type { EmuResponse } from '../../core/service.js'
import type { ProviderRegistration } from '../../core/world.js'
import { azureError } from '../../core/errors.js'
import { regionNames } from '../../model/regions.js'
import { authorize, findResourceGroup, findSubscription, type ArmRequest } from './context.js'

/** The resource types the local Azure knows per namespace, with the api-versions clients send. */
const NAMESPACES: Record<string, { name: string; types: Record<string, string[]> }> = {
  'microsoft.documentdb': {
    name: 'Microsoft.DocumentDB',
    types: {
      databaseAccounts: ['2026-03-15', '2025-10-15', '2025-04-15', '2024-11-15'],
      databaseAccountNames: ['2026-03-15', '2025-10-15', '2025-04-15', '2024-11-15'],
      operations: ['2026-03-15', '2025-10-15'],
      locations: ['2026-03-15', '2025-10-15'],
      'locations/operationsStatus': ['2026-03-15', '2025-10-15'],
      'locations/operationResults': ['2026-03-15', '2025-10-15']
    }
  },
  'microsoft.keyvault': {
    name: 'Microsoft.KeyVault',
    types: {
      vaults: ['2026-02-01', '2025-05-01', '2024-11-01'],
      managedHSMs: ['2026-02-01', '2025-05-01', '2024-11-01'],
      'managedHSMs/keys': ['2026-02-01', '2025-05-01', '2024-11-01'],
      'managedHSMs/keys/versions': ['2026-02-01', '2025-05-01', '2024-11-01'],
      deletedManagedHSMs: ['2026-02-01', '2025-05-01'],
      'locations/managedHsmOperationResults': ['2026-02-01', '2025-05-01'],
      checkMhsmNameAvailability: ['2026-02-01', '2025-05-01']
    }
  },
  'microsoft.managedidentity': {
    name: 'Microsoft.ManagedIdentity',
    types: {
      userAssignedIdentities: ['2024-11-30', '2023-01-31'],
      operations: ['2024-11-30', '2023-01-31']
    }
  }
}

function canonicalNamespace(namespace: string): string {
  return NAMESPACES[namespace.toLowerCase()]?.name ?? namespace
}

function registration(
  a: ArmRequest,
  subscriptionId: string,
  namespace: string
): ProviderRegistration {
  const sub = a.world.subscriptions[subscriptionId.toLowerCase()]!
  return (
    sub.providers[namespace.toLowerCase()] ?? {
      namespace: canonicalNamespace(namespace),
      state: 'NotRegistered'
    }
  )
}

function providerBody(subscriptionId: string, namespace: string, p: ProviderRegistration): unknown {
  const known = NAMESPACES[namespace.toLowerCase()]
  const locations = regionNames()
  return {
    id: `/subscriptions/${subscriptionId}/providers/${canonicalNamespace(namespace)}`,
    namespace: canonicalNamespace(namespace),
    registrationState: p.state,
    registrationPolicy: 'RegistrationRequired',
    resourceTypes: Object.entries(known?.types ?? {}).map(([resourceType, apiVersions]) => ({
      resourceType,
      locations: resourceType.includes('/') || resourceType === 'operations' ? [] : locations,
      apiVersions,
      capabilities: 'SupportsTags, SupportsLocation'
    }))
  }
}

function requireValidNamespace(namespace: string): void {
  if (/^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)+$/.test(namespace)) return
  throw azureError(
    404,
    'InvalidResourceNamespace',
    `The resource namespace '${namespace}' is invalid.`
  )
}

export function getProvider(a: ArmRequest, subscriptionId: string, namespace: string): EmuResponse {
  findSubscription(a, subscriptionId)
  requireValidNamespace(namespace)
  authorize(
    a,
    'Microsoft.Resources/subscriptions/providers/read',
    `/subscriptions/${subscriptionId}`
  )
  return {
    status: 200,
    body: providerBody(subscriptionId, namespace, registration(a, subscriptionId, namespace))
  }
}

export function registerProvider(
  a: ArmRequest,
  subscriptionId: string,
  namespace: string
): EmuResponse {
  const sub = findSubscription(a, subscriptionId)
  requireValidNamespace(namespace)
  authorize(
    a,
    `${canonicalNamespace(namespace)}/register/action`,
    `/subscriptions/${subscriptionId}`
  )
  const current = registration(a, subscriptionId, namespace)
  if (current.state === 'NotRegistered' || current.state === 'Unregistered') {
    const next: ProviderRegistration = {
      namespace: canonicalNamespace(namespace),
      state: 'Registering',
      registeredAt: a.now + a.ctx.delay('providerRegistration')
    }
    sub.providers[namespace.toLowerCase()] = next
    return { status: 200, body: providerBody(subscriptionId, namespace, next) }
  }
  return { status: 200, body: providerBody(subscriptionId, namespace, current) }
}

export function getResourceGroup(a: ArmRequest, subscriptionId: string, name: string): EmuResponse {
  const rg = findResourceGroup(a, subscriptionId, name)
  const id = `/subscriptions/${rg.subscriptionId}/resourceGroups/${rg.name}`
  authorize(a, 'Microsoft.Resources/subscriptions/resourceGroups/read', id)
  if (a.ctx.req.method === 'HEAD') return { status: 204 }
  return {
    status: 200,
    body: {
      id,
      name: rg.name,
      type: 'Microsoft.Resources/resourceGroups',
      location: rg.location,
      ...(rg.tags ? { tags: rg.tags } : {}),
      properties: { provisioningState: 'Succeeded' }
    }
  }
}
