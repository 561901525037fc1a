import type { EmuResponse } from '../../core/service.js'
import {
  HSM_SETTING_NAMES,
  hsmSetting,
  hsmSettingName,
  setHsmSetting,
  type HsmSettingName
} from '../../model/hsms.js'
import { principalHoldsRole } from '../../model/rbac.js'
import { HSM_ROLES } from '../../model/role-definitions.js'
import { jsonBody, type HsmRequest } from './context.js'
import { badParameter, kvError } from './errors.js'

/**
 * Microsoft names no local RBAC data action for the account settings; its guide to the one setting
 * (AllowKeyManagementOperationsThroughARM, learn.microsoft.com/azure/key-vault/managed-hsm/
 * authorize-azure-resource-manager) says a Managed HSM administrator changes it. So reading and
 * changing settings takes the Managed HSM Administrator role at `/`.
 */
function requireAdministrator(r: HsmRequest): void {
  const { world, now, newGuid } = r.ctx
  if (principalHoldsRole(world, r.hsm.name, r.callerId, HSM_ROLES.administrator, '/', now())) return
  throw kvError(
    403,
    'AccessDenied',
    `Not authorized to access the settings of this managed HSM: only a Managed HSM Administrator ` +
      `at '/' may read or change them (Activity ID: ${newGuid()})`
  )
}

function settingBody(r: HsmRequest, name: HsmSettingName): Record<string, unknown> {
  return { name, value: String(hsmSetting(r.plane, name)), type: 'boolean' }
}

function knownSetting(name: string): HsmSettingName {
  const setting = hsmSettingName(name)
  if (!setting) {
    throw badParameter(
      `The setting '${name}' does not exist. Settings: ${HSM_SETTING_NAMES.join(', ')}.`
    )
  }
  return setting
}

/** GetSettings: every account setting and its value. */
export function listSettings(r: HsmRequest): EmuResponse {
  requireAdministrator(r)
  return { status: 200, body: { settings: HSM_SETTING_NAMES.map(n => settingBody(r, n)) } }
}

/** GetSetting. */
export function getSetting(r: HsmRequest, name: string): EmuResponse {
  requireAdministrator(r)
  return { status: 200, body: settingBody(r, knownSetting(name)) }
}

/** UpdateSetting: the value is the string `true` or `false`, in lower case. */
export function updateSetting(r: HsmRequest, name: string): EmuResponse {
  requireAdministrator(r)
  const setting = knownSetting(name)
  const { value } = jsonBody(r)
  if (value !== 'true' && value !== 'false') {
    throw badParameter(`The value of the setting '${setting}' must be "true" or "false".`)
  }
  setHsmSetting(r.plane, setting, value === 'true')
  return { status: 200, body: settingBody(r, setting) }
}
