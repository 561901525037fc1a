import type { AzureError } from '../../core/errors.js'
import type { EmuResponse } from '../../core/service.js'
import type { CosmosAccount } from '../../core/world.js'
import { azureError } from '../../core/errors.js'
import { COSMOS_TYPE, worldKey } from '../../model/ids.js'
import { findRegion, regionNames } from '../../model/regions.js'
import { armPermits } from './authorization.js'
import {
  addIdentityPrincipal,
  addressResource,
  authorize,
  authorizeWrite,
  findResourceGroup,
  findSubscription,
  getResource,
  jsonBody,
  newResource,
  tagsOf,
  type Addressed,
  type ArmRequest
} from './context.js'
import { checkKeyAccess } from './cosmos-cmk.js'
import { cosmosAccountBody } from './cosmos-body.js'
import {
  defaultIdentityPrincipal,
  hasSystemAssigned,
  malformedDefaultIdentityMessage,
  parseDefaultIdentity,
  parseIdentity,
  type AccountIdentity
} from './cosmos-identity.js'
import {
  cosmosError,
  linkedAuthorizationFailed,
  locationNotAvailable,
  resourceNotFound
} from './errors.js'

const NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]{1,42})[a-z0-9]$/
const KINDS = ['GlobalDocumentDB', 'MongoDB', 'Parse']
const WRITE = 'Microsoft.DocumentDB/databaseAccounts/write'
const ASSIGN = 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action'

type OperationKind = 'cosmos-create' | 'cosmos-update' | 'cosmos-delete'

