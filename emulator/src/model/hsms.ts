import type { HsmDataPlane, HsmSettings, ManagedHsm, World } from '../core/world.js'
import { worldKey } from './ids.js'
import { addRoleAssignment } from './rbac.js'
import { HSM_ROLES } from './role-definitions.js'

/**
 * Stores a Managed HSM: its ARM record and its data plane, where each initial administrator holds
 * Managed HSM Administrator at `/` at once.
 */
export function addManagedHsm(
  world: World,
  hsm: ManagedHsm,
  newGuid: () => string,
  now: number
): HsmDataPlane {
  world.managedHsms[worldKey(hsm.id)] = hsm
  const plane: HsmDataPlane = { name: hsm.name, keys: {}, roleAssignments: {} }
  world.hsmDataPlanes[hsm.name.toLowerCase()] = plane
  for (const principalId of hsm.initialAdminObjectIds) {
    const role = { name: newGuid(), scope: '/', roleGuid: HSM_ROLES.administrator, principalId }
    addRoleAssignment(plane, role, now, now)
  }
  return plane
}

/** The settings an HSM has, with their defaults (a new HSM does not trust ARM). */
const SETTING_DEFAULTS: Required<HsmSettings> = { AllowKeyManagementOperationsThroughARM: false }

export type HsmSettingName = keyof HsmSettings

export const HSM_SETTING_NAMES = Object.keys(SETTING_DEFAULTS) as HsmSettingName[]

/** The setting's name as the HSM spells it; undefined for a setting HSMs do not have. */
export function hsmSettingName(name: string): HsmSettingName | undefined {
  return HSM_SETTING_NAMES.find(n => n.toLowerCase() === name.toLowerCase())
}

export function hsmSetting(plane: HsmDataPlane, name: HsmSettingName): boolean {
  return plane.settings?.[name] ?? SETTING_DEFAULTS[name]
}

export function setHsmSetting(plane: HsmDataPlane, name: HsmSettingName, value: boolean): void {
  plane.settings = { ...plane.settings, [name]: value }
}
