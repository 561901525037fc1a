import type { EmuResponse } from '../../core/service.js'
import type { ManagedHsm } from '../../core/world.js'
import { azureError } from '../../core/errors.js'
import { HSM_TYPE, hsmUri, isGuid, resourceId, worldKey } from '../resources/ids.js'
import { findHsmByName } from '../resources/lookup.js'
import { findRegion, regionNames } from '../resources/regions.js'
import { ADMINISTRATOR_ROLE_GUID, roleDefinitionId } from '../hsm/role-definitions.js'
import {
  authorize,
  findResourceGroup,
  isResponse,
  jsonBody,
  requireRegistered,
  retryAfter,
  tagsOf,
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

export function hsmBody(hsm: ManagedHsm): Record<string, unknown> {
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
  const id = a.ctx.newGuid()
  a.world.operations[id] = {
    id,
    resourceId: worldKey(hsm.id),
    kind,
    status: 'InProgress',
    startedAt: a.now,
    completesAt: hsm.provisionedAt ?? a.now
  }
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

/** Checks the properties an update may carry; undefined when they are acceptable. */
function updateProblem(hsm: ManagedHsm | undefined, props: MutableProps): EmuResponse | undefined {
  if (props.enableSoftDelete === false) {
    return badRequest(
      'The property "enableSoftDelete" cannot be set to false. Soft delete is always enabled for a managed HSM and cannot be turned off.'
    )
  }
  if (hsm?.enablePurgeProtection && props.enablePurgeProtection === false) {
    return badRequest(
      'The property "enablePurgeProtection" cannot be set to false. Enabling the purge protection for a vault is an irreversible action.'
    )
  }
  if (
    props.enablePurgeProtection !== undefined &&
    typeof props.enablePurgeProtection !== 'boolean'
  ) {
    return badRequest('The property "enablePurgeProtection" must be a boolean.')
  }
  const days = props.softDeleteRetentionInDays
  if (days !== undefined) {
    if (!Number.isInteger(days) || (days as number) < 7 || (days as number) > 90) {
      return badRequest(
        'The property "softDeleteRetentionInDays" must be an integer between 7 and 90.'
      )
    }
    if (hsm && days !== hsm.softDeleteRetentionInDays) {
      return badRequest(
        'The property "softDeleteRetentionInDays" cannot be changed after the managed HSM has been created.'
      )
    }
  }
  if (
    props.publicNetworkAccess !== undefined &&
    props.publicNetworkAccess !== 'Enabled' &&
    props.publicNetworkAccess !== 'Disabled'
  ) {
    return badRequest('The property "publicNetworkAccess" must be "Enabled" or "Disabled".')
  }
  return undefined
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

function busy(hsm: ManagedHsm): EmuResponse | undefined {
  if (hsm.provisioningState === 'Succeeded') return undefined
  return azureError(
    409,
    'Conflict',
    `The managed HSM '${hsm.name}' is in state ${hsm.provisioningState}; retry when the current operation has finished.`
  )
}

function create(
  a: ArmRequest,
  sub: string,
  rg: string,
  name: string,
  body: Record<string, unknown>
): EmuResponse {
  if (!NAME_PATTERN.test(name)) {
    return badRequest(
      `The name '${name}' is invalid. A managed HSM name must be 3-24 characters long, begin with a ` +
        'letter, end with a letter or digit, and contain only letters, digits and non-consecutive hyphens.'
    )
  }
  const taken = findHsmByName(a.world, name)
  if (taken) {
    return azureError(
      409,
      'Conflict',
      `The name '${name}' is already in use. Managed HSM names are globally unique, so it is possible ` +
        'that the name is already taken. Choose another name.'
    )
  }
  const region = findRegion(body.location as string | undefined)
  if (!region) return locationNotAvailable(body.location, HSM_TYPE, regionNames())
  const sku = body.sku as { family?: unknown; name?: unknown } | undefined
  if (
    !sku ||
    typeof sku.name !== 'string' ||
    typeof sku.family !== 'string' ||
    !SKUS[sku.family]?.includes(sku.name)
  ) {
    return badRequest(
      'The property "sku" is required and must name a managed HSM SKU: family "B" with "Standard_B1", ' +
        '"Custom_B32" or "Custom_B6", or family "C" with "Custom_C42" or "Custom_C10".'
    )
  }
  const props = (body.properties ?? {}) as Record<string, unknown>
  if (!isGuid(props.tenantId))
    return badRequest('The property "tenantId" is required and must be a GUID.')
  if (props.tenantId.toLowerCase() !== a.world.tenantId.toLowerCase()) {
    return badRequest(
      `The tenant '${props.tenantId}' is not the tenant of subscription '${sub}' (${a.world.tenantId}).`
    )
  }
  const admins = props.initialAdminObjectIds
  if (!Array.isArray(admins) || admins.length === 0 || !admins.every(isGuid)) {
    return badRequest(
      'The property "initialAdminObjectIds" must list at least one administrator object id (a GUID).'
    )
  }
  if (props.createMode === 'recover') {
    return badRequest(
      'Recovering a deleted managed HSM (createMode "recover") is not emulated by the local Azure.'
    )
  }
  const problem = updateProblem(undefined, props)
  if (problem) return problem
  const tags = tagsOf(body.tags)
  if (!tags) return badRequest('The property "tags" must be an object of string values.')

  const rgRecord =
    a.world.resourceGroups[`/subscriptions/${sub}/resourcegroups/${rg}`.toLowerCase()]!
  const hsm: ManagedHsm = {
    id: resourceId(rgRecord.subscriptionId, rgRecord.name, HSM_TYPE, name),
    name,
    subscriptionId: rgRecord.subscriptionId,
    resourceGroup: rgRecord.name,
    location: region.name,
    tags,
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
  a.world.managedHsms[worldKey(hsm.id)] = hsm
  a.world.hsmDataPlanes[name.toLowerCase()] = {
    name,
    keys: {},
    roleAssignments: Object.fromEntries(
      hsm.initialAdminObjectIds.map(principalId => {
        const assignmentName = a.ctx.newGuid()
        return [
          assignmentName,
          {
            name: assignmentName,
            scope: '/',
            roleDefinitionId: roleDefinitionId(ADMINISTRATOR_ROLE_GUID),
            principalId,
            createdAt: a.now,
            effectiveAt: a.now
          }
        ]
      })
    )
  }
  return accepted(a, hsm, 'hsm-create')
}

export function managedHsm(a: ArmRequest, sub: string, rg: string, name: string): EmuResponse {
  const group = findResourceGroup(a, sub, rg)
  if (isResponse(group)) return group
  const id = resourceId(group.subscriptionId, group.name, HSM_TYPE, name)
  const hsm = a.world.managedHsms[worldKey(id)]
  const method = a.ctx.req.method

  if (method === 'GET') {
    const denied = authorize(a, 'Microsoft.KeyVault/managedHSMs/read', id)
    if (denied) return denied
    return hsm ? { status: 200, body: hsmBody(hsm) } : resourceNotFound(HSM_TYPE, name, group.name)
  }

  const denied =
    authorize(a, 'Microsoft.KeyVault/managedHSMs/write', id) ??
    requireRegistered(a, sub, 'Microsoft.KeyVault')
  if (denied) return denied
  const body = jsonBody(a)
  if (isResponse(body)) return body

  if (method === 'PATCH') {
    if (!hsm) return resourceNotFound(HSM_TYPE, name, group.name)
    const conflict = busy(hsm)
    if (conflict) return conflict
    const props = (body.properties ?? {}) as MutableProps
    const problem = updateProblem(hsm, props)
    if (problem) return problem
    const tags = body.tags === undefined ? undefined : tagsOf(body.tags)
    if (body.tags !== undefined && !tags)
      return badRequest('The property "tags" must be an object of string values.')
    return applyUpdate(a, hsm, props, tags)
  }

  // PUT
  if (!hsm) return create(a, group.subscriptionId, group.name, name, body)
  const conflict = busy(hsm)
  if (conflict) return conflict
  const props = (body.properties ?? {}) as MutableProps
  const problem = updateProblem(hsm, props)
  if (problem) return problem
  const tags = tagsOf(body.tags)
  if (!tags) return badRequest('The property "tags" must be an object of string values.')
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
    return azureError(404, 'NotFound', `The operation '${operationId}' was not found.`)
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
  const body = jsonBody(a)
  if (isResponse(body)) return body
  const name = body.name
  if (typeof name !== 'string') return badRequest('The property "name" is required.')
  const denied = authorize(
    a,
    'Microsoft.KeyVault/checkMhsmNameAvailability/action',
    `/subscriptions/${sub}`
  )
  if (denied) return denied
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
