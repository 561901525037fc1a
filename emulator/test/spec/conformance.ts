import { expect } from '@jest/globals'
import type { Service } from '../../src/core/service.js'
import { armService } from '../../src/services/arm/index.js'
import type { CallOptions, Harness, JsonResponse } from '../resources/harness.js'
import { hsmCall } from '../resources/hsm-fixtures.js'
import { SwaggerValidator, Specs } from './swagger.js'

export type SpecName = keyof typeof Specs

let built: Record<SpecName, SwaggerValidator> | undefined

/** One validator per vendored spec, built on first use and shared by a test file's tests. */
export function validators(): Record<SpecName, SwaggerValidator> {
  built ??= Object.fromEntries(
    Object.entries(Specs).map(([k, file]) => [k, new SwaggerValidator(file)])
  ) as Record<SpecName, SwaggerValidator>
  return built
}

/** Asserts that `res` is a documented answer of `operationId`, status and body. */
export function conforms(spec: SpecName, operationId: string, res: JsonResponse): void {
  expect({
    operationId,
    status: res.status,
    problems: validators()[spec].check(operationId, res.status, res.json)
  }).toEqual({ operationId, status: res.status, problems: [] })
}

/** Calls a service (ARM unless told) as the harness does and checks the answer against the spec. */
export async function check(
  h: Harness,
  spec: SpecName,
  operationId: string,
  call: CallOptions,
  service: Service = armService
): Promise<JsonResponse> {
  const res = await h.call(service, call)
  conforms(spec, operationId, res)
  return res
}

/** The same for the Managed HSM data plane of the fixtures' HSM. */
export async function checkHsm(
  h: Harness,
  spec: SpecName,
  operationId: string,
  call: Omit<CallOptions, 'host'>
): Promise<JsonResponse> {
  const res = await hsmCall(h, call)
  conforms(spec, operationId, res)
  return res
}
