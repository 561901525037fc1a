import { describe, expect, it } from '@jest/globals'
import {
  createHttpHeaders,
  createPipelineFromOptions,
  createPipelineRequest,
  type HttpClient,
  type PipelinePolicy
} from '@azure/core-rest-pipeline'
import { timelinePolicy } from '../../src/azure/http.js'
import { defaultWaitLimits, withHeartbeat } from '../../src/steps/context.js'
import { Step } from '../../src/steps/names.js'
import { beginLingeringSpan, beginSpan, Timeline } from '../../src/timeline.js'
import { retryWhile, waitFor, WaitTimeoutError, type Poll } from '../../src/wait.js'
import { FakeClock } from './fakes.js'

const quiet = { info() {}, warning() {}, debug() {} }

/** A run timeline on a fake clock of its own. */
function timelineOnFakeClock(): { clock: FakeClock; timeline: Timeline } {
  const clock = new FakeClock()
  return { clock, timeline: new Timeline(clock) }
}

describe('the run timeline', () => {
  it('gives each span to the step running where it began, on the run clock, from the run start', async () => {
    const { clock, timeline } = timelineOnFakeClock()
    clock.time += 100
    await timeline.within(Step.KeyAccess, async () => {
      const phaseRead = beginSpan('read', 'GET /phase')
      clock.time += 10
      await Promise.all([
        timeline.within(Step.AdminGrant, async () => {
          await Promise.resolve()
          const end = beginSpan('write', 'PUT /admin')
          clock.time += 50
          end?.()
        }),
        timeline.within(Step.CosmosGrant, async () => beginSpan('write', 'PUT /cosmos')?.())
      ])
      phaseRead?.()
    })
    expect(timeline.spans()).toEqual([
      { step: Step.KeyAccess, kind: 'read', label: 'GET /phase', startMs: 100, endMs: 160 },
      { step: Step.CosmosGrant, kind: 'write', label: 'PUT /cosmos', startMs: 110, endMs: 110 },
      { step: Step.AdminGrant, kind: 'write', label: 'PUT /admin', startMs: 110, endMs: 160 }
    ])
  })

  it('records nothing outside a step', () => {
    expect(beginSpan('read', 'GET /x')).toBeUndefined()
    expect(beginLingeringSpan('throttling', 'GET /x')).toBeUndefined()
  })

  it('ends a lingering span with its step, and a span still open when the spans are read', async () => {
    const { clock, timeline } = timelineOnFakeClock()
    let open: (() => void) | undefined
    await timeline.within(Step.Observe, async () => {
      beginLingeringSpan('throttling', 'GET /throttled')
      open = beginSpan('read', 'GET /slow')
      clock.time += 30
    })
    clock.time += 20
    expect(timeline.spans()).toEqual([
      { step: Step.Observe, kind: 'throttling', label: 'GET /throttled', startMs: 0, endMs: 30 },
      { step: Step.Observe, kind: 'read', label: 'GET /slow', startMs: 0, endMs: 50 }
    ])
    clock.time += 10
    open?.()
    open?.()
    expect(timeline.spans().map(s => s.endMs)).toEqual([30, 60])
  })
})

describe('waits on the timeline', () => {
  function polls(...answers: Poll<string>[]) {
    return async () => answers.shift() ?? { done: true as const, value: 'done' }
  }
  const settings = (clock: FakeClock) => ({
    clock,
    log: () => {},
    hint: '',
    timeoutMs: 600_000,
    minDelayMs: 1000,
    maxDelayMs: 1000,
    random: () => 0
  })

  it('is a span from the first answer that is not done until the wait ends', async () => {
    const { clock, timeline } = timelineOnFakeClock()
    const what = 'the role to take effect'
    await timeline.within(Step.Key, () =>
      waitFor({
        ...settings(clock),
        what,
        kind: 'propagation',
        poll: polls({ done: false, status: '403' }, { done: false, status: '403' })
      })
    )
    expect(timeline.spans()).toEqual([
      { step: Step.Key, kind: 'propagation', label: what, startMs: 0, endMs: 2000 }
    ])
  })

  it('draws nothing for a wait that was over at the first answer', async () => {
    const { clock, timeline } = timelineOnFakeClock()
    await timeline.within(Step.Key, () =>
      waitFor({ ...settings(clock), what: 'x', kind: 'operation', poll: polls() })
    )
    expect(timeline.spans()).toEqual([])
  })

  it('starts a new span when an answer says it waits for something else', async () => {
    const { clock, timeline } = timelineOnFakeClock()
    const failures = ['key access pending', 'lock held', 'lock held']
    await timeline.within(Step.Account, () =>
      retryWhile(
        async () => {
          const failure = failures.shift()
          if (failure) throw new Error(failure)
          return 'created'
        },
        error =>
          (error as Error).message === 'lock held'
            ? { status: 'lock held', kind: 'operation' }
            : 'key access pending',
        { ...settings(clock), what: 'the account to be created', kind: 'propagation' }
      )
    )
    expect(timeline.spans().map(s => [s.kind, s.startMs, s.endMs])).toEqual([
      ['propagation', 0, 1000],
      ['operation', 1000, 3000]
    ])
  })

  it('ends the span when the wait gives up', async () => {
    const { clock, timeline } = timelineOnFakeClock()
    const waiting = timeline.within(Step.Providers, () =>
      waitFor({
        ...settings(clock),
        timeoutMs: 3000,
        what: 'Microsoft.KeyVault to be registered',
        kind: 'propagation',
        poll: async () => ({ done: false, status: 'Registering' })
      })
    )
    await expect(waiting).rejects.toBeInstanceOf(WaitTimeoutError)
    expect(timeline.spans()).toEqual([
      expect.objectContaining({ kind: 'propagation', startMs: 0, endMs: 3000 })
    ])
  })

  it('puts an SDK operation watched with a heartbeat on the timeline as an operation', async () => {
    const { clock, timeline } = timelineOnFakeClock()
    let finish: (value: string) => void = () => {}
    const work = new Promise<string>(resolve => (finish = resolve))
    const what = "creation of Managed HSM 'h'"
    const watched = timeline.within(Step.Hsm, () =>
      withHeartbeat({ clock, log: quiet, waits: defaultWaitLimits }, what, work)
    )
    clock.time += 40_000
    finish('created')
    await expect(watched).resolves.toBe('created')
    expect(timeline.spans()).toEqual([
      { step: Step.Hsm, kind: 'operation', label: what, startMs: 0, endMs: 40_000 }
    ])
  })
})

