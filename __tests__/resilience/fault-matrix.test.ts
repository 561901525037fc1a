/**
 * Every transient fault kind under every propagation regime: the bundled action, run from the
 * default scenario's activated HSM in system-assigned mode (the most steps), with seeded faults on
 * ARM, the HSM data plane, Entra ID and Graph, must exit 0 and leave the converged end state.
 * Which requests fail is fixed by the seed and each request's identity, not by arrival order, so a
 * case gets the same faults however its parallel requests interleave.
 */
import { beforeAll, describe, expect, test } from '@jest/globals'
import {
  assertExit0,
  convergenceProblems,
  faultedHosts,
  faultHosts,
  faultKinds,
  preparedScenario,
  regimeNames,
  regimeTiming,
  REQUEST_TIMEOUT_MS,
  startEach,
  withLab,
  type ActionRun,
  type EndState,
  type FaultCounts,
  type FaultKind,
  type FaultRule,
  type RegimeName,
  type RequestLogEntry
} from '../../testkit/index.js'

/** Rules of one kind on one host: the first matching request always, then a seeded share. */
function rulesFor(kind: FaultKind, host: string, rate: number): FaultRule[] {
  const shape: Partial<FaultRule> =
    kind === 'throttle'
      ? { retryAfterSeconds: 1 }
      : kind === 'stall'
        ? { stallMs: REQUEST_TIMEOUT_MS * 3 }
        : {}
  if (kind === 'server-error') {
    return [500, 502, 503, 504].flatMap((status, i) => [
      ...(i === 0 ? [{ kind, host, rate: 1, maxCount: 1, status }] : []),
      { kind, host, rate: rate / 4, status }
    ])
  }
  return [
    { kind, host, rate: 1, maxCount: 1, ...shape },
    { kind, host, rate, ...shape }
  ]
}

/** A throttle costs its Retry-After and a stall the request timeout, so they come less often. */
const rates: Record<FaultKind, number> = {
  throttle: 0.1,
  'server-error': 0.2,
  reset: 0.2,
  stall: 0.06
}

function faults(kind: FaultKind): FaultRule[] {
  return Object.values(faultHosts).flatMap(host => rulesFor(kind, host, rates[kind]))
}

const cases = faultKinds.flatMap((kind, k) =>
  regimeNames.map((regime, i) => ({ kind, regime, seed: 7100 + k * 10 + i }))
)
type Case = (typeof cases)[number]

const accountName = (kind: FaultKind, regime: RegimeName) =>
  `fm-${kind.replace('server-error', 'err')}-${regime}`

interface Outcome {
  result: ActionRun
  state: EndState
  log: RequestLogEntry[]
  counts: FaultCounts
  leaks: string[]
}

function runCase({ kind, regime, seed }: Case): Promise<Outcome> {
  const scenario = preparedScenario(s => {
    s.seed = seed
    s.timing = regimeTiming(regime)
    s.faults = faults(kind)
  })
  return withLab(scenario, async lab => {
    // Only stalls need a short per-attempt timeout; elsewhere it would turn the load of twelve
    // runs side by side into timeouts of its own.
    const result = await lab.run(lab.inputs(accountName(kind, regime), 'system-assigned'), {
      requestTimeoutMs: kind === 'stall' ? REQUEST_TIMEOUT_MS : 10 * REQUEST_TIMEOUT_MS
    })
    const log = lab.emulator.requests()
    return {
      result,
      state: lab.endState(),
      log,
      counts: lab.emulator.faultCounts(),
      leaks: lab.leaks(result)
    }
  })
}

let outcomes: Map<string, Promise<Outcome>>

beforeAll(() => {
  // Every case at once: they spend their time waiting out faults and propagation, not computing.
  outcomes = startEach(cases, c => `${c.kind}/${c.regime}`, runCase)
})

/** Throttled requests that never came again. */
function unretriedThrottles(log: RequestLogEntry[]): string[] {
  return log
    .filter(e => e.fault === 'throttle')
    .filter(
      e =>
        !log.some(
          n => n.seq > e.seq && n.method === e.method && n.host === e.host && n.path === e.path
        )
    )
    .map(e => `${e.method} ${e.host}${e.path}`)
}

describe('fault matrix: transient faults x propagation regimes', () => {
  test.each(cases)(
    '$kind under $regime propagation converges',
    async ({ kind, regime }) => {
      const outcome = await outcomes.get(`${kind}/${regime}`)!
      assertExit0(outcome.result, `${kind}/${regime}`)
      const account = accountName(kind, regime)
      expect(
        convergenceProblems(outcome.state, [{ name: account, mode: 'system-assigned' }])
      ).toEqual([])
      expect(outcome.leaks).toEqual([])
      expect(outcome.counts[kind]).toBeGreaterThanOrEqual(4)
      expect(faultedHosts(outcome.log)).toEqual(['arm', 'entra', 'graph', 'hsm'])
      expect(outcome.result.outputs['default-identity']).toBe('SystemAssignedIdentity')
      expect(outcome.result.outputs['account-id']).toMatch(
        new RegExp(`/databaseAccounts/${account}$`)
      )
    },
    150_000
  )

  test.each(regimeNames)(
    'under %s propagation, every throttled request is sent again',
    async regime => {
      const outcome = await outcomes.get(`throttle/${regime}`)!
      expect(outcome.counts.throttle).toBeGreaterThanOrEqual(4)
      expect(unretriedThrottles(outcome.log)).toEqual([])
    },
    150_000
  )
})
