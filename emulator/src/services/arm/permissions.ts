import type { EmuResponse } from '../../core/service.js'
import { armPermissionsAt } from './authorization.js'
import type { ArmRequest } from './context.js'
import { authorizationScope } from './scopes.js'

/**
 * `GET {scope}/providers/Microsoft.Authorization/permissions` (Permissions_ListForResourceGroup and
 * Permissions_ListForResource, Microsoft.Authorization 2022-04-01; the subscription form too):
 * "all permissions the caller has" at the scope, from its role assignments there or above. Any
 * caller may ask about itself, so nothing is authorized; one page, without nextLink.
 */
export function listPermissions(a: ArmRequest, scope: string): EmuResponse {
  const at = authorizationScope(a, scope)
  return { status: 200, body: { value: armPermissionsAt(a.world, a.callerId, at) } }
}
