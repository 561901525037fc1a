import type { ActionOutputs } from './outputs.js'
import type { StepRecord } from './steps/context.js'
import type { StepName } from './steps/names.js'
import type { Span } from './timeline.js'

/**
 * A failed run: the error, the step it failed in, the records of the steps before it, where its
 * time went, and the outputs of what did succeed (a fleet in which some accounts failed).
 */
export class ProvisioningError extends Error {
  constructor(
    override readonly cause: unknown,
    readonly step: StepName | 'unknown',
    readonly records: StepRecord[],
    readonly timeline: Span[] = [],
    readonly outputs?: ActionOutputs
  ) {
    super(cause instanceof Error ? cause.message : String(cause))
    this.name = 'ProvisioningError'
  }
}
