/**
 * `npm run soak -- --runs 40 --seed 1 [--parallel 4] [--skip-deadline]`: many seeded runs of the
 * bundled action (dist/index.js) against the local Azure, each with random transient faults
 * (kinds, rates, hosts), a random propagation regime and identity mode; some are SIGKILLed at a
 * random write and re-run, some run as parallel pairs (on one account or two). Every case must
 * converge. Prints what was injected and what it cost; exits 1 when anything did not converge,
 * left a duplicate, or printed a secret. Not part of CI: a few minutes for 40 runs.
 */
import type { ChildProcess } from 'node:child_process'
import { parseArgs } from 'node:util'
import type { FaultCounts, FaultRule, Scenario, Timing } from '../emulator/src/index.js'
import { deriveSeed, seededRandom, type RandomSource } from '../emulator/src/core/random.js'
import type { ActionRun } from './lib/run-action.js'
import {
  convergenceProblems,
  crashAtWrite,
  endState,
  inBatches,
  inputsFor,
  KEY_NAME,
  preparedScenario,
  REQUEST_TIMEOUT_MS,
  run,
  secretLeaks,
  startLab,
  type AccountExpectation,
  type CrashVariant,
  type EndState,
  type IdentityMode
} from '../__tests__/resilience/lab.js'

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '40' },
    seed: { type: 'string', default: '1' },
    parallel: { type: 'string', default: '4' },
    'skip-deadline': { type: 'boolean', default: false }
  }
})
const runs = Number(values.runs)
const seed = Number(values.seed)
const parallel = Number(values.parallel)
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(seed) || !(parallel >= 1)) {
  console.error('usage: npm run soak -- --runs N --seed S [--parallel P] [--skip-deadline]')
  process.exit(2)
}

const kinds = ['throttle', 'server-error', 'reset', 'stall'] as const
type Kind = (typeof kinds)[number]
const hosts = [
  'management.azure.com',
  'managedhsm.azure.net',
  'login.microsoftonline.com',
  'graph.microsoft.com'
]
const modes: IdentityMode[] = ['first-party', 'user-assigned', 'system-assigned']
const regimes: Record<string, Partial<Timing>> = {
  instant: {},
  fixed: {
    rbacPropagation: 600,
    principalReplication: 600,
    providerRegistration: 300,
    cosmosCreate: 300,
    cosmosUpdate: 300
  },
  ranged: {
    rbacPropagation: [100, 1500],
    principalReplication: [100, 1500],
    providerRegistration: [100, 800],
    cosmosCreate: [100, 800],
    cosmosUpdate: [100, 800]
  }
}
/** Rates are drawn between these bounds; a throttle costs a second and a stall a timeout. */
const rateRange: Record<Kind, [number, number]> = {
  throttle: [0.03, 0.15],
  'server-error': [0.05, 0.3],
  reset: [0.05, 0.3],
  stall: [0.02, 0.08]
}

type Shape = 'single' | 'crash' | 'pair-same' | 'pair-distinct'

interface Plan {
  index: number
  seed: number
  shape: Shape
  regime: string
  /** One per action process started at the same time. */
  jobs: AccountExpectation[]
  faults: FaultRule[]
  keyExists: boolean
  crash?: { write: number; variant: CrashVariant }
}

function pick<T>(random: RandomSource, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!
}

/** Plans are drawn one after another from one stream, so that a seed always gives the same soak. */
const planner = seededRandom(deriveSeed(seed, 'soak'))

