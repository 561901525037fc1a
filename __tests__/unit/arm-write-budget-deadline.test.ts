/**
 * A Retry-After longer than the run may last: the SDK pipeline's wait for a throttled ARM write
 * ends with the run's deadline (the signal `timeout-minutes` aborts), instead of holding the run
 * for the whole Retry-After. The run here goes through src/'s own adapters with the action's
 * default transport; the deadline is simulated by aborting as soon as the 429 is logged.
 */
import { describe, expect, it } from '@jest/globals'
import { runProvisioning } from '../../src/provision.js'
import { ProvisioningError } from '../../src/provisioning-error.js'
import { systemClock } from '../../src/clock.js'
import { defaultNames, spendArmBudgetBeforeWrites } from '../../testkit/index.js'
import { memorySecretFiles } from './helpers.js'
import { instantScenario, LocalRunner, localAzureInputs, useLocalAzure } from './local-azure.js'

/** One token, which takes 10,000 seconds to come back. */
const local = useLocalAzure(() =>
  instantScenario(s => {
    s.timing = { ...s.timing, armWriteBucket: 1, armWriteRefillPerSecond: 0.0001 }
  })
)

const inputs = () => localAzureInputs('budget-deadline')

describe('a throttled ARM write and the run deadline', () => {
  it('stops waiting out Retry-After when the run is aborted, and sends the write no more', async () => {
    const emulator = local.emulator
    const spent = spendArmBudgetBeforeWrites(emulator)
    const deadline = new AbortController()
    const reason = new Error('timeout-minutes (1) reached')
    reason.name = 'AbortError'
    const onRequest = (entry: { status: number; retryAfterSeconds?: number }) => {
      if (entry.status === 429) deadline.abort(reason)
    }
    emulator.on('request', onRequest)
    try {
      const run = runProvisioning(inputs(), {
        runner: new LocalRunner(emulator),
        clock: systemClock,
        secretFiles: memorySecretFiles(),
        waits: { minDelayMs: 20, maxDelayMs: 200 },
        signal: deadline.signal
      })
      await expect(run).rejects.toBeInstanceOf(ProvisioningError)
    } finally {
      emulator.off('request', onRequest as (arg: never) => void)
      spent.dispose()
    }
    const log = emulator.requests()
    const throttled = log.filter(e => e.status === 429)
    expect(throttled).toHaveLength(1)
    expect(throttled[0]).toMatchObject({
      method: 'POST',
      host: 'management.azure.com',
      path: `/subscriptions/${defaultNames.subscriptionId}/providers/Microsoft.DocumentDB/register`,
      retryAfterSeconds: 10_000
    })
    // Nothing was written after the throttled attempt, and it was not sent again.
    expect(log.filter(e => e.seq > throttled[0]!.seq && e.kind === 'write')).toEqual([])
    expect(deadline.signal.aborted).toBe(true)
  })
})
