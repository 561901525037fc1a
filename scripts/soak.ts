/**
 * `npm run soak -- --runs 40 --seed 1 [--parallel 4] [--skip-deadline]`: many seeded runs of the
 * bundled action (dist/index.js) against the local Azure, each with random transient faults
 * (kinds, rates, hosts), a random propagation regime and identity mode; some are SIGKILLed at a
 * random write and re-run, some run as parallel pairs (on one account or two), and some as a key
 * race (several runs started together on an HSM without the key, their key creations released at
 * the same moment). Every case must converge. Prints what was injected and what it cost; exits 1
 * when anything did not converge, left a duplicate (an extra key version included), or printed a
 * secret. Not part of CI: a few minutes for 40 runs.
 */
import type { ChildProcess } from 'node:child_process'
import { parseArgs } from 'node:util'
import {
  convergenceProblems,
  crashAtWrite,
  deriveSeed,
  duplicateAccounts,
  duplicateAssignments,
  errorMessage,
  extraKeyVersions,
  faultHosts,
  faultKinds,
  identityModes,
  inBatches,
  isKeyCreation,
  preparedScenario,
  raceRequests,
  regimeNames,
  regimeTiming,
  REQUEST_TIMEOUT_MS,
  seededRandom,
  withLab,
  withKey,
  type AccountExpectation,
  type ActionRun,
  type CrashVariant,
  type EndState,
  type FaultCounts,
  type FaultKind,
  type FaultRule,
  type Lab,
  type RandomSource,
  type RegimeName,
  type Scenario
} from '../testkit/index.js'

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

const hosts = Object.values(faultHosts)
/** Rates are drawn between these bounds; a throttle costs a second and a stall a timeout. */
const rateRange: Record<FaultKind, [number, number]> = {
  throttle: [0.03, 0.15],
  'server-error': [0.05, 0.3],
  reset: [0.05, 0.3],
  stall: [0.02, 0.08]
}
/** How many runs start together in a key race. */
const KEY_RACE_RUNS = 3

const shapes = ['single', 'crash', 'pair-same', 'pair-distinct', 'key-race'] as const
type Shape = (typeof shapes)[number]

interface Plan {
  index: number
  seed: number
  shape: Shape
  regime: RegimeName
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
    roll < 0.4
      ? 'single'
      : roll < 0.62
        ? 'crash'
        : roll < 0.75
          ? 'pair-same'
          : roll < 0.87
            ? 'pair-distinct'
            : 'key-race'
  const mode = pick(random, identityModes)
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
            { name: `${account}-b`, mode: pick(random, identityModes) }
          ]
        : shape === 'key-race'
          ? Array.from({ length: KEY_RACE_RUNS }, (_, i) => ({
              name: `${account}-${'abcdefgh'[i]}`,
              mode: i === 0 ? mode : pick(random, identityModes)
            }))
          : [{ name: account, mode }]
  const chosen = faultKinds.filter(() => random() < 0.5)
  const kinds = chosen.length ? chosen : [pick(random, faultKinds)]
  const faults: FaultRule[] = []
  for (const kind of kinds) {
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
  const keyExists = shape !== 'key-race' && random() < 0.3
  // About as many writes as a clean run of the mode makes, so that most kills hit one.
  const writes =
    { 'first-party': 5, 'user-assigned': 5, 'system-assigned': 8 }[mode] - (keyExists ? 1 : 0)
  return {
    index,
    seed: deriveSeed(seed, `scenario-${index}`) % 1_000_000,
    shape,
    regime: pick(random, regimeNames),
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
    s.timing = regimeTiming(plan.regime)
    s.faults = withFaults ? plan.faults : []
    if (plan.keyExists) withKey(s)
  })
}

interface Outcome {
  plan: Plan
  /** The runs that had to succeed (the re-run after a kill, every run of a pair or race). */
  finals: ActionRun[]
  killed?: ActionRun
  killedAt?: string
  /** For a key race: whether every run's key creation was held and let go together. */
  raced?: boolean
  state: EndState
  counts: FaultCounts
  requests: number
  /** Requests of the same case without faults (single runs only). */
  baseline?: number
  leaks: string[]
  problems: string[]
  durationMs: number
}

