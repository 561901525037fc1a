import { randomUUID } from 'node:crypto'
import type { ScenarioHsm, ScenarioResourceGroup } from '../../src/core/scenario-types.js'
import { seedResources } from '../../src/services/resources/seed.js'
import { hsmService } from '../../src/services/hsm/index.js'
import {
  DEPLOYER,
  Harness,
  RG,
  SUB,
  TENANT,
  type CallOptions,
  type JsonResponse
} from './harness.js'

export const HSM = 'testhsm'
export const HSM_HOST = `${HSM}.managedhsm.azure.net`
export const ADMIN_ROLE = 'a290e904-7015-4bba-90c8-60543313cdb4'
export const CRYPTO_USER = '21dbd100-6940-42c2-9190-5d6cb909625b'
export const POLICY_ADMIN = '4bd23610-cdcf-4971-bdee-bdc562cc28e4'
export const ENCRYPTION_USER = '33413926-3206-4cdd-b39a-83574fe37a17'
export const roleId = (guid: string) =>
  `Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/${guid}`

/** Seeds resources into the harness world through the real seeding function. */
export function seed(h: Harness, rg: Omit<ScenarioResourceGroup, 'name' | 'location'>): void {
  seedResources(
    h.world,
    {
      tenantId: TENANT,
      subscriptions: [
        { subscriptionId: SUB, resourceGroups: [{ name: RG, location: 'westeurope', ...rg }] }
      ]
    },
    { now: () => h.now, newGuid: () => randomUUID(), random: () => 0.5 }
  )
}

export function seedHsm(h: Harness, hsm: Partial<ScenarioHsm> = {}): void {
  seed(h, {
    managedHsms: [
      {
        name: HSM,
        initialAdminObjectIds: [DEPLOYER],
        softDeleteRetentionInDays: 7,
        enablePurgeProtection: true,
        ...hsm
      }
    ]
  })
}

/** Calls the HSM data plane as `as` (default: the deployer, the HSM's administrator). */
export function hsmCall(h: Harness, o: Omit<CallOptions, 'host'>): Promise<JsonResponse> {
  return h.call(hsmService, { host: HSM_HOST, apiVersion: '2025-07-01', ...o })
}

export function assignRole(
  h: Harness,
  principalId: string,
  roleGuid: string,
  scope: string,
  as?: string
) {
  const prefix = scope === '/' ? '' : scope
  return hsmCall(h, {
    method: 'PUT',
    path: `${prefix}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}`,
    body: { properties: { roleDefinitionId: roleId(roleGuid), principalId } },
    ...(as ? { as } : {})
  })
}
