/**
 * Crash safety: the action is SIGKILLed at each of its mutation points in turn, once while the
 * write goes through (the write lands, the client never learns it) and once with the write cut off
 * (it never lands); a re-run with the same inputs must exit 0 and reach the clean run's end state.
 * And writes answered only after the action gave up on them must not be made twice.
 */
import { beforeAll, describe, expect, test } from '@jest/globals'
import type { Emulator } from '../../emulator/src/index.js'
import type { ActionRun } from '../../scripts/lib/run-action.js'
import {
  convergenceProblems,
  crashAtWrite,
  endState,
  expectExit0,
  inBatches,
  inputsFor,
  preparedScenario,
  REQUEST_TIMEOUT_MS,
  run,
  secretLeaks,
  startLab,
  writes,
  type CrashVariant,
  type EndState
} from './lab.js'

const ACCOUNT = 'crash-sa'
const expected = [{ name: ACCOUNT, mode: 'system-assigned' as const }]

function crashInputs(emulator: Emulator): Record<string, string> {
  return inputsFor(emulator, ACCOUNT, 'system-assigned', { 'remove-bootstrap-assignment': 'true' })
}

interface CrashOutcome {
  killed: ActionRun
  /** The write the action was killed at. */
  at?: string
  rerun: ActionRun
  state: EndState
  leaks: string[]
}

/** Kills the action at its `n`th write, then runs it again to the end. */
async function crashAt(n: number, variant: CrashVariant): Promise<CrashOutcome> {
  const emulator = await startLab(preparedScenario())
  try {
    const crash = crashAtWrite(emulator, n, variant)
    const killed = await run(emulator, crashInputs(emulator), { onSpawn: crash.onSpawn })
    await crash.settled()
    crash.dispose()
    const rerun = await run(emulator, crashInputs(emulator))
    const secrets = [emulator.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN]
    const leaks = [killed, rerun].flatMap(r => secretLeaks(r, emulator.tokens.issued(), secrets))
    return { killed, at: crash.at, rerun, state: endState(emulator), leaks }
  } finally {
    await emulator.stop()
  }
}

/**
 * Writes that land after the client gave up on them: the first key creation, account creation
 * and account update are held past the action's per-request timeout before they are served.
 */
async function lateAnswers(): Promise<{ result: ActionRun; state: EndState; late: string[] }> {
  const emulator = await startLab(preparedScenario())
  const late: string[] = []
  try {
    emulator.intercept(async (request): Promise<'continue'> => {
      const what = /\/keys\/[^/]+\/create$/.test(request.path)
        ? 'key create'
        : /databaseAccounts\/[^/]+$/.test(request.path) && request.kind === 'write'
          ? `account ${request.method}`
          : undefined
      if (!what || late.includes(what)) return 'continue'
      late.push(what)
      await new Promise(resolve => setTimeout(resolve, REQUEST_TIMEOUT_MS * 2.5))
      return 'continue'
    })
    const result = await run(emulator, crashInputs(emulator), {
      requestTimeoutMs: REQUEST_TIMEOUT_MS
    })
    return { result, state: endState(emulator), late }
  } finally {
    await emulator.stop()
  }
}

let late: ReturnType<typeof lateAnswers>
let clean: { result: ActionRun; state: EndState; points: string[] }
const points: { n: number; variant: CrashVariant }[] = []
const outcomes = new Map<string, Promise<CrashOutcome>>()

beforeAll(async () => {
  late = lateAnswers()
  late.catch(() => {})
  const emulator = await startLab(preparedScenario())
  try {
    const result = await run(emulator, crashInputs(emulator))
    const mutations = writes(emulator.requests()).map(e => `${e.method} ${e.host}${e.path}`)
    clean = { result, state: endState(emulator), points: mutations }
  } finally {
    await emulator.stop()
  }
  for (let n = 1; n <= clean.points.length; n++) {
    points.push({ n, variant: 'lands' }, { n, variant: 'cut-off' })
  }
  // Side by side; each case has its own local Azure.
  const all = inBatches(points, 6, p => crashAt(p.n, p.variant))
  points.forEach((p, i) => {
    const one = all.then(results => results[i])
    one.catch(() => {})
    outcomes.set(`${p.n}/${p.variant}`, one)
  })
}, 60_000)

describe('crash safety', () => {
  test('the clean run converges and has the mutation points of every step', () => {
    expectExit0(clean.result, 'clean run')
    expect(convergenceProblems(clean.state, expected)).toEqual([])
    const steps = clean.points.join('\n')
    expect(steps).toMatch(
      /POST management\.azure\.com\/.*\/providers\/Microsoft\.DocumentDB\/register/
    )
    expect(steps).toMatch(/POST hsm-cmk-demo\.managedhsm\.azure\.net\/keys\/cosmos-cmk\/create/)
    expect(steps).toMatch(/PUT management\.azure\.com\/.*\/databaseAccounts\/crash-sa/)
    expect(steps).toMatch(/PATCH management\.azure\.com\/.*\/databaseAccounts\/crash-sa/)
    expect(steps).toMatch(/DELETE hsm-cmk-demo\.managedhsm\.azure\.net\/.*roleAssignments/)
    expect(clean.points.length).toBeGreaterThanOrEqual(7)
  })

  test('writes answered after the client gave up are not repeated', async () => {
    const { result, state, late: held } = await late
    expectExit0(result, 'late answers')
    expect(held).toEqual(['key create', 'account PUT', 'account PATCH'])
    expect(result.stdout).toContain(
      "Waiting for key 'cosmos-cmk' from a creation whose answer was lost"
    )
    expect(convergenceProblems(state, expected)).toEqual([])
    expect(state).toEqual(clean.state)
  }, 60_000)

  // The number of points is known only once the clean run is done, so one test walks them all.
  test('killed at every mutation point, a re-run converges to the clean end state', async () => {
    const failures: string[] = []
    for (const p of points) {
      const o = await outcomes.get(`${p.n}/${p.variant}`)!
      const label = `write ${p.n}/${clean.points.length} (${p.variant}) at ${o.at}`
      if (o.leaks.length) failures.push(`${label}: ${o.leaks.join('; ')}`)
      if (o.killed.signal !== 'SIGKILL') failures.push(`${label}: the action was not killed`)
      if (o.rerun.code !== 0) {
        failures.push(`${label}: re-run exited ${o.rerun.code}\n${o.rerun.stdout.slice(-3000)}`)
        continue
      }
      const problems = convergenceProblems(o.state, expected)
      if (problems.length) failures.push(`${label}: ${problems.join('; ')}`)
      try {
        expect(o.state).toEqual(clean.state)
      } catch {
        failures.push(
          `${label}: end state differs\n${JSON.stringify(o.state)}\nclean:\n${JSON.stringify(clean.state)}`
        )
      }
    }
    expect(failures).toEqual([])
    expect(points.length).toBe(clean.points.length * 2)
  }, 180_000)
})