/**
 * Runs that start together on an HSM without the key let it take key management through ARM,
 * whose create-if-absent cannot race; the data-plane fallback (observe, then create) can.
 */
const runJob = (
  lab: Lab,
  plan: Plan,
  job: AccountExpectation,
  onSpawn?: (c: ChildProcess) => void
) =>
  lab.run(
    lab.inputs(
      job.name,
      job.mode,
      plan.jobs.length > 1 && !plan.keyExists ? { 'allow-arm-key-management': 'true' } : {}
    ),
    { onSpawn, requestTimeoutMs: REQUEST_TIMEOUT_MS }
  )

async function execute(plan: Plan): Promise<Outcome> {
  const started = Date.now()
  const baseline = plan.shape === 'single' ? await requestsWithoutFaults(plan) : undefined
  return withLab(scenarioFor(plan, true), async lab => {
    let killed: ActionRun | undefined
    let killedAt: string | undefined
    if (plan.crash) {
      const crash = crashAtWrite(lab.emulator, plan.crash.write, plan.crash.variant)
      killed = await runJob(lab, plan, plan.jobs[0], crash.onSpawn)
      await crash.settled()
      crash.dispose()
      killedAt = crash.at
    }
    const race =
      plan.shape === 'key-race'
        ? raceRequests(lab.emulator, r => (isKeyCreation(r) ? 'key' : undefined), plan.jobs.length)
        : undefined
    const finals = await Promise.all(plan.jobs.map(job => runJob(lab, plan, job)))
    race?.dispose()
    const state = lab.endState()
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
      raced: race?.raced.has('key'),
      state,
      counts: lab.emulator.faultCounts(),
      requests: lab.emulator.requests().length,
      baseline,
      leaks: lab.leaks(...finals, ...(killed ? [killed] : [])),
      problems,
      durationMs: Date.now() - started
    }
  })
}

function requestsWithoutFaults(plan: Plan): Promise<number> {
  return withLab(scenarioFor(plan, false), async lab => {
    await runJob(lab, plan, plan.jobs[0])
    return lab.emulator.requests().length
  })
}

function lastError(r: ActionRun): string {
  return errorMessage(r).replace(/\s+/g, ' ').trim().slice(0, 300) || r.stderr.slice(-300)
}

/** Past the deadline the run fails cleanly, and a re-run finishes the job. */
function deadlineCase(): Promise<string[]> {
  const scenario = preparedScenario(s => {
    s.timing = { retryAfterSeconds: 1, rbacPropagation: 120_000 }
  })
  return withLab(scenario, async lab => {
    const inputs = lab.inputs('soak-deadline', 'system-assigned', { 'timeout-minutes': '1' })
    const first = await lab.run(inputs)
    const problems: string[] = []
    if (first.code === 0) problems.push('the run did not stop at timeout-minutes')
    if (!/timeout-minutes \(1\) was reached during step/.test(first.stdout)) {
      problems.push(`no deadline message: ${lastError(first)}`)
    }
    if (first.durationMs > 75_000) problems.push(`it took ${first.durationMs} ms to stop`)
    // Time passes before the re-run: the grant made so far takes effect, new ones at once.
    lab.emulator.setTiming({ rbacPropagation: 0 })
    lab.emulator.advanceClock(120_000)
    const again = await lab.run(inputs)
    if (again.code !== 0) problems.push(`the re-run failed: ${lastError(again)}`)
    problems.push(
      ...convergenceProblems(lab.endState(), [{ name: 'soak-deadline', mode: 'system-assigned' }])
    )
    problems.push(...lab.leaks(first, again))
    console.log(
      `deadline: first run stopped after ${(first.durationMs / 1000).toFixed(1)} s (exit ${first.code}); ` +
        `re-run exit ${again.code}${problems.length ? `; PROBLEMS: ${problems.join('; ')}` : ''}`
    )
    return problems
  })
}

