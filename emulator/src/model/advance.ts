import { randomUUID } from 'node:crypto'
import type { CosmosAccount, LongRunningOperation, World } from '../core/world.js'
import { keyOfUri, trackCustomerManagedKey, type DelaySampler } from './cosmos-cmk.js'
import { latestVersion } from './keys.js'
import { rotateDueKeys } from './rotation.js'

/** What moving time forward needs besides the clock: the timing's delays and new names. */
export interface AdvanceEnv {
  /** Samples a delay of the timing configuration; every delay is 0 without it. */
  delay?: DelaySampler
  /** A new GUID, e.g. for the versions automatic rotation creates. */
  newGuid?: () => string
}

/**
 * Moves every time-driven state forward to `now`: provider registrations, HSM provisioning,
 * security-domain downloads, automatic key rotation, ARM long-running operations, and what Cosmos
 * DB accounts make of their keys. Called at the start of every request and after every write, so
 * nothing ever sleeps: an operation is done once the clock has passed its completion time, and a
 * change is noticed when it is made.
 */
export function advanceWorld(world: World, now: number, env: AdvanceEnv = {}): void {
  const delay = env.delay ?? (() => 0)
  const newGuid = env.newGuid ?? randomUUID
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
    rotateDueKeys(plane, now, () => newGuid().replace(/-/g, ''))
  }
  for (const op of Object.values(world.operations)) {
    if (op.status !== 'InProgress' || op.completesAt > now) continue
    op.status = 'Succeeded'
    completeOperation(world, op)
  }
  for (const account of Object.values(world.cosmosAccounts)) {
    trackCustomerManagedKey(world, account, now, delay)
  }
}

function completeOperation(world: World, op: LongRunningOperation): void {
  const account = world.cosmosAccounts[op.resourceId]
  if (!account) return
  if (op.kind === 'cosmos-delete') {
    // the system-assigned identity goes with the account
    if (account.systemAssignedPrincipalId)
      delete world.servicePrincipals[account.systemAssignedPrincipalId]
    delete world.cosmosAccounts[op.resourceId]
    return
  }
  if (op.kind === 'cosmos-encrypt' || op.kind === 'cosmos-rekey')
    useLatestKeyVersion(world, account)
  // a later operation on the same account keeps it busy
  const busy = Object.values(world.operations).some(
    o => o !== op && o.resourceId === op.resourceId && o.status === 'InProgress'
  )
  if (!busy) account.provisioningState = 'Succeeded'
}

/** Once an account has encrypted its data with a (new) key, it uses the key's current version. */
function useLatestKeyVersion(world: World, account: CosmosAccount): void {
  delete account.pendingKeyVersion
  const found = account.keyVaultKeyUri ? keyOfUri(world, account.keyVaultKeyUri) : undefined
  if (found && 'key' in found) account.keyVersionInUse = latestVersion(found.key).version
  else delete account.keyVersionInUse
}
