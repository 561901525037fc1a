/** How the tests of the steps read a run's outcome: its failure, and its summary rows. */
import { expect } from '@jest/globals'
import { readFileSync } from 'node:fs'
import {
  parseSecurityDomainCertificate,
  type SecurityDomainCertificate
} from '../../src/certificates.js'
import { ProvisioningError } from '../../src/provisioning-error.js'
import type { StepRecord, StepResult } from '../../src/steps/context.js'

/** The run's failure, which must be a ProvisioningError. */
export async function failure(run: Promise<unknown>): Promise<ProvisioningError> {
  const outcome = await run.then(
    () => undefined,
    (error: unknown) => error
  )
  expect(outcome).toBeInstanceOf(ProvisioningError)
  return outcome as ProvisioningError
}

/** The first summary row of `step`. */
export const rowOf = (records: StepRecord[], step: string): StepRecord | undefined =>
  records.find(r => r.step === step)

/** Expects the first row of `step` to be exactly this one. */
export function expectRow(
  records: StepRecord[],
  step: string,
  observed: string,
  action: string,
  result: StepResult
): void {
  expect(rowOf(records, step)).toEqual({ step, observed, action, result })
}

/** The bootstrap grant's row in a plan whose account is not on its system-assigned identity yet. */
export const bootstrapKeptUntilSwitch: StepRecord = {
  step: 'Bootstrap assignment',
  observed: 'the account does not use SystemAssignedIdentity yet',
  action: 'remove the bootstrap grant once it does',
  result: 'would-change'
}

/** Three security-domain certificates (the fixtures sd0 to sd2). */
export function certificates(): SecurityDomainCertificate[] {
  return ['sd0', 'sd1', 'sd2'].map(name => {
    const path = new URL(`./fixtures/${name}.pem`, import.meta.url)
    return parseSecurityDomainCertificate(`${name}.pem`, readFileSync(path, 'utf8'))
  })
}
