/**
 * Managed HSM local RBAC built-in roles, with the GUIDs, names and data actions a real HSM lists at
 * `GET /providers/Microsoft.Authorization/roleDefinitions`.
 */

const MHSM = 'Microsoft.KeyVault/managedHsm'

/** The GUIDs of the built-in roles, by a short name. */
export const HSM_ROLES = {
  administrator: 'a290e904-7015-4bba-90c8-60543313cdb4',
  cryptoOfficer: '515eb02d-2335-4d2d-92f2-b1cbdf9c3778',
  cryptoUser: '21dbd100-6940-42c2-9190-5d6cb909625b',
  policyAdministrator: '4bd23610-cdcf-4971-bdee-bdc562cc28e4',
  cryptoAuditor: '2c18b078-7c48-4d3a-af88-5a3a1b3f82b3',
  serviceEncryptionUser: '33413926-3206-4cdd-b39a-83574fe37a17',
  serviceReleaseUser: '21dbd100-6940-42c2-9190-5d6cb909625c',
  backup: '7b127d3c-77bd-4e3e-bbe0-dbb8971fa7f8',
  restore: '6efe6056-5259-49d2-8b3d-d3d73544b20b'
} as const

export interface BuiltInRole {
  guid: string
  roleName: string
  dataActions: string[]
  notDataActions: string[]
}

export const BUILT_IN_ROLES: BuiltInRole[] = [
  {
    guid: HSM_ROLES.administrator,
    roleName: 'Managed HSM Administrator',
    dataActions: [
      `${MHSM}/roleAssignments/delete/action`,
      `${MHSM}/roleAssignments/read/action`,
      `${MHSM}/roleAssignments/write/action`,
      `${MHSM}/roleDefinitions/read/action`,
      `${MHSM}/roleDefinitions/write/action`,
      `${MHSM}/roleDefinitions/delete/action`,
      `${MHSM}/securitydomain/download/action`,
      `${MHSM}/securitydomain/download/read`,
      `${MHSM}/securitydomain/upload/action`,
      `${MHSM}/securitydomain/upload/read`,
      `${MHSM}/securitydomain/transferkey/read`,
      `${MHSM}/backup/start/action`,
      `${MHSM}/restore/start/action`,
      `${MHSM}/backup/status/action`,
      `${MHSM}/restore/status/action`
    ],
    notDataActions: []
  },
  {
    guid: HSM_ROLES.cryptoOfficer,
    roleName: 'Managed HSM Crypto Officer',
    dataActions: [
      `${MHSM}/roleAssignments/delete/action`,
      `${MHSM}/roleAssignments/read/action`,
      `${MHSM}/roleAssignments/write/action`,
      `${MHSM}/roleDefinitions/read/action`,
      `${MHSM}/roleDefinitions/write/action`,
      `${MHSM}/roleDefinitions/delete/action`,
      `${MHSM}/keys/deletedKeys/read/action`,
      `${MHSM}/keys/deletedKeys/delete`,
      `${MHSM}/keys/deletedKeys/recover/action`,
      `${MHSM}/keys/export/action`
    ],
    notDataActions: []
  },
  {
    guid: HSM_ROLES.cryptoUser,
    roleName: 'Managed HSM Crypto User',
    dataActions: [
      `${MHSM}/roleDefinitions/read/action`,
      `${MHSM}/roleAssignments/read/action`,
      `${MHSM}/keys/read/action`,
      `${MHSM}/keys/write/action`,
      `${MHSM}/keys/rotate/action`,
      `${MHSM}/keys/delete`,
      `${MHSM}/keys/create`,
      `${MHSM}/keys/import/action`,
      `${MHSM}/keys/release/action`,
      `${MHSM}/keys/backup/action`,
      `${MHSM}/keys/restore/action`,
      `${MHSM}/keys/encrypt/action`,
      `${MHSM}/keys/decrypt/action`,
      `${MHSM}/keys/wrap/action`,
      `${MHSM}/keys/unwrap/action`,
      `${MHSM}/keys/sign/action`,
      `${MHSM}/keys/verify/action`,
      `${MHSM}/rng/action`
    ],
    notDataActions: []
  },
  {
    guid: HSM_ROLES.policyAdministrator,
    roleName: 'Managed HSM Policy Administrator',
    dataActions: [
      `${MHSM}/roleDefinitions/read/action`,
      `${MHSM}/roleDefinitions/write/action`,
      `${MHSM}/roleDefinitions/delete/action`,
      `${MHSM}/roleAssignments/read/action`,
      `${MHSM}/roleAssignments/write/action`,
      `${MHSM}/roleAssignments/delete/action`
    ],
    notDataActions: []
  },
  {
    guid: HSM_ROLES.cryptoAuditor,
    roleName: 'Managed HSM Crypto Auditor',
    dataActions: [
      `${MHSM}/roleAssignments/read/action`,
      `${MHSM}/roleDefinitions/read/action`,
      `${MHSM}/keys/read/action`,
      `${MHSM}/keys/deletedKeys/read/action`
    ],
    notDataActions: []
  },
  {
    guid: HSM_ROLES.serviceEncryptionUser,
    roleName: 'Managed HSM Crypto Service Encryption User',
    dataActions: [
      `${MHSM}/keys/read/action`,
      `${MHSM}/keys/wrap/action`,
      `${MHSM}/keys/unwrap/action`
    ],
    notDataActions: []
  },
  {
    guid: HSM_ROLES.serviceReleaseUser,
    roleName: 'Managed HSM Crypto Service Release User',
    dataActions: [`${MHSM}/keys/release/action`],
    notDataActions: []
  },
  {
    guid: HSM_ROLES.backup,
    roleName: 'Managed HSM Backup',
    dataActions: [
      `${MHSM}/backup/start/action`,
      `${MHSM}/backup/status/action`,
      `${MHSM}/keys/backup/action`
    ],
    notDataActions: []
  },
  {
    guid: HSM_ROLES.restore,
    roleName: 'Managed HSM Restore',
    dataActions: [
      `${MHSM}/restore/start/action`,
      `${MHSM}/restore/status/action`,
      `${MHSM}/keys/restore/action`
    ],
    notDataActions: []
  }
]

/** The id a built-in role definition has on the wire. */
export function roleDefinitionId(guid: string): string {
  return `Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/${guid}`
}

/** By GUID, by full role definition id (with or without a leading scope) or by role name. */
export function findBuiltInRole(ref: string): BuiltInRole | undefined {
  const guid = /roleDefinitions\/([0-9a-f-]{36})\/?$/i.exec(ref)?.[1] ?? ref
  return BUILT_IN_ROLES.find(
    r => r.guid === guid.toLowerCase() || r.roleName.toLowerCase() === ref.toLowerCase()
  )
}