function planRun(index: number, random: RandomSource = planner): Plan {
  const roll = random()
  const shape: Shape =
    roll < 0.45 ? 'single' : roll < 0.7 ? 'crash' : roll < 0.85 ? 'pair-same' : 'pair-distinct'
  const mode = pick(random, modes)
  const account = `soak-${index}`
  const jobs: AccountExpectation[] =
    shape === 'pair-same'
      ? [
          { name: account, mode },
          { name: account, mode }
        ]
      : shape === 'pair-distinct'
        ? [
            { name: `${account}-a`, mode },
            { name: `${account}-b`, mode: pick(random, modes) }
          ]
        : [{ name: account, mode }]
  const chosen = kinds.filter(() => random() < 0.5)
  const faultKinds = chosen.length ? chosen : [pick(random, kinds)]
  const faults: FaultRule[] = []
  for (const kind of faultKinds) {
    const [low, high] = rateRange[kind]
    const onHosts = hosts.filter(() => random() < 0.6)
    for (const host of onHosts.length ? onHosts : [pick(random, hosts)]) {
      const rate = low + random() * (high - low)
      faults.push({
        kind,
        host,
        rate,
        ...(kind === 'server-error' ? { status: pick(random, [500, 502, 503, 504]) } : {}),
        ...(kind === 'stall' ? { stallMs: REQUEST_TIMEOUT_MS * 3 } : {})
      })
    }
  }
  const keyExists = random() < 0.3
  // About as many writes as a clean run of the mode makes, so that most kills hit one.
  const writes =
    { 'first-party': 5, 'user-assigned': 5, 'system-assigned': 8 }[mode] - (keyExists ? 1 : 0)
  return {
    index,
    seed: deriveSeed(seed, `scenario-${index}`) % 1_000_000,
    shape,
    regime: pick(random, Object.keys(regimes)),
    jobs,
    faults,
    keyExists,
    crash:
      shape === 'crash'
        ? {
            write: 1 + Math.floor(random() * writes),
            variant: random() < 0.5 ? 'lands' : 'cut-off'
          }
        : undefined
  }
}

function scenarioFor(plan: Plan, withFaults: boolean): Scenario {
  return preparedScenario(s => {
    s.seed = plan.seed
    s.timing = { retryAfterSeconds: 1, ...regimes[plan.regime] }
    s.faults = withFaults ? plan.faults : []
    if (plan.keyExists) {
      s.subscriptions[0].resourceGroups![0].managedHsms![0].keys = [
        { name: KEY_NAME, size: 3072, ops: ['wrapKey', 'unwrapKey'] }
      ]
    }
  })
}

interface Outcome {
  plan: Plan
  /** The runs that had to succeed (the re-run after a kill, both runs of a pair). */
  finals: ActionRun[]
  killed?: ActionRun
  killedAt?: string
  state: EndState
  counts: FaultCounts
  requests: number
  /** Requests of the same case without faults (single runs only). */
  baseline?: number
  leaks: string[]
  problems: string[]
  durationMs: number
}

async function execute(plan: Plan): Promise<Outcome> {
  const started = Date.now()
  const baseline = plan.shape === 'single' ? await requestsWithoutFaults(plan) : undefined
  const emulator = await startLab(scenarioFor(plan, true))
  try {
    const runJob = (job: AccountExpectation, onSpawn?: (c: ChildProcess) => void) =>
      run(emulator, inputsFor(emulator, job.name, job.mode), {
        onSpawn,
        requestTimeoutMs: REQUEST_TIMEOUT_MS
      })
    let killed: ActionRun | undefined
    let killedAt: string | undefined
    if (plan.crash) {
      const crash = crashAtWrite(emulator, plan.crash.write, plan.crash.variant)
      killed = await runJob(plan.jobs[0], crash.onSpawn)
      await crash.settled()
      crash.dispose()
      killedAt = crash.at
    }
    const finals = await Promise.all(plan.jobs.map(job => runJob(job)))
    const state = endState(emulator)
    const issued = emulator.tokens.issued()
    const leaks = [...finals, ...(killed ? [killed] : [])].flatMap(r =>
      secretLeaks(r, issued, [emulator.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN])
    )
    const distinct = [...new Map(plan.jobs.map(j => [j.name, j])).values()]
    const problems = [
      ...finals.flatMap((r, i) =>
        r.code === 0 ? [] : [`job ${i} exited ${r.code}: ${lastError(r)}`]
      ),
      ...convergenceProblems(state, distinct)
    ]
    return {
      plan,
      finals,
      killed,
      killedAt,
      state,
      counts: emulator.faultCounts(),
      requests: emulator.requests().length,
      baseline,
      leaks,
      problems,
      durationMs: Date.now() - started
    }
  } finally {
    await emulator.stop()
  }
}

