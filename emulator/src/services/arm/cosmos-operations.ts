import type { AzureError } from '../../core/errors.js'
import type { EmuResponse } from '../../core/service.js'
import type { CosmosAccount, LongRunningOperation } from '../../core/world.js'
import { azureError } from '../../core/errors.js'
import { worldKey } from '../../model/ids.js'
import { startOperation, type ArmRequest } from './context.js'
import { checkKeyAccess } from './cosmos-cmk.js'
import { cosmosAccountBody } from './cosmos-body.js'
import {
  defaultIdentityPrincipal,
  malformedDefaultIdentityMessage,
  parseDefaultIdentity,
  type AccountIdentity
} from './cosmos-identity.js'
import { cosmosError } from './errors.js'

/**
 * Cosmos DB's long-running operations: create, update, delete, the re-encryption that enabling a
 * customer-managed key starts (`cosmos-encrypt`), and a switch to another key (`cosmos-rekey`).
 */
export type OperationKind =
  'cosmos-create' | 'cosmos-update' | 'cosmos-delete' | 'cosmos-encrypt' | 'cosmos-rekey'

const DURATION = {
  'cosmos-create': 'cosmosCreate',
  'cosmos-update': 'cosmosUpdate',
  'cosmos-rekey': 'cosmosUpdate',
  'cosmos-encrypt': 'cosmosEncryption',
  'cosmos-delete': 'cosmosDelete'
} as const

export function fail(
  a: ArmRequest,
  message: string,
  status = 400,
  code = 'BadRequest'
): AzureError {
  return cosmosError(status, code, message, a.ctx.newGuid())
}

function lroHeaders(
  a: ArmRequest,
  account: CosmosAccount,
  opId: string,
  kind: OperationKind
): Record<string, string> {
  const base = `${a.ctx.origin}/subscriptions/${account.subscriptionId}/providers/Microsoft.DocumentDB/locations/${account.location}`
  const query = `?api-version=${a.apiVersion}`
  return {
    'Azure-AsyncOperation': `${base}/operationsStatus/${opId}${query}`,
    Location:
      kind === 'cosmos-delete'
        ? `${base}/operationResults/${opId}${query}`
        : `${a.ctx.origin}${account.id}/operationResults/${opId}${query}`
  }
}

function start(a: ArmRequest, account: CosmosAccount, kind: OperationKind): string {
  return startOperation(a, account.id, kind, a.now + a.ctx.delay(DURATION[kind]))
}

export function requireIdle(a: ArmRequest, account: CosmosAccount): void {
  const running = Object.values(a.world.operations).some(
    op => op.resourceId === worldKey(account.id) && op.status === 'InProgress'
  )
  if (!running) return
  throw fail(
    a,
    `There is already an operation in progress which requires exclusive lock on this service ${account.name}. Please retry the operation after sometime.`,
    412,
    'PreconditionFailed'
  )
}

/** Resolves the default identity and, when the account uses a customer-managed key, checks access. */
export function checkDefaultIdentityAndKey(
  a: ArmRequest,
  name: string,
  defaultIdentity: string,
  identity: AccountIdentity,
  keyUri: string | undefined
): void {
  const parsed = parseDefaultIdentity(defaultIdentity)
  if (!parsed) throw fail(a, malformedDefaultIdentityMessage(name))
  const resolved = defaultIdentityPrincipal(a.world, name, parsed, identity)
  if ('problem' in resolved) throw fail(a, resolved.problem)
  if (!keyUri) return
  checkKeyAccess(a, {
    accountName: name,
    keyUri,
    defaultIdentity,
    principalId: resolved.principalId
  })
}

/** Starts the operation and answers the account (200, with the operation's URLs). */
export function accepted(a: ArmRequest, account: CosmosAccount, kind: OperationKind): EmuResponse {
  const opId = start(a, account, kind)
  return {
    status: 200,
    headers: lroHeaders(a, account, opId, kind),
    body: cosmosAccountBody(a.world, account)
  }
}

/** Starts the deletion: 202 with the operation's URLs, as DatabaseAccounts_Delete documents. */
export function deletionAccepted(a: ArmRequest, account: CosmosAccount): EmuResponse {
  account.provisioningState = 'Deleting'
  const opId = start(a, account, 'cosmos-delete')
  return { status: 202, headers: lroHeaders(a, account, opId, 'cosmos-delete') }
}

function findOperation(a: ArmRequest, sub: string, opId: string): LongRunningOperation {
  const op = a.world.operations[opId.toLowerCase()]
  if (
    !op ||
    !op.kind.startsWith('cosmos-') ||
    !op.resourceId.startsWith(`/subscriptions/${sub.toLowerCase()}/`)
  ) {
    throw azureError(404, 'NotFound', `The operation '${opId}' was not found.`)
  }
  return op
}

/**
 * `Azure-AsyncOperation` polling: Enqueued, then Dequeued, then Succeeded, as Cosmos DB reports.
 * The re-encryption of CMK enablement also reports how far it got (`percentComplete` of ARM's
 * async operation status; the only progress signal the lifecycle reference names).
 */
export function cosmosOperationStatus(a: ArmRequest, sub: string, opId: string): EmuResponse {
  const op = findOperation(a, sub, opId)
  const progress =
    op.kind === 'cosmos-encrypt'
      ? {
          percentComplete:
            op.status === 'Succeeded'
              ? 100
              : Math.min(
                  99,
                  Math.floor(
                    (100 * (a.now - op.startedAt)) / Math.max(1, op.completesAt - op.startedAt)
                  )
                )
        }
      : {}
  if (op.status !== 'InProgress') {
    return {
      status: 200,
      logAs: 'poll',
      body: { status: op.status, ...progress, ...(op.error ? { error: op.error } : {}) }
    }
  }
  const enqueued = a.now - op.startedAt < (op.completesAt - op.startedAt) / 3
  return {
    status: 200,
    logAs: 'poll',
    body: { status: enqueued ? 'Enqueued' : 'Dequeued', ...progress }
  }
}

/** `Location` polling: 202 while running, then the account (create/update) or 204 (delete). */
export function cosmosOperationResult(a: ArmRequest, sub: string, opId: string): EmuResponse {
  const op = findOperation(a, sub, opId)
  if (op.status === 'InProgress') {
    return {
      status: 202,
      logAs: 'poll',
      headers: { Location: `${a.ctx.origin}${a.ctx.req.path}?api-version=${a.apiVersion}` }
    }
  }
  const account = a.world.cosmosAccounts[op.resourceId]
  if (op.kind === 'cosmos-delete' || !account) return { status: 204, logAs: 'poll' }
  return { status: 200, logAs: 'poll', body: cosmosAccountBody(a.world, account) }
}
