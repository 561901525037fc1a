import type { ServicePrincipal, World } from '../core/world.js'

/** Registers the directory object behind a managed identity (user- or system-assigned). */
export function addManagedIdentityPrincipal(
  world: World,
  principal: { id: string; appId: string; displayName: string; replicatedAt: number }
): ServicePrincipal {
  const sp: ServicePrincipal = { ...principal, servicePrincipalType: 'ManagedIdentity' }
  world.servicePrincipals[principal.id] = sp
  return sp
}

/** Whether the directory knows this object id at `now` (role assignments to it can succeed). */
export function principalIsReplicated(world: World, objectId: string, now: number): boolean {
  const sp = world.servicePrincipals[objectId] ?? world.servicePrincipals[objectId.toLowerCase()]
  return sp !== undefined && sp.replicatedAt <= now
}