async function requestsWithoutFaults(plan: Plan): Promise<number> {
  const emulator = await startLab(scenarioFor(plan, false))
  try {
    const job = plan.jobs[0]
    await run(emulator, inputsFor(emulator, job.name, job.mode), {
      requestTimeoutMs: REQUEST_TIMEOUT_MS
    })
    return emulator.requests().length
  } finally {
    await emulator.stop()
  }
}

function lastError(r: ActionRun): string {
  const line = r.stdout.split('\n').findLast(l => l.startsWith('::error::')) ?? ''
  return line.slice('::error::'.length, 300).replace(/%0A/g, ' ') || r.stderr.slice(-300)
}

/** Past the deadline the run fails cleanly, and a re-run finishes the job. */
async function deadlineCase(): Promise<string[]> {
  const scenario = preparedScenario(s => {
    s.timing = { retryAfterSeconds: 1, rbacPropagation: 120_000 }
  })
  const emulator = await startLab(scenario)
  try {
    const inputs = { ...inputsFor(emulator, 'soak-deadline'), 'timeout-minutes': '1' }
    const first = await run(emulator, inputs)
    const problems: string[] = []
    if (first.code === 0) problems.push('the run did not stop at timeout-minutes')
    if (!/timeout-minutes \(1\) was reached during step/.test(first.stdout)) {
      problems.push(`no deadline message: ${lastError(first)}`)
    }
    if (first.durationMs > 75_000) problems.push(`it took ${first.durationMs} ms to stop`)
    // Time passes before the re-run: the grant made so far takes effect, new ones at once.
    emulator.setTiming({ rbacPropagation: 0 })
    emulator.advanceClock(120_000)
    const again = await run(emulator, inputs)
    if (again.code !== 0) problems.push(`the re-run failed: ${lastError(again)}`)
    problems.push(
      ...convergenceProblems(endState(emulator), [
        { name: 'soak-deadline', mode: 'system-assigned' }
      ])
    )
    problems.push(...[first, again].flatMap(r => secretLeaks(r, emulator.tokens.issued())))
    console.log(
      `deadline: first run stopped after ${(first.durationMs / 1000).toFixed(1)} s (exit ${first.code}); ` +
        `re-run exit ${again.code}${problems.length ? `; PROBLEMS: ${problems.join('; ')}` : ''}`
    )
    return problems
  } finally {
    await emulator.stop()
  }
}

function describe(o: Outcome): string {
  const p = o.plan
  const faults = kinds
    .filter(k => o.counts[k] > 0)
    .map(k => `${k} ${o.counts[k]}`)
    .join(', ')
  const extra = o.baseline !== undefined ? ` (+${o.requests - o.baseline})` : ''
  const crash = p.crash
    ? ` killed at write ${p.crash.write} (${p.crash.variant})${o.killedAt ? '' : ' - not reached'}`
    : ''
  const modesText = [...new Set(p.jobs.map(j => j.mode))].join('+')
  return (
    `#${String(p.index).padStart(3, '0')} ${p.shape.padEnd(13)} ${modesText.padEnd(31)} ${p.regime.padEnd(7)}` +
    ` key ${p.keyExists ? 'present' : 'absent '} faults [${faults || 'none'}]${crash}` +
    ` -> ${o.problems.length || o.leaks.length ? 'NOT CONVERGED' : 'converged'}, ${o.requests} requests${extra},` +
    ` ${(o.durationMs / 1000).toFixed(1)} s`
  )
}

const started = Date.now()
const plans = Array.from({ length: runs }, (_, i) => planRun(i + 1))
console.log(`soak: ${runs} runs, seed ${seed}, ${parallel} at a time\n`)
const deadline = values['skip-deadline'] ? Promise.resolve(undefined) : deadlineCase()
const outcomes = await inBatches(plans, parallel, async plan => {
  const outcome = await execute(plan)
  console.log(describe(outcome))
  for (const problem of [...outcome.problems, ...outcome.leaks]) console.log(`       ${problem}`)
  return outcome
})
const deadlineProblems = await deadline

