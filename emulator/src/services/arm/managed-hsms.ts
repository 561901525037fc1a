import type { EmuResponse } from '../../core/service.js'
import type { ManagedHsm } from '../../core/world.js'
import { azureError } from '../../core/errors.js'
import { addManagedHsm } from '../../model/hsms.js'
import { HSM_TYPE, hsmUri, isGuid } from '../../model/ids.js'
import { findHsmByName } from '../../model/lookup.js'
import { findRegion, regionNames } from '../../model/regions.js'
import {
  addressResource,
  authorize,
  authorizeWrite,
  getResource,
  jsonBody,
  newResource,
  retryAfter,
  startOperation,
  tagsOf,
  type Addressed,
  type ArmRequest
} from './context.js'
import { badRequest, locationNotAvailable, resourceNotFound } from './errors.js'

const SKUS: Record<string, string[]> = {
  B: ['Standard_B1', 'Custom_B32', 'Custom_B6'],
  C: ['Custom_C42', 'Custom_C10']
}

export const NOT_ACTIVATED_MESSAGE =
  'Your HSM has been provisioned, but cannot be used for cryptographic operations until it is ' +
  'activated. To activate the HSM, download the security domain.'

const ACTIVATION_MESSAGES: Record<string, string> = {
  NotActivated: NOT_ACTIVATED_MESSAGE,
  Active: 'Your HSM has been activated and can be used for cryptographic operations.',
  Failed: 'Activation of your HSM failed. Download the security domain again.',
  Unknown: 'The activation status of your HSM is unknown.'
}

const STATUS_MESSAGES: Record<string, string> = {
  Provisioning: 'Allocating hardware',
  Updating: 'ManagedHsm is updating.',
  Succeeded: 'ManagedHsm is functional.'
}

function hsmBody(hsm: ManagedHsm): Record<string, unknown> {
  return {
    id: hsm.id,
    name: hsm.name,
    type: HSM_TYPE,
    location: hsm.location,
    tags: hsm.tags,
    sku: { family: hsm.skuName.startsWith('Custom_C') ? 'C' : 'B', name: hsm.skuName },
    properties: {
      tenantId: hsm.tenantId,
      initialAdminObjectIds: hsm.initialAdminObjectIds,
      hsmUri: hsmUri(hsm.name),
      enableSoftDelete: hsm.enableSoftDelete,
      softDeleteRetentionInDays: hsm.softDeleteRetentionInDays,
      enablePurgeProtection: hsm.enablePurgeProtection,
      publicNetworkAccess: hsm.publicNetworkAccess,
      networkAcls: {
        bypass: 'AzureServices',
        defaultAction: 'Allow',
        ipRules: [],
        virtualNetworkRules: []
      },
      provisioningState: hsm.provisioningState,
      statusMessage: STATUS_MESSAGES[hsm.provisioningState] ?? hsm.provisioningState,
      regions: [],
      privateEndpointConnections: [],
      securityDomainProperties: {
        activationStatus: hsm.activationStatus,
        activationStatusMessage: ACTIVATION_MESSAGES[hsm.activationStatus]
      }
    }
  }
}

function operationLocation(a: ArmRequest, hsm: ManagedHsm, operationId: string): string {
  return (
    `${a.ctx.origin}/subscriptions/${hsm.subscriptionId}/providers/Microsoft.KeyVault/locations/` +
    `${hsm.location}/managedHsmOperationResults/${operationId}?api-version=${a.apiVersion}`
  )
}

/** Starts the LRO that turns the HSM Succeeded at `provisionedAt`; answers 202 + Location. */
function accepted(a: ArmRequest, hsm: ManagedHsm, kind: 'hsm-create' | 'hsm-update'): EmuResponse {
  const id = startOperation(a, hsm.id, kind, hsm.provisionedAt ?? a.now)
  return {
    status: 202,
    headers: { Location: operationLocation(a, hsm, id), 'Retry-After': retryAfter(a) },
    body: hsmBody(hsm)
  }
}

