import type { EmuResponse, ServiceContext } from '../../core/service.js'
import type { ResourceGroup, Subscription, World } from '../../core/world.js'
import { resourceGroupKey } from '../resources/ids.js'
import {
  invalidRequestContent,
  missingSubscriptionRegistration,
  resourceGroupNotFound,
  subscriptionNotFound
} from './errors.js'
import { requireArmPermission } from './authorization.js'

/** One ARM request, after the checks every operation shares. */
export interface ArmRequest {
  ctx: ServiceContext
  world: World
  now: number
  apiVersion: string
  callerId: string
}

export function isResponse(v: unknown): v is EmuResponse {
  return typeof v === 'object' && v !== null && 'status' in v && typeof v.status === 'number'
}

export function jsonBody(a: ArmRequest): Record<string, unknown> | EmuResponse {
  const text = a.ctx.req.body.toString('utf8')
  if (text.trim() === '') return invalidRequestContent('The request body is empty')
  try {
    const value: unknown = JSON.parse(text)
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      return value as Record<string, unknown>
    }
    return invalidRequestContent('The request body must be a JSON object')
  } catch (e) {
    return invalidRequestContent((e as Error).message)
  }
}

export function findSubscription(
  a: ArmRequest,
  subscriptionId: string
): Subscription | EmuResponse {
  return a.world.subscriptions[subscriptionId.toLowerCase()] ?? subscriptionNotFound(subscriptionId)
}

export function findResourceGroup(
  a: ArmRequest,
  subscriptionId: string,
  resourceGroup: string
): ResourceGroup | EmuResponse {
  const sub = findSubscription(a, subscriptionId)
  if (isResponse(sub)) return sub
  return (
    a.world.resourceGroups[resourceGroupKey(subscriptionId, resourceGroup)] ??
    resourceGroupNotFound(resourceGroup)
  )
}

export function authorize(a: ArmRequest, action: string, scope: string): EmuResponse | undefined {
  return requireArmPermission(a.world, a.callerId, action, scope)
}

/** Writes need the resource type's namespace registered on the subscription. */
export function requireRegistered(
  a: ArmRequest,
  subscriptionId: string,
  namespace: string
): EmuResponse | undefined {
  const sub = a.world.subscriptions[subscriptionId.toLowerCase()]
  const state = sub?.providers[namespace.toLowerCase()]?.state
  return state === 'Registered' ? undefined : missingSubscriptionRegistration(namespace)
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
