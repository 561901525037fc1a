import { createHash } from 'node:crypto'

/** Managed HSM local RBAC built-in roles this action assigns. */
export const hsmRoles = {
  administrator: { name: 'Managed HSM Administrator', id: 'a290e904-7015-4bba-90c8-60543313cdb4' },
  cryptoUser: { name: 'Managed HSM Crypto User', id: '21dbd100-6940-42c2-9190-5d6cb909625b' },
  cryptoServiceEncryptionUser: {
    name: 'Managed HSM Crypto Service Encryption User',
    id: '33413926-3206-4cdd-b39a-83574fe37a17'
  }
} as const

export type HsmRole = (typeof hsmRoles)[keyof typeof hsmRoles]

/** Built-in HSM roles that may not create role assignments (custom roles: unknown). */
export const nonAssigningRoles = new Set<string>([
  hsmRoles.cryptoUser.id,
  hsmRoles.cryptoServiceEncryptionUser.id,
  '515eb02d-2335-4d2d-92f2-b1cbdf9c3778', // Managed HSM Crypto Officer
  '2c18b078-7c48-4d3a-af88-5a3a1b3f82b3', // Managed HSM Crypto Auditor
  '7b127d3c-77bd-4e3e-bbe0-dbb8971fa7f8', // Managed HSM Backup
  '6efe6056-5259-49d2-8b3d-d3d73544b20b' // Managed HSM Restore
])

export function roleDefinitionId(role: HsmRole): string {
  return `Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/${role.id}`
}

/** The role GUID at the end of a role definition id, in lower case. */
export function roleGuidOf(roleDefinitionIdValue: string): string {
  return (roleDefinitionIdValue.split('/').pop() ?? '').toLowerCase()
}

/** Namespace of this action's role assignment names (a fixed, random UUID). */
const roleAssignmentNamespace = '6c1f4f3e-8b0a-4d55-9a43-0f6b2d7c9e15'

/**
 * The name of the assignment of `role` to `principalId` at `scope` on HSM `hsmName`: a name-based
 * UUID (version 5), so a re-run or a parallel run computes the same name and never duplicates it.
 */
export function roleAssignmentName(
  hsmName: string,
  scope: string,
  roleGuid: string,
  principalId: string
): string {
  const key = [hsmName, normaliseScope(scope), roleGuid, principalId]
    .map(part => part.toLowerCase())
    .join('|')
  return uuidV5(key, roleAssignmentNamespace)
}

export function uuidV5(name: string, namespace: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex')
  if (ns.length !== 16) throw new Error(`Invalid namespace UUID: ${namespace}`)
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest()
  const bytes = hash.subarray(0, 16)
  bytes[6] = (bytes[6] & 0x0f) | 0x50
  bytes[8] = (bytes[8] & 0x3f) | 0x80
  const hex = bytes.toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/** `/`, `/keys`, `/keys/<name>`: one leading slash, no trailing one, no runs of slashes. */
export function normaliseScope(scope: string): string {
  const collapsed = `/${scope}`.replace(/\/+/g, '/').replace(/\/$/, '')
  return collapsed === '' ? '/' : collapsed
}

/** Whether an assignment at `held` also covers `wanted` (`/` covers `/keys` covers `/keys/k`). */
export function scopeCovers(held: string, wanted: string): boolean {
  const h = normaliseScope(held).toLowerCase()
  const w = normaliseScope(wanted).toLowerCase()
  return h === '/' || h === w || w.startsWith(`${h}/`)
}
