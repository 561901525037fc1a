import type { TrackedResource, World } from '../../core/world.js'
import { azureError, notEmulated } from '../../core/errors.js'
import { ARM_HOST } from '../../core/hosts.js'
import { COSMOS_TYPE, HSM_TYPE, UAI_TYPE, parseResourceId, worldKey } from '../../model/ids.js'
import { findResourceGroup, findSubscription, type ArmRequest } from './context.js'
import { resourceNotFound } from './errors.js'

/** Something an ARM scope names: a subscription, a resource group or a resource the world holds. */
export interface ScopeTarget {
  /** The scope as Azure spells it (the resource's own id). */
  id: string
  /** `Microsoft.Resources/subscriptions`, `.../resourceGroups` or the resource type. */
  type: string
  /** The record whose `tags` the Tags API reads and writes. */
  record: { tags?: Record<string, string> }
}

/** The world's collections of tracked resources, by resource type in lower case. */
function trackedResources(world: World): Record<string, Record<string, TrackedResource>> {
  return {
    [HSM_TYPE.toLowerCase()]: world.managedHsms,
    [COSMOS_TYPE.toLowerCase()]: world.cosmosAccounts,
    [UAI_TYPE.toLowerCase()]: world.userAssignedIdentities
  }
}

interface ParsedScope {
  sub: string
  rg?: string
  /** What follows the resource group: `providers/{namespace}/{type}/{name}...`. */
  resource?: string
}

function parseScope(scope: string): ParsedScope {
  const m =
    /^\/?subscriptions\/([^/]+)(?:\/resourcegroups\/([^/]+)(?:\/(providers\/.+))?)?\/?$/i.exec(
      scope
    )
  if (!m) {
    throw azureError(
      400,
      'MissingSubscription',
      'The request did not have a subscription or a valid tenant level resource provider.'
    )
  }
  return {
    sub: m[1]!,
    ...(m[2] !== undefined ? { rg: m[2] } : {}),
    ...(m[3] !== undefined ? { resource: m[3] } : {})
  }
}

/**
 * Resolves `scope` to what it names; ARM's own 404 (SubscriptionNotFound, ResourceGroupNotFound,
 * ResourceNotFound) when it does not exist.
 */
export function resolveScope(a: ArmRequest, scope: string, method: string): ScopeTarget {
  const parsed = parseScope(scope)
  const sub = findSubscription(a, parsed.sub)
  if (parsed.rg === undefined) {
    return {
      id: `/subscriptions/${sub.subscriptionId}`,
      type: 'Microsoft.Resources/subscriptions',
      record: sub
    }
  }
  const group = findResourceGroup(a, parsed.sub, parsed.rg)
  const groupId = `/subscriptions/${group.subscriptionId}/resourceGroups/${group.name}`
  if (parsed.resource === undefined) {
    return { id: groupId, type: 'Microsoft.Resources/subscriptions/resourceGroups', record: group }
  }
  const resource = parseResourceId(`${groupId}/${parsed.resource}`)
  if (!resource) throw notEmulated(ARM_HOST, method, `/${scope.replace(/^\/+/, '')}`)
  const id = `${groupId}/providers/${resource.type}/${resource.name}`
  const record = trackedResources(a.world)[resource.type.toLowerCase()]?.[worldKey(id)]
  if (!record) throw resourceNotFound(resource.type, resource.name, group.name)
  return { id: record.id, type: resource.type, record }
}

/**
 * The scope of a `Microsoft.Authorization` request as Azure spells it, once its subscription and
 * resource group are known to exist. The resource itself need not exist: role-based access is
 * decided on scopes.
 */
export function authorizationScope(a: ArmRequest, scope: string): string {
  const parsed = parseScope(scope)
  const sub = findSubscription(a, parsed.sub)
  if (parsed.rg === undefined) return `/subscriptions/${sub.subscriptionId}`
  const group = findResourceGroup(a, parsed.sub, parsed.rg)
  const groupId = `/subscriptions/${group.subscriptionId}/resourceGroups/${group.name}`
  return parsed.resource === undefined ? groupId : `${groupId}/${parsed.resource}`
}
