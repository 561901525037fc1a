import type { EmuResponse } from '../../core/service.js'
import type { Subscription } from '../../core/world.js'
import { armRolesOf } from './authorization.js'
import { subscriptionNotFound } from './errors.js'
import type { ArmRequest } from './context.js'

/**
 * Subscriptions the caller holds any ARM role in: what `az login` and `az account` list
 * (`GET /subscriptions`) and show (`GET /subscriptions/{id}`).
 */
function visibleSubscriptions(a: ArmRequest): Subscription[] {
  const scopes = armRolesOf(a.world, a.callerId).map(r => r.scope.toLowerCase())
  return Object.values(a.world.subscriptions).filter(sub => {
    const id = `/subscriptions/${sub.subscriptionId}`.toLowerCase()
    return scopes.some(scope => scope === id || scope.startsWith(`${id}/`) || scope === '/')
  })
}

function subscriptionBody(sub: Subscription): Record<string, unknown> {
  return {
    id: `/subscriptions/${sub.subscriptionId}`,
    authorizationSource: 'RoleBased',
    managedByTenants: [],
    subscriptionId: sub.subscriptionId,
    tenantId: sub.tenantId,
    displayName: sub.displayName,
    state: 'Enabled',
    ...(sub.tags ? { tags: sub.tags } : {}),
    subscriptionPolicies: {
      locationPlacementId: 'Public_2014-09-01',
      quotaId: 'PayAsYouGo_2014-09-01',
      spendingLimit: 'Off'
    }
  }
}

export function listSubscriptions(a: ArmRequest): EmuResponse {
  const value = visibleSubscriptions(a).map(subscriptionBody)
  return { status: 200, body: { value, count: { type: 'Total', value: value.length } } }
}

export function getSubscription(a: ArmRequest, subscriptionId: string): EmuResponse {
  const sub = visibleSubscriptions(a).find(
    s => s.subscriptionId.toLowerCase() === subscriptionId.toLowerCase()
  )
  if (!sub) throw subscriptionNotFound(subscriptionId)
  return { status: 200, body: subscriptionBody(sub) }
}
