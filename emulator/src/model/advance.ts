import type { World } from '../core/world.js'

/**
 * Moves every time-driven state forward to `now`: provider registrations, HSM provisioning,
 * security-domain downloads and ARM long-running operations. Called at the start of every request,
 * so nothing ever sleeps: an operation is done once the clock has passed its completion time.
 */
export function advanceWorld(world: World, now: number): void {
  for (const sub of Object.values(world.subscriptions)) {
    for (const p of Object.values(sub.providers)) {
      if (p.state === 'Registering' && (p.registeredAt ?? 0) <= now) p.state = 'Registered'
    }
  }
  for (const hsm of Object.values(world.managedHsms)) {
    if (
      (hsm.provisioningState === 'Provisioning' || hsm.provisioningState === 'Updating') &&
      (hsm.provisionedAt ?? 0) <= now
    ) {
      hsm.provisioningState = 'Succeeded'
    }
  }
  for (const plane of Object.values(world.hsmDataPlanes)) {
    const download = plane.securityDomainDownload
    if (download?.status === 'InProgress' && download.completesAt <= now) {
      download.status = 'Success'
      download.statusDetails = 'The resource is active.'
      const hsm = Object.values(world.managedHsms).find(
        h => h.name.toLowerCase() === plane.name.toLowerCase()
      )
      if (hsm) hsm.activationStatus = 'Active'
    }
  }
  for (const op of Object.values(world.operations)) {
    if (op.status !== 'InProgress' || op.completesAt > now) continue
    op.status = 'Succeeded'
    const account = world.cosmosAccounts[op.resourceId]
    if (op.kind === 'cosmos-delete') {
      // the system-assigned identity goes with the account
      if (account?.systemAssignedPrincipalId)
        delete world.servicePrincipals[account.systemAssignedPrincipalId]
      delete world.cosmosAccounts[op.resourceId]
    } else if ((op.kind === 'cosmos-create' || op.kind === 'cosmos-update') && account) {
      // a later operation on the same account keeps it busy
      const busy = Object.values(world.operations).some(
        o => o !== op && o.resourceId === op.resourceId && o.status === 'InProgress'
      )
      if (!busy) account.provisioningState = 'Succeeded'
    }
  }
}
