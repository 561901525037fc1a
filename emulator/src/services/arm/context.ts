import type { EmuResponse, ServiceContext } from '../../core/service.js'
import type { ResourceGroup, Subscription, TrackedResource, World } from '../../core/world.js'
import { parseJsonObject } from '../../core/errors.js'
import { resourceGroupKey, resourceId, worldKey } from '../../model/ids.js'
import { addManagedIdentityPrincipal } from '../../model/principals.js'
import { armPermits } from './authorization.js'
import {
  authorizationFailed,
  invalidRequestContent,
  missingSubscriptionRegistration,
  resourceGroupNotFound,
  resourceNotFound,
  subscriptionNotFound
} from './errors.js'

/** One ARM request, after the checks every operation shares. */
export interface ArmRequest {
  ctx: ServiceContext
  world: World
  now: number
  apiVersion: string
  callerId: string
}

/** The request body as a JSON object; ARM refuses an empty body. */
export function jsonBody(a: ArmRequest): Record<string, unknown> {
  const parsed = parseJsonObject(a.ctx.req.body, false)
  if (!parsed.ok) throw invalidRequestContent(parsed.detail)
  return parsed.value
}

export function findSubscription(a: ArmRequest, subscriptionId: string): Subscription {
  const sub = a.world.subscriptions[subscriptionId.toLowerCase()]
  if (!sub) throw subscriptionNotFound(subscriptionId)
  return sub
}

export function findResourceGroup(
  a: ArmRequest,
  subscriptionId: string,
  resourceGroup: string
): ResourceGroup {
  findSubscription(a, subscriptionId)
  const group = a.world.resourceGroups[resourceGroupKey(subscriptionId, resourceGroup)]
  if (!group) throw resourceGroupNotFound(resourceGroup)
  return group
}

/** Throws ARM's 403 AuthorizationFailed unless the caller may perform `action` on `scope`. */
export function authorize(a: ArmRequest, action: string, scope: string): void {
  if (!armPermits(a.world, a.callerId, action, scope)) {
    throw authorizationFailed(a.callerId, action, scope)
  }
}

/** Writes need the resource type's namespace registered on the subscription. */
export function requireRegistered(a: ArmRequest, subscriptionId: string, namespace: string): void {
  const sub = a.world.subscriptions[subscriptionId.toLowerCase()]
  const state = sub?.providers[namespace.toLowerCase()]?.state
  if (state !== 'Registered') throw missingSubscriptionRegistration(namespace)
}

/** The resource a `{resource group}/providers/{type}/{name}` request addresses. */
export interface Addressed<T> {
  group: ResourceGroup
  id: string
  type: string
  name: string
  /** Its record, when it exists. */
  existing: T | undefined
}

export function addressResource<T>(
  a: ArmRequest,
  sub: string,
  rg: string,
  type: string,
  name: string,
  records: Record<string, T>
): Addressed<T> {
  const group = findResourceGroup(a, sub, rg)
  const id = resourceId(group.subscriptionId, group.name, type, name)
  return { group, id, type, name, existing: records[worldKey(id)] }
}

/** GET by id: authorized with `{type}/read`; ResourceNotFound when it does not exist. */
export function getResource<T>(
  a: ArmRequest,
  r: Addressed<T>,
  body: (record: T) => unknown
): EmuResponse {
  authorize(a, `${r.type}/read`, r.id)
  if (!r.existing) throw resourceNotFound(r.type, r.name, r.group.name)
  return { status: 200, body: body(r.existing) }
}

/** Writes (`{type}/write`, `{type}/delete`) need the action and the namespace registered. */
export function authorizeWrite(a: ArmRequest, r: Addressed<unknown>, verb = 'write'): void {
  authorize(a, `${r.type}/${verb}`, r.id)
  requireRegistered(a, r.group.subscriptionId, r.type.split('/')[0]!)
}

/** The id, place and tags of a resource about to be created. */
export function newResource(
  r: Addressed<unknown>,
  location: string,
  tags: Record<string, string>
): TrackedResource {
  return {
    id: r.id,
    name: r.name,
    subscriptionId: r.group.subscriptionId,
    resourceGroup: r.group.name,
    location,
    tags
  }
}

/** The service principal of a managed identity just created; the directory knows it later. */
export function addIdentityPrincipal(
  a: ArmRequest,
  principal: { id: string; appId: string; displayName: string }
): void {
  addManagedIdentityPrincipal(a.world, {
    ...principal,
    replicatedAt: a.now + a.ctx.delay('principalReplication')
  })
}

/** Records a long-running operation on a resource, done at `completesAt`; answers its id. */
export function startOperation(
  a: ArmRequest,
  resourceId: string,
  kind: string,
  completesAt: number
): string {
  const id = a.ctx.newGuid()
  a.world.operations[id] = {
    id,
    resourceId: worldKey(resourceId),
    kind,
    status: 'InProgress',
    startedAt: a.now,
    completesAt
  }
  return id
}

export function retryAfter(a: ArmRequest): string {
  return String(a.ctx.timing.retryAfterSeconds)
}

export function tagsOf(value: unknown): Record<string, string> | undefined {
  if (value === undefined || value === null) return {}
  if (typeof value !== 'object' || Array.isArray(value)) return undefined
  if (Object.values(value).some(v => typeof v !== 'string')) return undefined
  return value as Record<string, string>
}