const NAME_PATTERN = /^[a-zA-Z](?!.*--)[a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$/

interface MutableProps {
  enableSoftDelete?: unknown
  enablePurgeProtection?: unknown
  softDeleteRetentionInDays?: unknown
  publicNetworkAccess?: unknown
}

/** Checks the properties an update may carry. */
function checkUpdate(hsm: ManagedHsm | undefined, props: MutableProps): void {
  if (props.enableSoftDelete === false) {
    throw badRequest(
      'The property "enableSoftDelete" cannot be set to false. Soft delete is always enabled for a managed HSM and cannot be turned off.'
    )
  }
  if (hsm?.enablePurgeProtection && props.enablePurgeProtection === false) {
    throw badRequest(
      'The property "enablePurgeProtection" cannot be set to false. Enabling the purge protection for a vault is an irreversible action.'
    )
  }
  if (
    props.enablePurgeProtection !== undefined &&
    typeof props.enablePurgeProtection !== 'boolean'
  ) {
    throw badRequest('The property "enablePurgeProtection" must be a boolean.')
  }
  const days = props.softDeleteRetentionInDays
  if (days !== undefined) {
    if (!Number.isInteger(days) || (days as number) < 7 || (days as number) > 90) {
      throw badRequest(
        'The property "softDeleteRetentionInDays" must be an integer between 7 and 90.'
      )
    }
    if (hsm && days !== hsm.softDeleteRetentionInDays) {
      throw badRequest(
        'The property "softDeleteRetentionInDays" cannot be changed after the managed HSM has been created.'
      )
    }
  }
  if (
    props.publicNetworkAccess !== undefined &&
    props.publicNetworkAccess !== 'Enabled' &&
    props.publicNetworkAccess !== 'Disabled'
  ) {
    throw badRequest('The property "publicNetworkAccess" must be "Enabled" or "Disabled".')
  }
}

function applyUpdate(
  a: ArmRequest,
  hsm: ManagedHsm,
  props: MutableProps,
  tags?: Record<string, string>
): EmuResponse {
  if (props.enablePurgeProtection === true) hsm.enablePurgeProtection = true
  if (props.publicNetworkAccess === 'Enabled' || props.publicNetworkAccess === 'Disabled') {
    hsm.publicNetworkAccess = props.publicNetworkAccess
  }
  if (tags) hsm.tags = tags
  hsm.provisioningState = 'Updating'
  hsm.provisionedAt = a.now + a.ctx.delay('hsmUpdate')
  return accepted(a, hsm, 'hsm-update')
}

function requireIdle(hsm: ManagedHsm): void {
  if (hsm.provisioningState === 'Succeeded') return
  throw azureError(
    409,
    'Conflict',
    `The managed HSM '${hsm.name}' is in state ${hsm.provisioningState}; retry when the current operation has finished.`
  )
}

function create(
  a: ArmRequest,
  target: Addressed<ManagedHsm>,
  body: Record<string, unknown>
): EmuResponse {
  const { group, name } = target
  if (!NAME_PATTERN.test(name)) {
    throw badRequest(
      `The name '${name}' is invalid. A managed HSM name must be 3-24 characters long, begin with a ` +
        'letter, end with a letter or digit, and contain only letters, digits and non-consecutive hyphens.'
    )
  }
  if (findHsmByName(a.world, name)) {
    throw azureError(
      409,
      'Conflict',
      `The name '${name}' is already in use. Managed HSM names are globally unique, so it is possible ` +
        'that the name is already taken. Choose another name.'
    )
  }
  const region = findRegion(body.location as string | undefined)
  if (!region) throw locationNotAvailable(body.location, HSM_TYPE, regionNames())
  const sku = body.sku as { family?: unknown; name?: unknown } | undefined
  if (
    !sku ||
    typeof sku.name !== 'string' ||
    typeof sku.family !== 'string' ||
    !SKUS[sku.family]?.includes(sku.name)
  ) {
    throw badRequest(
      'The property "sku" is required and must name a managed HSM SKU: family "B" with "Standard_B1", ' +
        '"Custom_B32" or "Custom_B6", or family "C" with "Custom_C42" or "Custom_C10".'
    )
  }
  const props = (body.properties ?? {}) as Record<string, unknown>
  if (!isGuid(props.tenantId))
    throw badRequest('The property "tenantId" is required and must be a GUID.')
  if (props.tenantId.toLowerCase() !== a.world.tenantId.toLowerCase()) {
    throw badRequest(
      `The tenant '${props.tenantId}' is not the tenant of subscription '${group.subscriptionId}' (${a.world.tenantId}).`
    )
  }
  const admins = props.initialAdminObjectIds
  if (!Array.isArray(admins) || admins.length === 0 || !admins.every(isGuid)) {
    throw badRequest(
      'The property "initialAdminObjectIds" must list at least one administrator object id (a GUID).'
    )
  }
  if (props.createMode === 'recover') {
    throw badRequest(
      'Recovering a deleted managed HSM (createMode "recover") is not emulated by the local Azure.'
    )
  }
  checkUpdate(undefined, props)
  const tags = tagsOf(body.tags)
  if (!tags) throw badRequest('The property "tags" must be an object of string values.')

  const hsm: ManagedHsm = {
    ...newResource(target, region.name, tags),
    skuName: sku.name,
    tenantId: a.world.tenantId,
    initialAdminObjectIds: (admins as string[]).map(id => id.toLowerCase()),
    enableSoftDelete: true,
    softDeleteRetentionInDays: (props.softDeleteRetentionInDays as number | undefined) ?? 90,
    enablePurgeProtection: props.enablePurgeProtection !== false,
    publicNetworkAccess: props.publicNetworkAccess === 'Disabled' ? 'Disabled' : 'Enabled',
    provisioningState: 'Provisioning',
    provisionedAt: a.now + a.ctx.delay('hsmCreate'),
    activationStatus: 'NotActivated',
    createdAt: a.now,
    createdBy: a.callerId
  }
  addManagedHsm(a.world, hsm, () => a.ctx.newGuid(), a.now)
  return accepted(a, hsm, 'hsm-create')
}

/** ManagedHsms_Get, _CreateOrUpdate (PUT) and _Update (PATCH). */
export function managedHsm(a: ArmRequest, sub: string, rg: string, name: string): EmuResponse {
  const target = addressResource(a, sub, rg, HSM_TYPE, name, a.world.managedHsms)
  const method = a.ctx.req.method
  if (method === 'GET') return getResource(a, target, hsmBody)
  authorizeWrite(a, target)
  const body = jsonBody(a)
  const hsm = target.existing
  if (!hsm && method === 'PATCH') throw resourceNotFound(HSM_TYPE, name, target.group.name)
  if (!hsm) return create(a, target, body)
  requireIdle(hsm)
  const props = (body.properties ?? {}) as MutableProps
  checkUpdate(hsm, props)
  // PATCH leaves the tags alone unless it sends some; PUT replaces them.
  const keepTags = method === 'PATCH' && body.tags === undefined
  const tags = keepTags ? undefined : tagsOf(body.tags)
  if (!keepTags && !tags)
    throw badRequest('The property "tags" must be an object of string values.')
  return applyUpdate(a, hsm, props, tags)
}

export function managedHsmOperationResult(
  a: ArmRequest,
  sub: string,
  operationId: string
): EmuResponse {
  const op = a.world.operations[operationId.toLowerCase()] ?? a.world.operations[operationId]
  const hsm = op && a.world.managedHsms[op.resourceId]
  if (
    !op ||
    !op.kind.startsWith('hsm-') ||
    !hsm ||
    hsm.subscriptionId.toLowerCase() !== sub.toLowerCase()
  ) {
    throw azureError(404, 'NotFound', `The operation '${operationId}' was not found.`)
  }
  if (op.status === 'InProgress') {
    return {
      status: 202,
      logAs: 'poll',
      headers: { Location: operationLocation(a, hsm, op.id), 'Retry-After': retryAfter(a) },
      body: hsmBody(hsm)
    }
  }
  return { status: 200, logAs: 'poll', body: hsmBody(hsm) }
}

export function checkMhsmNameAvailability(a: ArmRequest, sub: string): EmuResponse {
  const name = jsonBody(a).name
  if (typeof name !== 'string') throw badRequest('The property "name" is required.')
  authorize(a, 'Microsoft.KeyVault/checkMhsmNameAvailability/action', `/subscriptions/${sub}`)
  if (!NAME_PATTERN.test(name)) {
    return {
      status: 200,
      body: {
        nameAvailable: false,
        reason: 'AccountNameInvalid',
        message: `The name '${name}' is not a valid managed HSM name.`
      }
    }
  }
  if (findHsmByName(a.world, name)) {
    return {
      status: 200,
      body: {
        nameAvailable: false,
        reason: 'AlreadyExists',
        message: `The name '${name}' is already in use.`
      }
    }
  }
  return { status: 200, body: { nameAvailable: true } }
}
