import type { EmuResponse } from '../../core/service.js'
import type { UserAssignedIdentity } from '../../core/world.js'
import { UAI_TYPE, worldKey } from '../../model/ids.js'
import { findRegion, regionNames } from '../../model/regions.js'
import {
  addIdentityPrincipal,
  addressResource,
  authorizeWrite,
  getResource,
  jsonBody,
  newResource,
  tagsOf,
  type ArmRequest
} from './context.js'
import { badRequest, locationNotAvailable } from './errors.js'

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
  const target = addressResource(a, sub, rg, UAI_TYPE, name, a.world.userAssignedIdentities)
  if (a.ctx.req.method === 'GET') return getResource(a, target, identityBody)
  authorizeWrite(a, target)
  const body = jsonBody(a)
  const tags = tagsOf(body.tags)
  if (!tags) throw badRequest('The property "tags" must be an object of string values.')
  const { existing, id } = target
  if (existing) {
    existing.tags = tags
    return { status: 200, body: identityBody(existing) }
  }
  if (!NAME_PATTERN.test(name)) {
    throw badRequest(
      `Resource name ${name} is invalid. The name can be 3-128 characters long and can contain only ` +
        "letters, digits, '-' and '_', starting with a letter or digit.",
      'InvalidResourceName'
    )
  }
  const region = findRegion(body.location as string | undefined)
  if (!region) throw locationNotAvailable(body.location, UAI_TYPE, regionNames())
  const uai: UserAssignedIdentity = {
    ...newResource(target, region.name, tags),
    principalId: a.ctx.newGuid(),
    clientId: a.ctx.newGuid(),
    tenantId: a.world.tenantId
  }
  a.world.userAssignedIdentities[worldKey(id)] = uai
  addIdentityPrincipal(a, { id: uai.principalId, appId: uai.clientId, displayName: name })
  return { status: 201, body: identityBody(uai) }
}
