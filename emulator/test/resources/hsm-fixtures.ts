import { randomUUID } from 'node:crypto'
import { expect } from '@jest/globals'
import type { ScenarioHsm, ScenarioResourceGroup } from '../../src/core/scenario-types.js'
import { HSM_ROLES, roleDefinitionId } from '../../src/model/role-definitions.js'
import { seedResources } from '../../src/model/seed.js'
import type { TestCertificate } from './certificates.js'
import { hsmService } from '../../src/services/hsm/index.js'
import { DEPLOYER, RG, SUB, TENANT } from './test-tenant.js'
import { Harness, type CallOptions, type JsonResponse } from './harness.js'

export const HSM = 'testhsm'
export const HSM_HOST = `${HSM}.managedhsm.azure.net`
export const {
  administrator: ADMIN_ROLE,
  cryptoUser: CRYPTO_USER,
  policyAdministrator: POLICY_ADMIN,
  serviceEncryptionUser: ENCRYPTION_USER
} = HSM_ROLES
export const roleId = roleDefinitionId

/** Seeds resources into the harness world through the real seeding function. */
/** The names of Managed HSM's built-in roles, as its role definitions list them. */
export const BUILT_IN_ROLE_NAMES = [
  'Managed HSM Administrator',
  'Managed HSM Crypto Officer',
  'Managed HSM Crypto User',
  'Managed HSM Policy Administrator',
  'Managed HSM Crypto Auditor',
  'Managed HSM Crypto Service Encryption User',
  'Managed HSM Crypto Service Release User',
  'Managed HSM Backup',
  'Managed HSM Restore'
]

/** The role names in a list of role definitions. */
export const roleNamesOf = (list: { value: { properties: { roleName: string } }[] }) =>
  list.value.map(d => d.properties.roleName)

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

/**
 * A principal the directory does not know yet cannot be assigned a role (PrincipalNotFound);
 * `replicationMs` later it can.
 */
export async function expectAssignableOnlyAfter(
  h: Harness,
  principalId: string,
  replicationMs: number
): Promise<void> {
  const early = await assignRole(h, principalId, ENCRYPTION_USER, '/keys')
  expect(early.json.error.code).toBe('PrincipalNotFound')
  h.advance(replicationMs)
  expect((await assignRole(h, principalId, ENCRYPTION_USER, '/keys')).status).toBe(201)
}

/** Starts a security-domain download to the certificates, with a quorum of 2. */
export function downloadSecurityDomain(
  h: Harness,
  certs: TestCertificate[]
): Promise<JsonResponse> {
  return hsmCall(h, {
    method: 'POST',
    path: '/securitydomain/download',
    body: { certificates: certs.map(c => c.jwk), required: 2 }
  })
}