function describe(o: Outcome): string {
  const p = o.plan
  const faults = faultKinds
    .filter(k => o.counts[k] > 0)
    .map(k => `${k} ${o.counts[k]}`)
    .join(', ')
  const extra = o.baseline !== undefined ? ` (+${o.requests - o.baseline})` : ''
  const crash = p.crash
    ? ` killed at write ${p.crash.write} (${p.crash.variant})${o.killedAt ? '' : ' - not reached'}`
    : ''
  const race = p.shape === 'key-race' ? (o.raced ? ' raced' : ' - not all raced') : ''
  const modesText = [...new Set(p.jobs.map(j => j.mode))].join('+')
  return (
    `#${String(p.index).padStart(3, '0')} ${p.shape.padEnd(13)} ${modesText.padEnd(47)} ${p.regime.padEnd(7)}` +
    ` key ${p.keyExists ? 'present' : 'absent '} faults [${faults || 'none'}]${crash}${race}` +
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

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0)
const totals = Object.fromEntries(
  faultKinds.map(k => [k, sum(outcomes.map(o => o.counts[k]))])
) as FaultCounts
const faultTotal = sum(faultKinds.map(k => totals[k]))
const converged = outcomes.filter(o => !o.problems.length && !o.leaks.length)
const assignmentDuplicates = sum(outcomes.map(o => duplicateAssignments(o.state)))
const accountDuplicates = sum(outcomes.map(o => duplicateAccounts(o.state)))
const keyVersions = sum(outcomes.map(o => extraKeyVersions(o.state)))
const keyRaces = outcomes.filter(o => o.plan.shape === 'key-race')
const keyRaceVersions = sum(keyRaces.map(o => extraKeyVersions(o.state)))
const singles = outcomes.filter(o => o.baseline !== undefined)
const beyond = singles.map(o => o.requests - o.baseline!)
const singleFaults = sum(singles.map(o => sum(faultKinds.map(k => o.counts[k]))))
const leaks = sum(outcomes.map(o => o.leaks.length))
const shapeCounts = shapes
  .map(s => `${s} ${outcomes.filter(o => o.plan.shape === s).length}`)
  .join(', ')
const processes = sum(outcomes.map(o => o.finals.length + (o.killed ? 1 : 0)))

console.log(`
runs                         ${runs} (${shapeCounts}); ${processes} action processes${deadlineProblems ? ' + the deadline case' : ''}
faults injected              ${faultKinds.map(k => `${k} ${totals[k]}`).join(', ')} (total ${faultTotal})
converged                    ${converged.length}/${runs}
duplicates found             role assignments ${assignmentDuplicates}, accounts ${accountDuplicates}, extra key versions ${keyVersions}
key races                    ${keyRaces.length} (${keyRaces.filter(o => o.raced).length} with every creation released together): extra key versions ${keyRaceVersions}, duplicate role assignments ${sum(keyRaces.map(o => duplicateAssignments(o.state)))}
requests beyond fault-free   ${sum(beyond)} over ${singleFaults} injected faults in ${singles.length} single runs (${
  singleFaults ? (sum(beyond) / singleFaults).toFixed(2) : '0'
} per fault; max ${beyond.length ? Math.max(...beyond) : 0} in one run)
secret leaks                 ${leaks}
deadline case                ${deadlineProblems === undefined ? 'skipped' : deadlineProblems.length ? `FAILED: ${deadlineProblems.join('; ')}` : 'stopped cleanly at timeout-minutes; the re-run converged'}
wall time                    ${((Date.now() - started) / 1000).toFixed(0)} s`)

const failed =
  converged.length < runs ||
  assignmentDuplicates > 0 ||
  accountDuplicates > 0 ||
  keyVersions > 0 ||
  !!deadlineProblems?.length
process.exit(failed ? 1 : 0)
