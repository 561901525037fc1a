/**
 * The Managed HSM step called alone: the HSM as each record describes it, what creating and turning
 * purge protection on say, and the wait for provisioning that stops only at a state that ends it.
 */
import { describe, expect, it } from '@jest/globals'
import type { ManagedHsmState } from '../../src/azure/api.js'
import { ActionError } from '../../src/errors.js'
import { ensureHsm } from '../../src/steps/hsm.js'
import { FakeAzure, baseInputs } from './fakes.js'
import { stepContext } from './step-context.js'

function withHsm(overrides: Partial<ManagedHsmState> = {}) {
  const azure = new FakeAzure().withActiveHsm(overrides)
  const inputs = baseInputs({ hsm: { ...baseInputs().hsm, enablePurgeProtection: true } })
  return { ...stepContext(inputs, {}, azure), hsm: { ...azure.hsmState! } }
}

describe('ensureHsm on an HSM that exists', () => {
  it.each([
    [{}, 'Succeeded, purge protection on, soft delete on (90 days), Active'],
    [
      { enableSoftDelete: false, softDeleteRetentionInDays: undefined },
      'Succeeded, purge protection on, soft delete off, Active'
    ]
  ])('describes %j as "%s"', async (overrides, described) => {
    const { ctx, hsm } = withHsm(overrides)
    await ensureHsm(ctx, hsm)
    expect(ctx.records).toEqual([
      { step: 'Managed HSM', observed: described, action: 'none', result: 'ok' }
    ])
  })

  it('turns purge protection on, saying that it is irreversible and how long it took', async () => {
    const { ctx, runner, hsm, azure } = withHsm({ enablePurgeProtection: false })
    const after = await ensureHsm(ctx, hsm)
    expect(after?.enablePurgeProtection).toBe(true)
    expect(azure.calls).toEqual(['write hsm.enablePurgeProtection'])
    expect(runner.logs).toEqual([
      "warning: Turning purge protection on for Managed HSM 'hsm-cmk'. This is irreversible: the " +
        'HSM and its keys can no longer be purged before their retention period ends.',
      "info: Started: purge protection update of Managed HSM 'hsm-cmk'.",
      "info: Finished after 0 s: purge protection update of Managed HSM 'hsm-cmk'.",
      'info: Managed HSM: Succeeded, purge protection off, soft delete on (90 days), Active -> ' +
        'turn purge protection on (irreversible) [changed]'
    ])
  })

  it('plans purge protection without turning it on', async () => {
    const { ctx, hsm, azure } = withHsm({ enablePurgeProtection: false })
    ctx.plan = true
    await expect(ensureHsm(ctx, hsm)).resolves.toEqual(hsm)
    expect(azure.calls).toEqual([])
    expect(ctx.records).toEqual([
      {
        step: 'Managed HSM',
        observed: 'Succeeded, purge protection off, soft delete on (90 days), Active',
        action: 'turn purge protection on (irreversible)',
        result: 'would-change'
      }
    ])
  })
})

describe('ensureHsm creating the HSM', () => {
  function absent() {
    const inputs = baseInputs({
      location: 'westeurope',
      hsm: { ...baseInputs().hsm, create: true, administrators: ['admin-1'] }
    })
    return stepContext(inputs, {}, new FakeAzure())
  }

  it('creates it, saying how long that usually takes', async () => {
    const { ctx, runner, azure } = absent()
    await ensureHsm(ctx, undefined)
    expect(azure.calls.slice(0, 1)).toEqual(['write hsm.create'])
    const what = "creation of Managed HSM 'hsm-cmk' (it usually takes 20-30 minutes)"
    expect(runner.logs.slice(1, 3)).toEqual([
      `info: Started: ${what}.`,
      `info: Finished after 0 s: ${what}.`
    ])
  })

  it('plans the creation with its cost, creating nothing', async () => {
    const { ctx, runner, azure } = absent()
    ctx.plan = true
    await expect(ensureHsm(ctx, undefined)).resolves.toBeUndefined()
    expect(azure.calls).toEqual([])
    expect(runner.logs[0]).toBe(
      "warning: Apply would create Managed HSM 'hsm-cmk': billing starts at creation, and its " +
        'purge protection cannot be turned off; a deleted HSM stays billed and counted against ' +
        'quota for 90 days.'
    )
    expect(ctx.records).toEqual([
      expect.objectContaining({ step: 'Managed HSM', observed: 'absent', result: 'would-change' })
    ])
  })
})

describe('ensureHsm waiting for provisioning', () => {
  /** An HSM that reads in each of `states` in turn, then stays in the last. */
  function provisioning(states: string[], statusMessage?: string) {
    const harness = withHsm({ provisioningState: 'Provisioning', statusMessage })
    let reads = 0
    harness.azure.before['hsm.get'] = () => {
      harness.azure.hsmState!.provisioningState = states[Math.min(reads++, states.length - 1)]
    }
    return harness
  }

  it('keeps waiting through states that only look like an end', async () => {
    const { ctx, hsm, azure } = provisioning(['NotFailed', 'Deleting2', 'Succeeded'])
    await expect(ensureHsm(ctx, hsm)).resolves.toEqual(
      expect.objectContaining({ provisioningState: 'Succeeded' })
    )
    expect(azure.calls).toEqual(['read hsm.get', 'read hsm.get', 'read hsm.get'])
  })

  it.each([
    ['Failed', 'quota exceeded', ': quota exceeded'],
    ['Deleting', undefined, '']
  ])('stops at %s, with its status message if any', async (state, statusMessage, said) => {
    const { ctx, hsm } = provisioning([state], statusMessage)
    await expect(ensureHsm(ctx, hsm)).rejects.toThrow(
      new ActionError(`Managed HSM 'hsm-cmk' ended in provisioning state ${state}${said}.`)
    )
  })
})
