import type { StepRecord } from './steps/context.js'
import type { StepName } from './steps/names.js'

/** A failed run: the error, the step it failed in, and the records of the steps before it. */
export class ProvisioningError extends Error {
  constructor(
    override readonly cause: unknown,
    readonly step: StepName | 'unknown',
    readonly records: StepRecord[]
  ) {
    super(cause instanceof Error ? cause.message : String(cause))
    this.name = 'ProvisioningError'
  }
}
