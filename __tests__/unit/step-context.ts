/** A step's context over the typed fakes, for the tests that call one step (or preflight) alone. */
import { getCloud } from '../../src/cloud.js'
import type { Inputs } from '../../src/inputs/settings.js'
import { defaultWaitLimits, logFor, type StepContext } from '../../src/steps/context.js'
import { FakeAzure, FakeClock, FakeRunner, baseInputs, ids } from './fakes.js'
import { memorySecretFiles } from './helpers.js'

export interface StepHarness {
  ctx: StepContext
  azure: FakeAzure
  runner: FakeRunner
  clock: FakeClock
}

export function stepContext(
  inputs: Inputs = baseInputs(),
  overrides: Partial<StepContext> = {},
  azure = new FakeAzure()
): StepHarness {
  const runner = new FakeRunner()
  const clock = new FakeClock()
  const ctx: StepContext = {
    inputs,
    cloud: getCloud(inputs.environment),
    apis: azure,
    clock,
    log: logFor(runner),
    waits: { ...defaultWaitLimits },
    plan: inputs.mode === 'plan',
    principal: { objectId: ids.signedIn, tenantId: ids.tenant },
    tags: {},
    records: [],
    secretFiles: memorySecretFiles(),
    changed: false,
    ...overrides
  }
  return { ctx, azure, runner, clock }
}
