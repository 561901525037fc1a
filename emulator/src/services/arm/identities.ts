import type { EmuResponse } from '../../core/service.js'
import type { UserAssignedIdentity } from '../../core/world.js'
import { UAI_TYPE, resourceId, worldKey } from '../resources/ids.js'
import { addManagedIdentityPrincipal } from '../resources/principals.js'
import { findRegion, regionNames } from '../resources/regions.js'
import {
  authorize,
  findResourceGroup,
  isResponse,
  jsonBody,
  requireRegistered,
  tagsOf,
  type ArmRequest
} from './context.js'
import { badRequest, locationNotAvailable, resourceNotFound } from './errors.js'

const NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_-]{2,127}$/

export function identityBody(uai: UserAssignedIdentity): Record<string, unknown> {
  return {
    id: uai.id,
    name: uai.name,
    type: UAI_TYPE,
    location: uai.location,
    tags: uai.tags,
    properties: {
      tenantId: uai.tenantId,
      principalId: uai.principalId,
      clientId: uai.clientId,
      isolationScope: 'None'
    }
  }
}

export function userAssignedIdentity(
  a: ArmRequest,
  sub: string,
  rg: string,
  name: string
): EmuResponse {
  const group = findResourceGroup(a, sub, rg)
  if (isResponse(group)) return group
  const id = resourceId(group.subscriptionId, group.name, UAI_TYPE, name)
  const existing = a.world.userAssignedIdentities[worldKey(id)]

  if (a.ctx.req.method === 'GET') {
    const denied = authorize(a, 'Microsoft.ManagedIdentity/userAssignedIdentities/read', id)
    if (denied) return denied
    return existing
      ? { status: 200, body: identityBody(existing) }
      : resourceNotFound(UAI_TYPE, name, group.name)
  }

  const denied =
    authorize(a, 'Microsoft.ManagedIdentity/userAssignedIdentities/write', id) ??
    requireRegistered(a, sub, 'Microsoft.ManagedIdentity')
  if (denied) return denied
  const body = jsonBody(a)
  if (isResponse(body)) return body
  const tags = tagsOf(body.tags)
  if (!tags) return badRequest('The property "tags" must be an object of string values.')
  if (existing) {
    existing.tags = tags
    return { status: 200, body: identityBody(existing) }
  }
  if (!NAME_PATTERN.test(name)) {
    return badRequest(
      `Resource name ${name} is invalid. The name can be 3-128 characters long and can contain only ` +
        "letters, digits, '-' and '_', starting with a letter or digit.",
      'InvalidResourceName'
    )
  }
  const region = findRegion(body.location as string | undefined)
  if (!region) return locationNotAvailable(body.location, UAI_TYPE, regionNames())
  const uai: UserAssignedIdentity = {
    id,
    name,
    subscriptionId: group.subscriptionId,
    resourceGroup: group.name,
    location: region.name,
    tags,
    principalId: a.ctx.newGuid(),
    clientId: a.ctx.newGuid(),
    tenantId: a.world.tenantId
  }
  a.world.userAssignedIdentities[worldKey(id)] = uai
  addManagedIdentityPrincipal(a.world, {
    id: uai.principalId,
    appId: uai.clientId,
    displayName: name,
    replicatedAt: a.now + a.ctx.delay('principalReplication')
  })
  return { status: 201, body: identityBody(uai) }
}
