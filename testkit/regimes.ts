/** How long Azure takes to make writes take effect, as timing patches for the local Azure. */
import type { Timing } from './emulator.js'

export type RegimeName = 'instant' | 'fixed' | 'ranged'

/**
 * `instant`: everything takes effect at once; `fixed`: every propagation takes the same time;
 * `ranged`: each takes a time drawn from a range, so that parallel steps finish in any order.
 */
export const propagationRegimes: Record<RegimeName, Partial<Timing>> = {
  instant: {},
  fixed: {
    rbacPropagation: 800,
    principalReplication: 800,
    providerRegistration: 400,
    cosmosCreate: 400,
    cosmosUpdate: 400
  },
  ranged: {
    rbacPropagation: [200, 1500],
    principalReplication: [200, 1500],
    providerRegistration: [100, 800],
    cosmosCreate: [100, 800],
    cosmosUpdate: [100, 800]
  }
}

export const regimeNames = Object.keys(propagationRegimes) as RegimeName[]

/** The timing of a regime on top of a one-second Retry-After. */
export function regimeTiming(regime: RegimeName): Partial<Timing> {
  return { retryAfterSeconds: 1, ...propagationRegimes[regime] }
}