function fail(a: ArmRequest, message: string, status = 400, code = 'BadRequest'): AzureError {
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

function startOperation(a: ArmRequest, account: CosmosAccount, kind: OperationKind): string {
  const id = a.ctx.newGuid()
  const delay = a.ctx.delay(
    kind === 'cosmos-create'
      ? 'cosmosCreate'
      : kind === 'cosmos-update'
        ? 'cosmosUpdate'
        : 'cosmosDelete'
  )
  a.world.operations[id] = {
    id,
    resourceId: worldKey(account.id),
    kind,
    status: 'InProgress',
    startedAt: a.now,
    completesAt: a.now + delay
  }
  return id
}

function requireIdle(a: ArmRequest, account: CosmosAccount): void {
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

/** Attaching a user-assigned identity needs its `assign/action` (Managed Identity Operator or more). */
function checkAttachable(a: ArmRequest, accountId: string, ids: string[], already: string[]): void {
  for (const id of ids) {
    if (already.some(x => x.toLowerCase() === id.toLowerCase())) continue
    if (!a.world.userAssignedIdentities[worldKey(id)]) {
      throw azureError(
        400,
        'FailedIdentityOperation',
        `Identity operation for resource '${accountId}' failed: the user-assigned identity '${id}' does not exist.`
      )
    }
    if (!armPermits(a.world, a.callerId, ASSIGN, id)) {
      throw linkedAuthorizationFailed(a.callerId, WRITE, accountId, ASSIGN, id)
    }
  }
}

function parseCapabilities(a: ArmRequest, value: unknown): string[] {
  if (value === undefined || value === null) return []
  if (
    !Array.isArray(value) ||
    !value.every(c => typeof c === 'object' && c !== null && typeof c.name === 'string')
  ) {
    throw fail(a, 'The property "capabilities" must be an array of { "name": string }.')
  }
  return value.map(c => (c as { name: string }).name)
}

function parseLocations(a: ArmRequest, value: unknown): CosmosAccount['locations'] {
  if (!Array.isArray(value) || value.length === 0) {
    throw fail(a, 'The property "locations" is required and must list at least one region.')
  }
  const result: CosmosAccount['locations'] = []
  for (const [i, l] of value.entries()) {
    const loc = l as {
      locationName?: unknown
      failoverPriority?: unknown
      isZoneRedundant?: unknown
    }
    const region = findRegion(loc?.locationName as string | undefined)
    if (!region) throw locationNotAvailable(loc?.locationName, COSMOS_TYPE, regionNames())
    const priority = loc.failoverPriority ?? i
    if (!Number.isInteger(priority) || (priority as number) < 0) {
      throw fail(a, `Invalid failoverPriority for region ${region.displayName}.`)
    }
    result.push({
      locationName: region.name,
      failoverPriority: priority as number,
      isZoneRedundant: loc.isZoneRedundant === true
    })
  }
  const priorities = result.map(l => l.failoverPriority).sort((x, y) => x - y)
  if (priorities.some((p, i) => p !== i)) {
    throw fail(
      a,
      'Failover priorities must be unique and run from 0 to the number of regions minus 1.'
    )
  }
  return result
}

/** Resolves the default identity and, when the account uses a customer-managed key, checks access. */
function checkDefaultIdentityAndKey(
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

function accepted(a: ArmRequest, account: CosmosAccount, kind: OperationKind): EmuResponse {
  const opId = startOperation(a, account, kind)
  return {
    status: 200,
    headers: lroHeaders(a, account, opId, kind),
    body: cosmosAccountBody(a.world, account)
  }
}

function create(
  a: ArmRequest,
  target: Addressed<CosmosAccount>,
  body: Record<string, unknown>
): EmuResponse {
  const { id, name } = target
  if (!NAME_PATTERN.test(name)) {
    throw fail(
      a,
      `Database account name '${name}' is invalid. It must be 3-44 characters long and contain only lowercase letters, numbers and '-', and must not start or end with '-'.`
    )
  }
  if (Object.values(a.world.cosmosAccounts).some(x => x.name.toLowerCase() === name)) {
    throw fail(
      a,
      `Dns record for ${name} under zone Document is already taken. Please use a different name for the account.`
    )
  }
  const region = findRegion(body.location as string | undefined)
  if (!region) throw locationNotAvailable(body.location, COSMOS_TYPE, regionNames())
  const kind = (body.kind as string | undefined) ?? 'GlobalDocumentDB'
  if (!KINDS.includes(kind))
    throw fail(a, `The kind '${kind}' is not valid. Use GlobalDocumentDB, MongoDB or Parse.`)
  const props = body.properties as Record<string, unknown> | undefined
  if (typeof props !== 'object' || props === null)
    throw fail(a, 'The property "properties" is required.')
  if (props.databaseAccountOfferType !== 'Standard') {
    throw fail(a, 'The property "databaseAccountOfferType" is required and must be "Standard".')
  }
  const locations = parseLocations(a, props.locations)
  const capabilities = parseCapabilities(a, props.capabilities)
  const tags = tagsOf(body.tags)
  if (!tags) throw fail(a, 'The property "tags" must be an object of string values.')
  const parsedIdentity =
    body.identity === undefined
      ? { type: 'None' as const, userAssigned: [] }
      : parseIdentity(body.identity)
  if (typeof parsedIdentity === 'string') throw fail(a, parsedIdentity)
  checkAttachable(a, id, parsedIdentity.userAssigned, [])
  const identity: AccountIdentity = {
    ...parsedIdentity,
    ...(hasSystemAssigned(parsedIdentity.type) ? { systemPrincipalId: a.ctx.newGuid() } : {})
  }
  const requested = typeof props.defaultIdentity === 'string' ? props.defaultIdentity : ''
  const defaultIdentity = requested === '' ? 'FirstPartyIdentity' : requested
  const keyUri =
    typeof props.keyVaultKeyUri === 'string' && props.keyVaultKeyUri !== ''
      ? props.keyVaultKeyUri
      : undefined
  checkDefaultIdentityAndKey(a, name, defaultIdentity, identity, keyUri)

  const account: CosmosAccount = {
    ...newResource(target, region.name, tags),
    kind: kind as CosmosAccount['kind'],
    capabilities,
    locations,
    ...(keyUri ? { keyVaultKeyUri: keyUri } : {}),
    defaultIdentity,
    identityType: identity.type,
    ...(identity.systemPrincipalId
      ? { systemAssignedPrincipalId: identity.systemPrincipalId }
      : {}),
    userAssignedIdentities: identity.userAssigned,
    provisioningState: 'Creating',
    instanceId: a.ctx.newGuid(),
    createdAt: a.now
  }
  a.world.cosmosAccounts[worldKey(id)] = account
  if (identity.systemPrincipalId) addSystemPrincipal(a, account, identity.systemPrincipalId)
  return accepted(a, account, 'cosmos-create')
}

function addSystemPrincipal(a: ArmRequest, account: CosmosAccount, principalId: string): void {
  addIdentityPrincipal(a, { id: principalId, appId: a.ctx.newGuid(), displayName: account.name })
}

function sameSet(x: string[], y: string[]): boolean {
  const norm = (s: string[]) => [...new Set(s.map(v => v.toLowerCase()))].sort().join('|')
  return norm(x) === norm(y)
}

/**
 * PATCH, and PUT on an existing account. Everything is validated before anything changes. Like
 * the real service, a PATCH that changes the identity applies it and ignores a defaultIdentity
 * sent in the same request.
 */
function update(
  a: ArmRequest,
  account: CosmosAccount,
  body: Record<string, unknown>,
  method: 'PUT' | 'PATCH'
): EmuResponse {
  requireIdle(a, account)
  const props = (body.properties ?? {}) as Record<string, unknown>
  if (typeof props !== 'object' || props === null)
    throw fail(a, 'The property "properties" must be an object.')
  if (method === 'PUT' && body.kind !== undefined && body.kind !== account.kind) {
    throw fail(
      a,
      `The kind of database account ${account.name} cannot be changed from '${account.kind}' to '${String(body.kind)}'.`
    )
  }
  const next: CosmosAccount = structuredClone(account)
  let newSystemPrincipal: string | undefined
  let identityChanged = false

  if (body.identity !== undefined) {
    const parsed = parseIdentity(body.identity)
    if (typeof parsed === 'string') throw fail(a, parsed)
    identityChanged =
      parsed.type !== account.identityType ||
      !sameSet(parsed.userAssigned, account.userAssignedIdentities)
    if (identityChanged) {
      checkAttachable(a, account.id, parsed.userAssigned, account.userAssignedIdentities)
      next.identityType = parsed.type
      next.userAssignedIdentities = parsed.userAssigned
      if (!hasSystemAssigned(parsed.type)) delete next.systemAssignedPrincipalId
      else if (!account.systemAssignedPrincipalId) {
        newSystemPrincipal = a.ctx.newGuid()
        next.systemAssignedPrincipalId = newSystemPrincipal
      }
    }
  }
  const identity: AccountIdentity = {
    type: next.identityType,
    userAssigned: next.userAssignedIdentities,
    ...(next.systemAssignedPrincipalId ? { systemPrincipalId: next.systemAssignedPrincipalId } : {})
  }

  let defaultIdentityChanged = false
  const requested = props.defaultIdentity
  if (
    typeof requested === 'string' &&
    requested !== '' &&
    !(method === 'PATCH' && identityChanged)
  ) {
    if (!parseDefaultIdentity(requested))
      throw fail(a, malformedDefaultIdentityMessage(account.name))
    defaultIdentityChanged = requested.toLowerCase() !== account.defaultIdentity.toLowerCase()
    if (defaultIdentityChanged) next.defaultIdentity = requested
  }

  let keyChanged = false
  if ('keyVaultKeyUri' in props) {
    const uri = props.keyVaultKeyUri
    if ((uri === '' || uri === null) && account.keyVaultKeyUri) {
      throw fail(
        a,
        `Customer-managed key encryption cannot be disabled on database account ${account.name}; the key URI can only be changed to another key.`
      )
    }
    if (typeof uri === 'string' && uri !== '' && uri !== account.keyVaultKeyUri) {
      next.keyVaultKeyUri = uri
      keyChanged = true
    }
  }
  if (props.capabilities !== undefined) {
    const capabilities = parseCapabilities(a, props.capabilities)
    next.capabilities = capabilities
  }
  if (body.tags !== undefined) {
    const tags = tagsOf(body.tags)
    if (!tags) throw fail(a, 'The property "tags" must be an object of string values.')
    next.tags = tags
  }

  if (identityChanged || defaultIdentityChanged || keyChanged) {
    const parsedDefault = parseDefaultIdentity(next.defaultIdentity)
    const resolved =
      parsedDefault && defaultIdentityPrincipal(a.world, account.name, parsedDefault, identity)
    if (resolved && 'problem' in resolved) {
      throw fail(
        a,
        identityChanged && !defaultIdentityChanged
          ? `The identity used as default identity (${next.defaultIdentity}) cannot be removed from database account ${account.name}. Change the default identity first.`
          : resolved.problem
      )
    }
    if ((defaultIdentityChanged || keyChanged) && next.keyVaultKeyUri) {
      checkDefaultIdentityAndKey(
        a,
        account.name,
        next.defaultIdentity,
        identity,
        next.keyVaultKeyUri
      )
    }
  }

  Object.assign(account, next)
  if (!next.systemAssignedPrincipalId) delete account.systemAssignedPrincipalId
  if (newSystemPrincipal) addSystemPrincipal(a, account, newSystemPrincipal)
  account.provisioningState = 'Updating'
  return accepted(a, account, 'cosmos-update')
}

/** DatabaseAccounts_Get, _CreateOrUpdate (PUT), _Update (PATCH) and _Delete. */
export function databaseAccount(a: ArmRequest, sub: string, rg: string, name: string): EmuResponse {
  const target = addressResource(a, sub, rg, COSMOS_TYPE, name, a.world.cosmosAccounts)
  const account = target.existing
  const method = a.ctx.req.method
  if (method === 'GET') return getResource(a, target, x => cosmosAccountBody(a.world, x))
  if (method === 'DELETE') {
    authorizeWrite(a, target, 'delete')
    if (!account) return { status: 204 }
    requireIdle(a, account)
    account.provisioningState = 'Deleting'
    const opId = startOperation(a, account, 'cosmos-delete')
    return {
      status: 202,
      headers: lroHeaders(a, account, opId, 'cosmos-delete'),
      body: { status: 'Enqueued' }
    }
  }
  authorizeWrite(a, target)
  const body = jsonBody(a)
  if (account) return update(a, account, body, method === 'PATCH' ? 'PATCH' : 'PUT')
  if (method === 'PATCH') throw resourceNotFound(COSMOS_TYPE, name, target.group.name)
  return create(a, target, body)
}

/**
 * DatabaseAccounts_List / _ListByResourceGroup: ARM authorizes the list at the scope asked for and
 * answers one page (`{value}` without nextLink).
 */
export function listDatabaseAccounts(a: ArmRequest, sub: string, rg?: string): EmuResponse {
  const subscription = findSubscription(a, sub)
  let scope = `/subscriptions/${subscription.subscriptionId}`
  if (rg !== undefined) scope = `${scope}/resourceGroups/${findResourceGroup(a, sub, rg).name}`
  authorize(a, `${COSMOS_TYPE}/read`, scope)
  const value = Object.values(a.world.cosmosAccounts)
    .filter(account => account.id.toLowerCase().startsWith(`${scope.toLowerCase()}/`))
    .map(account => cosmosAccountBody(a.world, account))
  return { status: 200, body: { value } }
}

function findOperation(a: ArmRequest, sub: string, opId: string) {
  const op = a.world.operations[opId.toLowerCase()]
  if (
    !op ||
    !op.kind.startsWith('cosmos-') ||
    !op.resourceId.startsWith(`/subscriptions/${sub.toLowerCase()}/`)
  ) {
    return undefined
  }
  return op
}

/** `Azure-AsyncOperation` polling: Enqueued, then Dequeued, then Succeeded, as Cosmos DB reports. */
export function cosmosOperationStatus(a: ArmRequest, sub: string, opId: string): EmuResponse {
  const op = findOperation(a, sub, opId)
  if (!op) throw azureError(404, 'NotFound', `The operation '${opId}' was not found.`)
  if (op.status !== 'InProgress') {
    return {
      status: 200,
      logAs: 'poll',
      body: { status: op.status, ...(op.error ? { error: op.error } : {}) }
    }
  }
  const enqueued = a.now - op.startedAt < (op.completesAt - op.startedAt) / 3
  return { status: 200, logAs: 'poll', body: { status: enqueued ? 'Enqueued' : 'Dequeued' } }
}

/** `Location` polling: 202 while running, then the account (create/update) or 204 (delete). */
export function cosmosOperationResult(a: ArmRequest, sub: string, opId: string): EmuResponse {
  const op = findOperation(a, sub, opId)
  if (!op) throw azureError(404, 'NotFound', `The operation '${opId}' was not found.`)
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

/** `HEAD /providers/Microsoft.DocumentDB/databaseAccountNames/{name}`: 200 when the name is taken. */
export function databaseAccountNameExists(a: ArmRequest, name: string): EmuResponse {
  const taken = Object.values(a.world.cosmosAccounts).some(
    x => x.name.toLowerCase() === name.toLowerCase()
  )
  return { status: taken ? 200 : 404 }
}
