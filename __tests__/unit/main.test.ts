import { describe, expect, it } from '@jest/globals'
import { run } from '../../src/main.js'
import { outputNames } from '../../src/outputs.js'
import { renderSummary } from '../../src/summary.js'
import { FakeAzure, FakeRunner, fakeJwt, restError, validInputs } from './fakes.js'
import { runDeps } from './helpers.js'
import { summaryChart } from '../../testkit/timeline-chart.js'

const inputs = validInputs

const deps = runDeps

describe('run', () => {
  it('sets every output and writes a summary with one row per step', async () => {
    const runner = new FakeRunner(inputs)
    const azure = new FakeAzure().withActiveHsm()
    await run(runner, deps(azure))
    expect(runner.failed).toBeUndefined()
    expect(Object.keys(runner.outputs).sort()).toEqual([...outputNames].sort())
    expect(runner.outputs['key-uri']).toBe('https://hsm-cmk.managedhsm.azure.net/keys/cosmos-key')
    expect(runner.outputs.changed).toBe('true')
    expect(runner.summaries).toHaveLength(1)
    expect(runner.summaries[0]).toContain(
      '| Key | absent | create RSA-HSM 3072 with wrapKey, unwrapKey'
    )
    expect(runner.summaries[0]).toContain(
      '| key-uri | ` https://hsm-cmk.managedhsm.azure.net/keys/cosmos-key ` |'
    )
  })

  it('fails on invalid inputs before any request', async () => {
    const runner = new FakeRunner({ ...inputs, 'hsm-name': 'My_HSM' })
    const azure = new FakeAzure()
    await run(runner, deps(azure))
    expect(runner.failed).toBe(
      "Input 'hsm-name' is 'My_HSM': must be 3-24 characters, letters, digits and hyphens, starting with a letter and not ending with a hyphen."
    )
    expect(azure.calls).toEqual([])
  })

  it('fails with the message only, never a token, and still writes the summary', async () => {
    const runner = new FakeRunner(inputs)
    const token = fakeJwt({ secret: true })
    const azure = new FakeAzure().withActiveHsm()
    azure.failNext('account.get', () =>
      restError(401, 'InvalidAuthenticationToken', `Bad token ${token}`)
    )
    await run(runner, deps(azure))
    expect(runner.failed).toContain('InvalidAuthenticationToken (HTTP 401)')
    expect(runner.failed).not.toContain(token)
    expect(runner.summaries[0]).toContain('**Failed in step Observe:**')
    expect(runner.summaries[0]).not.toContain(token)
    expect(runner.logs.join('\n')).not.toContain(token)
  })

  it('plan mode writes nothing and says what apply would do', async () => {
    const runner = new FakeRunner({ ...inputs, mode: 'plan' })
    const azure = new FakeAzure().withActiveHsm()
    await run(runner, deps(azure))
    expect(azure.writes()).toEqual([])
    expect(runner.summaries[0]).toContain('plan: nothing was written')
    expect(runner.summaries[0]).toContain('would change')
    expect(runner.logs).toContain('info: Plan complete: apply would change something.')
  })

  it('stops cleanly when timeout-minutes is reached', async () => {
    const runner = new FakeRunner({ ...inputs, 'timeout-minutes': '1' })
    const azure = new FakeAzure().withActiveHsm()
    // A wait that never ends: the HSM keeps answering 403.
    const denied = () => restError(403, 'Forbidden', 'not authorized', 'ForbiddenByRbac')
    azure.failAlways('armKey.create', denied)
    const realClock = {
      now: () => Date.now(),
      sleep: (ms: number, signal?: AbortSignal) =>
        new Promise<void>((resolve, reject) => {
          const t = setTimeout(resolve, Math.min(ms, 5))
          signal?.addEventListener(
            'abort',
            () => {
              clearTimeout(t)
              const e = new Error('aborted')
              e.name = 'AbortError'
              reject(e)
            },
            { once: true }
          )
        })
    }
    const originalSetTimeout = globalThis.setTimeout
    // Make the one-minute run deadline fire quickly.
    globalThis.setTimeout = ((fn: () => void, ms?: number) =>
      originalSetTimeout(fn, ms === 60_000 ? 50 : ms)) as typeof setTimeout
    try {
      await run(runner, { ...deps(azure), clock: realClock })
    } finally {
      globalThis.setTimeout = originalSetTimeout
    }
    expect(runner.failed).toMatch(/^timeout-minutes \(1\) was reached during step 'Key'/)
    expect(runner.failed).toMatch(/re-run continues/)
    // Says what the run was waiting for, and what it saw last.
    expect(runner.failed).toMatch(
      /Stopped waiting for Managed HSM 'hsm-cmk' to let .* create key 'cosmos-key' .*Last observation: HSM answered 403/
    )
    // The summary still ends with where the time went, up to the wait the deadline ended.
    expect(summaryChart(runner.summaries[0])?.bars).toContainEqual(
      expect.objectContaining({
        step: 'Key',
        tag: 'crit',
        title: expect.stringMatching(/^propagation .*, Managed HSM 'hsm-cmk' to let /)
      })
    )
  })
})

describe('renderSummary', () => {
  it('escapes table cells and strips tokens', () => {
    const md = renderSummary({
      mode: 'apply',
      records: [
        { step: 'Key', observed: `a|b\nc ${fakeJwt({ x: 1 })}`, action: 'none', result: 'ok' }
      ]
    })
    expect(md).toContain('| Key | a\\|b<br>c \\[redacted token\\] | none | ✅ no change |')
  })
})
