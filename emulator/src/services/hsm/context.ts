import type { ServiceContext } from '../../core/service.js'
import type { HsmDataPlane, ManagedHsm } from '../../core/world.js'
import { parseJsonObject } from '../../core/errors.js'
import { principalMayPerform } from '../../model/rbac.js'
import { accessDenied, badParameter } from './errors.js'

/** One request to an HSM's data plane, after the checks every operation shares. */
export interface HsmRequest {
  ctx: ServiceContext
  hsm: ManagedHsm
  plane: HsmDataPlane
  callerId: string
}

/** Checks one data action for the caller; throws the 403 when it is not granted. */
export function authorize(r: HsmRequest, dataAction: string, scope: string): void {
  if (!principalMayPerform(r.ctx.world, r.hsm.name, r.callerId, dataAction, scope, r.ctx.now())) {
    throw accessDenied(dataAction, scope, r.ctx.newGuid())
  }
}

/** The request body as a JSON object (an empty body is `{}`). */
export function jsonBody(r: HsmRequest): Record<string, unknown> {
  const parsed = parseJsonObject(r.ctx.req.body, true)
  if (!parsed.ok) throw badParameter('The request body is not a valid JSON object.')
  return parsed.value
}