// A parallel pair whose runs both found the key absent may both create it: Managed HSM has no
// conditional key creation, so those extra versions are counted apart from real duplicates.
const racedForKey = (o: Outcome) => o.plan.jobs.length > 1 && !o.plan.keyExists
const keyRaceOnly = (o: Outcome) =>
  racedForKey(o) &&
  o.problems.length > 0 &&
  o.problems.every(p => /^key has \d+ versions$/.test(p)) &&
  !o.leaks.length

const totals: FaultCounts = { throttle: 0, 'server-error': 0, reset: 0, stall: 0 }
for (const o of outcomes) for (const k of kinds) totals[k] += o.counts[k]
const faultTotal = kinds.reduce((n, k) => n + totals[k], 0)
const converged = outcomes.filter(o => !o.problems.length && !o.leaks.length)
const duplicateAssignments = outcomes.reduce(
  (n, o) => n + o.state.assignments.length - new Set(o.state.assignments).size,
  0
)
const extraVersions = (o: Outcome) => Math.max(0, o.state.keyVersions.length - 1)
const keyDuplicates = outcomes
  .filter(o => !racedForKey(o))
  .reduce((n, o) => n + extraVersions(o), 0)
const keyRaceVersions = outcomes.filter(racedForKey).reduce((n, o) => n + extraVersions(o), 0)
const accountDuplicates = outcomes.reduce((n, o) => {
  const names = o.state.accounts.map(a => a.name)
  return n + names.length - new Set(names).size
}, 0)
const singles = outcomes.filter(o => o.baseline !== undefined)
const beyond = singles.map(o => o.requests - o.baseline!)
const singleFaults = singles.reduce((n, o) => n + kinds.reduce((m, k) => m + o.counts[k], 0), 0)
const leaks = outcomes.reduce((n, o) => n + o.leaks.length, 0)
const shapes = (['single', 'crash', 'pair-same', 'pair-distinct'] as Shape[])
  .map(s => `${s} ${outcomes.filter(o => o.plan.shape === s).length}`)
  .join(', ')
const processes = outcomes.reduce((n, o) => n + o.finals.length + (o.killed ? 1 : 0), 0)
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0)

console.log(`
runs                         ${runs} (${shapes}); ${processes} action processes${deadlineProblems ? ' + the deadline case' : ''}
faults injected              ${kinds.map(k => `${k} ${totals[k]}`).join(', ')} (total ${faultTotal})
converged                    ${converged.length}/${runs}${
  outcomes.some(keyRaceOnly)
    ? `; the other ${outcomes.filter(keyRaceOnly).length} differ only by extra key versions (see below)`
    : ''
}
duplicates found             role assignments ${duplicateAssignments}, accounts ${accountDuplicates}, key versions ${keyDuplicates}; key versions from parallel first runs racing to create the key: ${keyRaceVersions} (in ${outcomes.filter(o => racedForKey(o) && extraVersions(o) > 0).length} of ${outcomes.filter(racedForKey).length} pairs that found no key)
requests beyond fault-free   ${sum(beyond)} over ${singleFaults} injected faults in ${singles.length} single runs (${
  singleFaults ? (sum(beyond) / singleFaults).toFixed(2) : '0'
} per fault; max ${beyond.length ? Math.max(...beyond) : 0} in one run)
secret leaks                 ${leaks}
deadline case                ${deadlineProblems === undefined ? 'skipped' : deadlineProblems.length ? `FAILED: ${deadlineProblems.join('; ')}` : 'stopped cleanly at timeout-minutes; the re-run converged'}
wall time                    ${((Date.now() - started) / 1000).toFixed(0)} s`)

const failed =
  outcomes.some(o => (o.problems.length || o.leaks.length) && !keyRaceOnly(o)) ||
  duplicateAssignments > 0 ||
  keyDuplicates > 0 ||
  !!deadlineProblems?.length
process.exit(failed ? 1 : 0)