describe('requests on the timeline', () => {
  /** Answers each request with the next status, 200 once they run out; each answer takes 100 ms. */
  function azure(clock: FakeClock, ...statuses: number[]): HttpClient {
    return {
      async sendRequest(request) {
        clock.time += 100
        const status = statuses.shift() ?? 200
        return { request, status, headers: createHttpHeaders({ 'retry-after': '0' }) }
      }
    }
  }

  /** Stands for the retry policy's pause: 2 s of run time before every attempt but the first. */
  function pauseBeforeRetries(clock: FakeClock): PipelinePolicy {
    const seen = new WeakSet<object>()
    return {
      name: 'pause',
      async sendRequest(request, next) {
        if (seen.has(request)) clock.time += 2000
        seen.add(request)
        return next(request)
      }
    }
  }

  async function send(
    clock: FakeClock,
    client: HttpClient,
    method: 'GET' | 'PUT' | 'POST',
    url: string,
    maxRetries = 3
  ) {
    const pipeline = createPipelineFromOptions({
      retryOptions: { maxRetries, retryDelayInMs: 0, maxRetryDelayInMs: 0 }
    })
    pipeline.addPolicy(pauseBeforeRetries(clock), { afterPhase: 'Retry' })
    pipeline.addPolicy(timelinePolicy(), { afterPhase: 'Retry' })
    return pipeline.sendRequest(client, createPipelineRequest({ url, method }))
  }

  it('counts each attempt as a read or a write, and a token request as a read', async () => {
    const { clock, timeline } = timelineOnFakeClock()
    await timeline.within(Step.Observe, async () => {
      await send(clock, azure(clock), 'GET', 'https://management.azure.com/a?api-version=1')
      await send(clock, azure(clock), 'PUT', 'https://management.azure.com/b')
      await send(
        clock,
        azure(clock),
        'POST',
        'https://login.microsoftonline.com/t/oauth2/v2.0/token'
      )
    })
    expect(timeline.spans()).toEqual([
      { step: Step.Observe, kind: 'read', label: 'GET /a', startMs: 0, endMs: 100 },
      { step: Step.Observe, kind: 'write', label: 'PUT /b', startMs: 100, endMs: 200 },
      {
        step: Step.Observe,
        kind: 'read',
        label: 'POST /t/oauth2/v2.0/token',
        startMs: 200,
        endMs: 300
      }
    ])
  })

  it('draws a 429 answer as throttling until the next attempt', async () => {
    const { clock, timeline } = timelineOnFakeClock()
    const response = await timeline.within(Step.Account, () =>
      send(clock, azure(clock, 429, 429), 'PUT', 'https://management.azure.com/account')
    )
    expect(response.status).toBe(200)
    expect(timeline.spans().map(s => [s.kind, s.startMs, s.endMs])).toEqual([
      ['write', 0, 100],
      ['throttling', 100, 2100],
      ['write', 2100, 2200],
      ['throttling', 2200, 4200],
      ['write', 4200, 4300]
    ])
  })

  it('ends the throttling of a request the retry policy gave up on with the step', async () => {
    const { clock, timeline } = timelineOnFakeClock()
    await timeline.within(Step.Account, async () => {
      const response = await send(clock, azure(clock, 429), 'GET', 'https://x.test/a', 0)
      expect(response.status).toBe(429)
      clock.time += 700
    })
    clock.time += 5000
    expect(timeline.spans().map(s => [s.kind, s.startMs, s.endMs])).toEqual([
      ['read', 0, 100],
      ['throttling', 100, 800]
    ])
  })
})
