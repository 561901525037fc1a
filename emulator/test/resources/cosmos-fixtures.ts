import type { ScenarioCosmosAccount } from '../../src/core/scenario-types.js'
import { armService } from '../../src/services/arm/index.js'
import { COSMOS_FP, DEPLOYER, SUB } from './test-tenant.js'
import { cosmosPath, pathOf, queryOf } from './arm-paths.js'
import { Harness, type JsonResponse } from './harness.js'
import { HSM, seed } from './hsm-fixtures.js'

export const KEY_URI = `https://${HSM}.managedhsm.azure.net/keys/cmk`
export const KEY2_URI = `https://${HSM}.managedhsm.azure.net/keys/cmk2`
export const UAI_ID = `/subscriptions/${SUB}/resourceGroups/cmk-rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/cmk-id`
export const UAI_PRINCIPAL = 'a1a1a1a1-0000-4000-8000-000000000001'
const API = '2025-10-15'

/**
 * A user-assigned identity, an HSM with the keys `cmk` and `cmk2`, both usable by the Azure
 * Cosmos DB first-party identity and the user-assigned one (Crypto Service Encryption User at
 * /keys), the deployer a Crypto User, and the given accounts.
 */
export function cmkWorld(h: Harness, accounts: ScenarioCosmosAccount[]): void {
  const grant = (principalId: string) => ({
    role: 'Managed HSM Crypto Service Encryption User',
    principalId,
    scope: '/keys'
  })
  seed(h, {
    userAssignedIdentities: [{ name: 'cmk-id', principalId: UAI_PRINCIPAL }],
    managedHsms: [
      {
        name: HSM,
        initialAdminObjectIds: [DEPLOYER],
        keys: [
          { name: 'cmk', size: 2048, ops: ['wrapKey', 'unwrapKey'] },
          { name: 'cmk2', size: 2048, ops: ['wrapKey', 'unwrapKey'] }
        ],
        roleAssignments: [
          grant(COSMOS_FP),
          grant(UAI_PRINCIPAL),
          { role: 'Managed HSM Crypto User', principalId: DEPLOYER, scope: '/keys' }
        ]
      }
    ],
    cosmosAccounts: accounts
  })
}

export const patchAccount = (h: Harness, name: string, body: unknown): Promise<JsonResponse> =>
  h.call(armService, { method: 'PATCH', path: cosmosPath(name), body, apiVersion: API })
export const putAccount = (h: Harness, name: string, body: unknown): Promise<JsonResponse> =>
  h.call(armService, { method: 'PUT', path: cosmosPath(name), body, apiVersion: API })
export const getAccount = (h: Harness, name: string): Promise<JsonResponse> =>
  h.call(armService, { method: 'GET', path: cosmosPath(name), apiVersion: API })
export const deleteAccount = (h: Harness, name: string): Promise<JsonResponse> =>
  h.call(armService, { method: 'DELETE', path: cosmosPath(name), apiVersion: API })
/** GET on an operation URL an LRO answered with. */
export const poll = (h: Harness, url: string): Promise<JsonResponse> =>
  h.call(armService, { method: 'GET', path: pathOf(url), apiVersion: queryOf(url)['api-version']! })

/** The current version of a key of the fixtures' HSM. */
export function currentVersion(h: Harness, key = 'cmk'): string {
  return h.world.hsmDataPlanes[HSM]!.keys[key]!.versions.at(-1)!.version
}
