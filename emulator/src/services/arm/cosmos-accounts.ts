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
import { keyOfUri } from '../../model/cosmos-cmk.js'
import { latestVersion } from '../../model/keys.js'
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
  changeKey,
  identityOf,
  refuseKeyAtCreation,
  refuseWhileRevoked,
  requestedKeyChange
} from './cosmos-key-change.js'
import {
  accepted,
  checkDefaultIdentityAndKey,
  deletionAccepted,
  fail,
  requireIdle
} from './cosmos-operations.js'
import { linkedAuthorizationFailed, locationNotAvailable, resourceNotFound } from './errors.js'

const NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]{1,42})[a-z0-9]$/
const KINDS = ['GlobalDocumentDB', 'MongoDB', 'Parse']
const WRITE = 'Microsoft.DocumentDB/databaseAccounts/write'
const ASSIGN = 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action'

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

const BACKUP_TIERS = ['Continuous7Days', 'Continuous30Days']

/** `properties.backupPolicy`: Periodic, or Continuous with its tier (Continuous30Days by default). */
function parseBackupPolicy(a: ArmRequest, value: unknown): CosmosAccount['backupPolicy'] {
  if (value === undefined || value === null) return undefined
  const v = value as { type?: unknown; continuousModeProperties?: { tier?: unknown } }
  if (v.type === 'Periodic') return 'Periodic'
  if (v.type === 'Continuous') {
    const tier = v.continuousModeProperties?.tier ?? 'Continuous30Days'
    if (typeof tier === 'string' && BACKUP_TIERS.includes(tier)) {
      return tier as CosmosAccount['backupPolicy']
    }
    throw fail(
      a,
      `The continuous backup tier '${String(tier)}' is not valid. Use ${BACKUP_TIERS.join(' or ')}.`
    )
  }
  throw fail(
    a,
    `The backup policy type '${String(v.type)}' is not valid. Use Periodic or Continuous.`
  )
}

function parseFlag(
  a: ArmRequest,
  props: Record<string, unknown>,
  name: string
): boolean | undefined {
  const value = props[name]
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'boolean') throw fail(a, `The property "${name}" must be a boolean.`)
  return value
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
  const backupPolicy = parseBackupPolicy(a, props.backupPolicy) ?? 'Periodic'
  const enableAnalyticalStorage = parseFlag(a, props, 'enableAnalyticalStorage') ?? false
  if (keyUri) {
    refuseKeyAtCreation(a, defaultIdentity, {
      continuousBackup: backupPolicy !== 'Periodic',
      analyticalStorage: enableAnalyticalStorage
    })
  }
  checkDefaultIdentityAndKey(a, name, defaultIdentity, identity, keyUri)
  const key = keyUri ? keyOfUri(a.world, keyUri) : undefined

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
    createdAt: a.now,
    backupPolicy,
    enableAnalyticalStorage,
    ...(key && 'key' in key ? { keyVersionInUse: latestVersion(key.key).version } : {})
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
 * Regions added or removed by an update. The write region (failover priority 0) stays: Cosmos DB
 * changes it through failoverPriorityChange, not through an update.
 */
function updatedLocations(
  a: ArmRequest,
  account: CosmosAccount,
  value: unknown
): CosmosAccount['locations'] {
  const locations = parseLocations(a, value)
  const writeRegion = (l: CosmosAccount['locations']) =>
    l.find(x => x.failoverPriority === 0)!.locationName
  if (writeRegion(locations) !== writeRegion(account.locations)) {
    throw fail(
      a,
      `The write region of database account ${account.name} cannot be changed by an update; use the failoverPriorityChange operation.`
    )
  }
  return locations
}

/**
 * Continuous backup and the analytical store cannot be turned off (troubleshoot-cmk 3.4, 3.5),
 * continuous backup is turned on alone (3.7), and a CMK account turning either on needs a default
 * identity other than the first-party one (3.2).
 */
function updatedStorageFeatures(
  a: ArmRequest,
  account: CosmosAccount,
  next: CosmosAccount,
  body: Record<string, unknown>,
  props: Record<string, unknown>
): void {
  const backup = parseBackupPolicy(a, props.backupPolicy)
  const analytical = parseFlag(a, props, 'enableAnalyticalStorage')
  const wasContinuous = (account.backupPolicy ?? 'Periodic') !== 'Periodic'
  if (analytical === false && account.enableAnalyticalStorage) {
    throw fail(a, 'EnableAnalyticalStorage cannot be disabled once it is enabled on an account.')
  }
  if (backup === 'Periodic' && wasContinuous) {
    throw fail(a, 'Continuous backup mode cannot be disabled once it is enabled on the account.')
  }
  const toContinuous = backup !== undefined && backup !== 'Periodic' && !wasContinuous
  if (toContinuous) {
    const others =
      Object.keys(body).some(k => !['properties', 'location'].includes(k)) ||
      Object.keys(props).some(k => k !== 'backupPolicy')
    if (others)
      throw fail(a, 'Cannot update continuous backup mode and other properties at the same time.')
  }
  const turningOn = toContinuous || (analytical === true && !account.enableAnalyticalStorage)
  if (
    turningOn &&
    account.keyVaultKeyUri &&
    parseDefaultIdentity(next.defaultIdentity)?.kind === 'FirstPartyIdentity'
  ) {
    throw fail(
      a,
      'Setting Non-FPI default identity is required for dedicated storage account features. ' +
        'Please set a valid System or User Assigned Identity to default and retry the request.'
    )
  }
  if (backup !== undefined) next.backupPolicy = backup
  if (analytical !== undefined) next.enableAnalyticalStorage = analytical
}

/**
 * PATCH, and PUT on an existing account. Everything is validated before anything changes. Like
 * the real service, a PATCH that changes the identity applies it and ignores a defaultIdentity
 * sent in the same request. A key change goes alone (see cosmos-key-change.ts).
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
  refuseWhileRevoked(a, account, body)
  if (method === 'PUT' && body.kind !== undefined && body.kind !== account.kind) {
    throw fail(
      a,
      `The kind of database account ${account.name} cannot be changed from '${account.kind}' to '${String(body.kind)}'.`
    )
  }
  const keyUri = requestedKeyChange(a, account, props)
  if (keyUri !== undefined) return changeKey(a, account, body, keyUri)

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
  const identity: AccountIdentity = identityOf(next)

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

  if (props.locations !== undefined) next.locations = updatedLocations(a, account, props.locations)
  if (props.capabilities !== undefined) next.capabilities = parseCapabilities(a, props.capabilities)
  updatedStorageFeatures(a, account, next, body, props)
  if (body.tags !== undefined) {
    const tags = tagsOf(body.tags)
    if (!tags) throw fail(a, 'The property "tags" must be an object of string values.')
    next.tags = tags
  }

  if (identityChanged || defaultIdentityChanged) {
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
    if (defaultIdentityChanged && next.keyVaultKeyUri) {
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
    return deletionAccepted(a, account)
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

/** `HEAD /providers/Microsoft.DocumentDB/databaseAccountNames/{name}`: 200 when the name is taken. */
export function databaseAccountNameExists(a: ArmRequest, name: string): EmuResponse {
  const taken = Object.values(a.world.cosmosAccounts).some(
    x => x.name.toLowerCase() === name.toLowerCase()
  )
  return { status: taken ? 200 : 404 }
}
