/**
 * Every transient fault kind under every propagation regime: the bundled action, run from the
 * default scenario's activated HSM in system-assigned mode (the most steps), with seeded faults on
 * ARM, the HSM data plane, Entra ID and Graph, must exit 0 and leave the converged end state.
 */
import { beforeAll, describe, expect, test } from '@jest/globals'
import type { FaultCounts, FaultRule, RequestLogEntry, Timing } from '../../emulator/src/index.js'
import type { ActionRun } from '../../scripts/lib/run-action.js'
import {
  convergenceProblems,
  endState,
  expectExit0,
  inputsFor,
  preparedScenario,
  REQUEST_TIMEOUT_MS,
  run,
  secretLeaks,
  startLab,
  type EndState
} from './lab.js'

const hosts = {
  arm: 'management.azure.com',
  hsm: 'managedhsm.azure.net',
  entra: 'login.microsoftonline.com',
  graph: 'graph.microsoft.com'
}

type Kind = 'throttle' | 'server-error' | 'reset' | 'stall'

/** Rules of one kind on one host: the first matching request always, then a seeded share. */
function rulesFor(kind: Kind, host: string, rate: number): FaultRule[] {
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
const rates: Record<Kind, number> = { throttle: 0.1, 'server-error': 0.2, reset: 0.2, stall: 0.06 }

function faults(kind: Kind): FaultRule[] {
  return Object.values(hosts).flatMap(host => rulesFor(kind, host, rates[kind]))
}

const regimes: Record<string, Partial<Timing>> = {
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

const kinds: Kind[] = ['throttle', 'server-error', 'reset', 'stall']
const cases = kinds.flatMap(kind =>
  Object.keys(regimes).map((regime, i) => ({
    kind,
    regime,
    seed: 7100 + kinds.indexOf(kind) * 10 + i
  }))
)

function faultedHosts(log: RequestLogEntry[]): string[] {
  const found = new Set<string>()
  for (const e of log) {
    if (!e.fault) continue
    const name = Object.entries(hosts).find(([, h]) => e.host.endsWith(h))?.[0]
    if (name) found.add(name)
  }
  return [...found].sort()
}

interface Outcome {
  result?: ActionRun
  state?: EndState
  log: RequestLogEntry[]
  counts?: FaultCounts
  leaks: string[]
  error?: unknown
}

/** One case from start to finish; never rejects, so that all cases can run side by side. */
async function runCase({ kind, regime, seed }: (typeof cases)[number]): Promise<Outcome> {
  const emulator = await startLab(
    preparedScenario(s => {
      s.seed = seed
      s.timing = { retryAfterSeconds: 1, ...regimes[regime] }
      s.faults = faults(kind)
    })
  )
  try {
    const account = accountName(kind, regime)
    // Only stalls need a short per-attempt timeout; elsewhere it would turn the load of twelve
    // runs side by side into timeouts of its own.
    const result = await run(emulator, inputsFor(emulator, account, 'system-assigned'), {
      requestTimeoutMs: kind === 'stall' ? REQUEST_TIMEOUT_MS : 10 * REQUEST_TIMEOUT_MS
    })
    return {
      result,
      state: endState(emulator),
      log: emulator.requests(),
      counts: emulator.faultCounts(),
      leaks: secretLeaks(result, emulator.tokens.issued(), [
        emulator.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN
      ])
    }
  } catch (error) {
    return { log: [], leaks: [], error }
  } finally {
    await emulator.stop()
  }
}

const accountName = (kind: Kind, regime: string) =>
  `fm-${kind.replace('server-error', 'err')}-${regime}`

const outcomes = new Map<string, Promise<Outcome>>()

beforeAll(() => {
  // Every case at once: they spend their time waiting out faults and propagation, not computing.
  for (const c of cases) outcomes.set(`${c.kind}/${c.regime}`, runCase(c))
})

/** For each throttled request: how long until the same request came again (ms). */
function gapsAfterThrottle(log: RequestLogEntry[]): number[] {
  const at = (e: RequestLogEntry) => Date.parse(e.time) + e.durationMs
  return log
    .filter(e => e.fault === 'throttle')
    .map(e => {
      const again = log.find(
        n => n.seq > e.seq && n.method === e.method && n.host === e.host && n.path === e.path
      )
      return again ? Date.parse(again.time) - at(e) : Infinity
    })
}

describe('fault matrix: transient faults x propagation regimes', () => {
  test.each(cases)(
    '$kind under $regime propagation converges',
    async ({ kind, regime }) => {
      const outcome = await outcomes.get(`${kind}/${regime}`)!
      if (outcome.error) throw outcome.error
      const result = outcome.result!
      expectExit0(result, `${kind}/${regime}`)
      const account = accountName(kind, regime)
      const problems = convergenceProblems(outcome.state!, [
        { name: account, mode: 'system-assigned' }
      ])
      expect(problems).toEqual([])
      expect(outcome.leaks).toEqual([])
      expect(outcome.counts![kind]).toBeGreaterThanOrEqual(4)
      expect(faultedHosts(outcome.log)).toEqual(['arm', 'entra', 'graph', 'hsm'])
      if (kind === 'throttle') {
        // Retry-After: 1 is honoured (the log's times are whole milliseconds).
        expect(Math.min(...gapsAfterThrottle(outcome.log))).toBeGreaterThanOrEqual(990)
      }
      expect(result.outputs['default-identity']).toBe('SystemAssignedIdentity')
      expect(result.outputs['account-id']).toMatch(new RegExp(`/databaseAccounts/${account}$`))
    },
    150_000
  )
})
