/**
 * `npm run bench`: the bundled action against the local Azure under one latency model, compared
 * with the critical path Azure imposes and with the procedure's own CLI commands.
 *
 *   npm run bench -- [--runs N] [--large-runs N] [--cli-runs N] [--skip-cli] [--only <scenario id>]
 *                    [--log] [--help]
 *
 * --log prints the request log of each scenario's median run.
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { format, resolveConfig } from 'prettier'
import { cpus, tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { bundleProblems } from '../testkit/dist-check.js'
import {
  ACTION_ENTRY,
  KEY_NAME,
  KeyPool,
  startLab,
  useKeyPool,
  writeSecurityDomainCertificates,
  type Emulator
} from '../testkit/index.js'
import {
  analyseRun,
  explain,
  fleetGroupRows,
  fleetTimeline,
  jobTimings,
  type FleetTimeline,
  type JobTiming,
  type RunAnalysis
} from './analysis.js'
import {
  CLI_RETRY_SECONDS,
  corrections,
  ensureAzureCli,
  measureCli,
  probeDataPlane,
  type CliMeasurement
} from './cli.js'
import {
  armWrites,
  budgetForcedMs,
  criticalPath,
  dagFor,
  type CriticalPath
} from './critical-path.js'
import { ACTION_RUNS, LARGE_FLEET_RUNS, LATENCY_MODEL, modelSetting } from './latency-model.js'
import {
  measureAction,
  measureMatrix,
  median,
  type ActionMeasurement,
  type MatrixMeasurement,
  type OtherWork,
  type RequestCounts
} from './measure.js'
import {
  chartFile,
  markdownTable,
  mb,
  mib,
  requestCells,
  seconds,
  targetLines,
  totalRequests,
  type Target
} from './report.js'
import {
  accountNames,
  benchScenarioIds,
  benchScenarios,
  withModel,
  type BenchScenario,
  type BenchScenarioId
} from './scenarios.js'

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: String(ACTION_RUNS) },
    'large-runs': { type: 'string', default: String(LARGE_FLEET_RUNS) },
    'cli-runs': { type: 'string', default: '1' },
    'skip-cli': { type: 'boolean', default: false },
    log: { type: 'boolean', default: false },
    only: { type: 'string', multiple: true },
    help: { type: 'boolean', short: 'h', default: false }
  }
})
if (args.help) {
  console.log(`npm run bench -- [options]   (bench/README.md)

  --runs N            measured runs of the action per scenario (default ${ACTION_RUNS})
  --large-runs N      measured runs of each 50-account scenario (default ${LARGE_FLEET_RUNS})
  --cli-runs N        runs of the CLI procedure per path (default 1)
  --skip-cli          the action only
  --only ID           only this scenario (repeatable): ${benchScenarioIds.join(', ')}
  --log               print the request log of each scenario's median run
  --help              this text`)
  process.exit(0)
}
const runs = Math.max(1, Number(args.runs))
const largeRuns = Math.max(1, Number(args['large-runs']))
const runsOf = (s: BenchScenario) => (s.large ? largeRuns : runs)
const cliRuns = Math.max(1, Number(args['cli-runs']))

const heading = (title: string) =>
  console.log(`\n== ${title} ${'='.repeat(Math.max(3, 90 - title.length))}`)

/**
 * Builds dist/ when it was not built from the src/ in this tree (the test kit's check: the bundle
 * as committed with src/ as committed, or no src/ file newer than a bundle built here). File
 * times alone would rebuild a freshly checked out tree, whose files all get the checkout's time.
 */
function ensureBuilt(): void {
  const problems = bundleProblems(ACTION_ENTRY)
  if (!problems.length) return
  console.log(`dist/ needs a build (${problems[0]}): npm run build`)
  const r = spawnSync('npm', ['run', 'build'], { stdio: 'inherit' })
  if (r.status !== 0) throw new Error('npm run build failed')
}

function distSize(): { bytes: number; files: number; indexBytes: number } {
  let bytes = 0
  let files = 0
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) walk(path)
      else {
        bytes += statSync(path).size
        files++
      }
    }
  }
  walk('dist')
  return { bytes, files, indexBytes: statSync('dist/index.js').size }
}

/** One measured run: of the action, or of a matrix (the prepare job and the account jobs). */
type Measured = ActionMeasurement | MatrixMeasurement

const isMatrix = (m: Measured): m is MatrixMeasurement => 'jobs' in m

const otherWorkText = (w: OtherWork): string =>
  `${w.cores.toFixed(2)} of ${cpus().length} cores (and ${w.nicedCores.toFixed(2)} niced)`

interface ScenarioResult {
  scenario: BenchScenario
  critical: CriticalPath
  /** ARM writes in the scenario's DAG, and the time the write budget adds to its critical path. */
  armWrites: number
  budgetForcedMs: number
  runs: Measured[]
  /** The median wall time of the runs that succeeded (of two, their mean). */
  medianWallMs?: number
  /** The run whose wall time is nearest the median (of two, the first): its requests and chart. */
  medianRun?: Measured
  /** Of the median run; for a matrix, of its prepare job. */
  analysis?: RunAnalysis
  /** A fleet's account creations in the median run. */
  fleet?: FleetTimeline
  /** A matrix's account jobs in the median run. */
  jobs?: JobTiming[]
  /** The file the median run's chart was written to. */
  chart?: string
}

const isFleet = (s: BenchScenario) => s.dag === 'fleet' || s.dag === 'matrix'

async function runScenario(emulator: Emulator, s: BenchScenario): Promise<ScenarioResult> {
  const dag = dagFor(s.dag, s.accounts)
  const critical = criticalPath(dag, LATENCY_MODEL)
  // a matrix's account jobs are told apart by their account alone: its prepare job is analysed
  const analysed = s.dag === 'matrix' ? dagFor('prepare') : dag
  const analysedCritical = s.dag === 'matrix' ? criticalPath(analysed, LATENCY_MODEL) : critical
  const results: Measured[] = []
  const analyses = new Map<Measured, RunAnalysis>()
  const fleets = new Map<Measured, FleetTimeline>()
  const jobs = new Map<Measured, JobTiming[]>()
  if (s.prepare) {
    // the state a first run leaves, built quickly; the measured re-runs use the latency model
    emulator.loadScenario({ ...s.world, timing: { requestLatency: 0 } })
    const first = await measureAction(emulator, s.inputs)
    if (!first.ok) throw new Error(`${s.id}: the preparing run failed:\n${first.tail}`)
    emulator.setTiming(LATENCY_MODEL)
  }
  const count = runsOf(s)
  for (let i = 0; i < count; i++) {
    if (!s.prepare) emulator.loadScenario(s.world)
    // the action never overwrites a security domain file, and each run downloads a new one
    if (s.inputs['security-domain-file']) rmSync(s.inputs['security-domain-file'], { force: true })
    const m: Measured = s.jobInputs
      ? await measureMatrix(emulator, s.inputs, s.jobInputs, s.accounts, s.soloAccount)
      : await measureAction(emulator, s.inputs, s.large ? 300_000 : 180_000)
    results.push(m)
    const own = isMatrix(m) ? m.prepare : m
    const analysis = analyseRun(
      emulator,
      analysed,
      analysedCritical,
      LATENCY_MODEL,
      own.log,
      s.names,
      own.spawnedAt + own.wallMs
    )
    analyses.set(m, analysis)
    if (s.dag === 'fleet') fleets.set(m, fleetTimeline(analysis, s.accounts))
    if (isMatrix(m)) jobs.set(m, jobTimings(emulator, LATENCY_MODEL, m.log, m.jobs))
    const memory = isMatrix(m)
      ? `peak ${mib(m.peakRssKb)} (largest job), ${mib(m.peakRssSumKb)} (the ${m.jobs.length} jobs added up)`
      : `peak ${mib(m.peakRssKb)}`
    const parts = isMatrix(m)
      ? ` (prepare ${seconds(m.prepare.wallMs)}, then ${m.jobs.length} jobs ${seconds(m.fanOutMs)})`
      : ''
    const others = m.otherWork
      ? `, other work on the machine ${otherWorkText(m.otherWork)}${isMatrix(m) ? ' during the jobs' : ''}`
      : ''
    process.stdout.write(
      `  ${s.id} run ${i + 1}/${count}: ${m.ok ? `${seconds(m.wallMs)}${parts}` : `FAILED`}, ` +
        `cold start ${m.coldStartMs ?? '-'} ms, ${memory}${others}\n`
    )
    if (!m.ok) console.log(m.tail.replace(/^/gm, '    | '))
  }
  const ok = results.filter(r => r.ok)
  const medianWall = ok.length ? median(ok.map(r => r.wallMs)) : undefined
  const medianRun = ok
    .slice()
    .sort((a, b) => Math.abs(a.wallMs - medianWall!) - Math.abs(b.wallMs - medianWall!))[0]
  return {
    scenario: s,
    critical,
    armWrites: armWrites(dag).length,
    budgetForcedMs: budgetForcedMs(dag, LATENCY_MODEL),
    runs: results,
    ...(medianRun
      ? {
          medianWallMs: medianWall!,
          medianRun,
          analysis: analyses.get(medianRun)!,
          ...(fleets.has(medianRun) ? { fleet: fleets.get(medianRun)! } : {}),
          ...(jobs.has(medianRun) ? { jobs: jobs.get(medianRun)! } : {})
        }
      : {})
  }
}

/** Writes a results file as the repository's prettier settings format it. */
async function writeFormatted(file: string, text: string): Promise<void> {
  const options = (await resolveConfig(file)) ?? {}
  writeFileSync(file, await format(text, { ...options, filepath: file }))
}

/** The median run's timeline chart(s), next to the results: bench/results/<id>.chart.md. */
async function writeChart(r: ScenarioResult, generatedAt: string): Promise<string | undefined> {
  const m = r.medianRun
  if (!m) return undefined
  const about =
    `The "where the time went" chart that ends the job summary of the median run ` +
    `(${seconds(m.wallMs)}; the median of ${r.runs.filter(x => x.ok).length} is ${seconds(r.medianWallMs)}) ` +
    `of \`npm run bench\`, ` +
    `${generatedAt}. Times are ms from when the action began its work (after its own start-up), as the ` +
    `summary draws them; the process's wall time above includes the start-up and the exit.`
  const charts = isMatrix(m)
    ? (() => {
        const last = m.jobs.reduce((a, b) =>
          b.spawnedAt + b.wallMs > a.spawnedAt + a.wallMs ? b : a
        )
        return [
          { title: `The prepare job (${seconds(m.prepare.wallMs)})`, summary: m.prepare.summary },
          {
            title: `The account job that ended last: ${last.account} (${seconds(last.wallMs)})`,
            summary: last.summary
          }
        ]
      })()
    : [{ title: r.scenario.title, summary: m.summary }]
  mkdirSync('bench/results', { recursive: true })
  const file = `bench/results/${r.scenario.id}.chart.md`
  await writeFormatted(file, chartFile(r.scenario.title, about, charts))
  return file
}

function printLatencyModel(): void {
  heading('Latency model (bench/latency-model.ts)')
  console.log(
    Object.entries(LATENCY_MODEL)
      .map(([k, v]) => modelSetting(k as keyof typeof LATENCY_MODEL, v))
      .join(', ')
  )
}

function printCriticalPath(r: ScenarioResult): void {
  console.log(`\n${r.scenario.title}: critical path ${seconds(r.critical.totalMs)}`)
  for (const s of r.critical.path) {
    const why = s.decidedBy
      ? ` ← ${s.decidedBy.wait === 'response' ? 'after the answer of' : `${s.decidedBy.wait} after`} ${s.decidedBy.from}: ${s.decidedBy.why}`
      : ''
    const budget = s.budgetWaitMs ? ` (+${s.budgetWaitMs} ms: the ARM write budget)` : ''
    console.log(`  ${String(s.start).padStart(6)} ms  ${s.id}${why}${budget}`)
  }
  if (isFleet(r.scenario)) {
    console.log(
      `  ${r.armWrites} ARM writes (${r.scenario.accounts.length} account creations, 1 provider registration); ` +
        `the write budget (${LATENCY_MODEL.armWriteBucket} in the bucket, ${LATENCY_MODEL.armWriteRefillPerSecond}/s back) ` +
        `forces ${seconds(r.budgetForcedMs)}`
    )
  }
}

/** What the write budget forces on fleets of other sizes, computed the same way. */
function printBudgetScale(): void {
  const { armWriteBucket: size, armWriteRefillPerSecond: rate } = LATENCY_MODEL
  const sizes = [10, 50, size - 1, size, 2 * size, 5 * size]
  console.log(
    `\nARM write budget: a bucket of ${size} writes per subscription and principal, ${rate} back a second. ` +
      `A fleet's account creations all want to start once the key exists and the grant has propagated; ` +
      `the provider registration's token is back by then. Writes beyond the bucket wait 1/${rate} s each:`
  )
  console.log(
    `  ${sizes
      .map(n => {
        const forced = budgetForcedMs(dagFor('fleet', accountNames('a', n)), LATENCY_MODEL)
        return `${n} accounts ${seconds(forced)}`
      })
      .join(', ')}`
  )
}

function printAnalysis(r: ScenarioResult): void {
  if (!r.analysis || !r.medianRun) return
  const a = r.analysis
  const m = r.medianRun
  const what = isMatrix(m) ? ', its prepare job' : isFleet(r.scenario) ? ', shared steps' : ''
  console.log(`\n${r.scenario.title} (median run${what}, times from its first request):`)
  console.log(
    markdownTable(
      ['step', 'critical', 'earliest', 'allowed at', 'done at', 'slack', 'refused'],
      a.steps
        .filter(s => !s.id.includes(':'))
        .map(s => [
          s.id,
          s.onCriticalPath ? 'yes' : '',
          `${s.earliest}`,
          s.allowedAt === undefined ? '-' : `${s.allowedAt}`,
          s.actual === undefined ? '-' : `${s.actual}`,
          s.slack === undefined ? '-' : `${s.slack}`,
          s.refusedAttempts ? String(s.refusedAttempts) : ''
        ])
    )
  )
  for (const line of explain(a, m.coldStartMs)) console.log(`  - ${line}`)
  if (r.fleet) printFleet(r, r.fleet)
  if (isMatrix(m) && r.jobs) printJobs(m, r.jobs)
  if (args.log) {
    const t0 = m.spawnedAt
    for (const e of m.log) {
      const host = e.host.endsWith('.managedhsm.azure.net') ? 'hsm' : e.host.split('.')[0]
      const path = e.path.replace(/^\/subscriptions\/[^/]+(\/resourceGroups\/[^/]+)?/i, '…')
      console.log(
        `    ${String(Date.parse(e.time) - t0).padStart(6)} ms ${e.status} ${e.kind.padEnd(5)} ${e.method} ${host} ${path}`
      )
    }
  }
}

function printFleet(r: ScenarioResult, t: FleetTimeline): void {
  console.log(
    `\n  The ${r.scenario.accounts.length} account creations, grouped by when their PUTs came (ms from the first request; ` +
      `"allowed at": once the key existed, the grant had propagated and the provider was registered):`
  )
  console.log(
    markdownTable(
      [
        'group',
        'accounts',
        'PUT at',
        'allowed at',
        'PUT after allowed',
        'Succeeded seen at',
        'poll overshoot'
      ],
      fleetGroupRows(t)
    ).replace(/^/gm, '  ')
  )
  const concurrency = r.scenario.inputs['account-concurrency'] ?? '8 (the default)'
  console.log(
    `  - at most ${t.mostAtOnce} accounts between their creating PUT and the poll or list that saw them Succeeded at once ` +
      `(account-concurrency ${concurrency}); ${t.groups.length} group(s); ${t.refusedCreations} creating PUTs refused`
  )
  const later = t.groups.slice(1)
  if (later.length) {
    const last = t.groups.at(-1)!
    const gaps = later.map((g, i) => g.createdFrom - t.groups[i]!.readyTo)
    console.log(
      `  - ${later.reduce((n, g) => n + g.accounts.length, 0)} accounts waited for a slot: each group after the first ` +
        `began as the group before it was seen Succeeded (its first PUT ${Math.min(...gaps)} to ${Math.max(...gaps)} ms ` +
        `from the moment the last account of the group before was); the last group's PUTs came ` +
        `${seconds(last.slackMin)}-${seconds(last.slackMax)} after Azure allowed them`
    )
  }
}

const spreadOf = (values: (number | undefined)[]): string => {
  const known = values.filter((v): v is number => v !== undefined)
  return known.length
    ? `${seconds(Math.min(...known))} / ${seconds(median(known))} / ${seconds(Math.max(...known))}`
    : '-'
}

function printJobs(m: MatrixMeasurement, jobs: JobTiming[]): void {
  console.log(`\n  The ${jobs.length} account jobs, started together (least / median / most):`)
  console.log(
    markdownTable(
      ['', 'least / median / most'],
      [
        [
          'spawn → its account PUT (start-up, sign-in, reads)',
          spreadOf(jobs.map(j => j.toCreateMs))
        ],
        ['PUT → the poll that saw Succeeded', spreadOf(jobs.map(j => j.createToReadyMs))],
        ['that poll → exit', spreadOf(jobs.map(j => j.readyToExitMs))],
        ['wall', spreadOf(jobs.map(j => j.wallMs))],
        ['CPU time (user + system)', spreadOf(jobs.map(j => j.cpuMs))],
        [
          'peak memory',
          (() => {
            const peaks = jobs.map(j => j.peakRssKb).filter((v): v is number => v !== undefined)
            return peaks.length
              ? `${mib(Math.min(...peaks))} / ${mib(median(peaks))} / ${mib(Math.max(...peaks))}`
              : '-'
          })()
        ]
      ]
    ).replace(/^/gm, '  ')
  )
  const started = Math.min(...m.jobs.map(j => j.spawnedAt))
  const fanOut = m.log.filter(e => Date.parse(e.time) >= started && e.method !== 'CONNECT')
  const firstAt = fanOut.length ? Date.parse(fanOut[0]!.time) - started : undefined
  const idTokens = fanOut.filter(isIdTokenRequest).length
  console.log(
    `  - the first request of any account job arrived ${seconds(firstAt)} after they were started; ` +
      `the ${jobs.length} jobs asked the runner for ${idTokens} GitHub ID tokens (${(idTokens / jobs.length).toFixed(2)} a job)`
  )
  const solo = m.solo
  if (solo) {
    const soloIdTokens = solo.log.filter(isIdTokenRequest).length
    console.log(
      `  - one more account job alone afterwards (${solo.account}): ${solo.ok ? seconds(solo.wallMs) : 'FAILED'}, ` +
        `cold start ${solo.coldStartMs ?? '-'} ms, ${totalRequests(solo.counts)} requests ` +
        `(${requestCells(solo.counts).join('/')} reads/writes/polls/token, ${soloIdTokens} ID token), peak ${mib(solo.peakRssKb)}; ` +
        `with a runner per job the matrix would take about prepare ${seconds(m.prepare.wallMs)} + ${seconds(solo.wallMs)} = ` +
        `${seconds(m.prepare.wallMs + solo.wallMs)} (runner start-up not counted) and make ` +
        `${totalRequests(m.prepare.counts)} + ${jobs.length} × ${totalRequests(solo.counts)} = ${soloMatrixRequests(m)} requests`
    )
  }
  const cpu = jobs.reduce((sum, j) => sum + (j.cpuMs ?? 0), 0)
  const cores = cpus().length
  console.log(
    `  - the jobs used ${seconds(cpu)} of CPU in all, the bench's own process (the local Azure serving them) ` +
      `${seconds(m.benchCpuMs)}, on ${cores} cores: at least ${seconds((cpu + m.benchCpuMs) / cores)} of the ` +
      `${seconds(m.fanOutMs)} the ${jobs.length} jobs took is CPU time the machine had to find ` +
      `(on GitHub each job has a runner of its own)` +
      (m.otherWork ? `; other work on the machine meanwhile: ${otherWorkText(m.otherWork)}` : '')
  )
}

const isIdTokenRequest = (e: ActionMeasurement['log'][number]) =>
  e.kind === 'token' && e.method === 'GET' && /\/idtoken$/.test(e.path)

/** A matrix's requests had every account job made as many as the job run alone: prepare + N × alone. */
const soloMatrixRequests = (m: MatrixMeasurement): number | undefined =>
  m.solo
    ? totalRequests(m.prepare.counts) + m.jobs.length * totalRequests(m.solo.counts)
    : undefined

/** Requests by endpoint (names and ids folded), for the fleet and the matrix side by side. */
function endpointCounts(
  log: ActionMeasurement['log'],
  accounts: readonly string[]
): Map<string, number> {
  const names = new Set(accounts.map(a => a.toLowerCase()))
  const counts = new Map<string, number>()
  for (const e of log) {
    if (e.method === 'CONNECT') continue
    const host = e.host.endsWith('.managedhsm.azure.net')
      ? 'hsm'
      : e.host.split('.')[0] === 'pipelines'
        ? 'github'
        : e.host.split('.')[0]
    const path = e.path
      .replace(/^\/subscriptions\/[^/]+(\/resourceGroups\/[^/]+)?/i, '…')
      .replace(/\/databaseAccounts\/([^/]+)/i, (all, name: string) =>
        names.has(name.toLowerCase()) ? '/databaseAccounts/{account}' : all
      )
      .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '{id}')
      .replace(/\/plans\/.*\/idtoken$/, '/…/idtoken')
    const key = `${e.kind.padEnd(5)} ${e.status} ${e.method} ${host} ${path}`
    counts.set(key, (counts.get(key) ?? 0) + 1)
  }
  return counts
}

function printRequestComparison(fleet: ScenarioResult, matrix: ScenarioResult): void {
  const f = fleet.medianRun
  const m = matrix.medianRun
  if (!f || !m) return
  const fc = endpointCounts(f.log, fleet.scenario.accounts)
  const mc = endpointCounts(m.log, matrix.scenario.accounts)
  const keys = [...new Set([...fc.keys(), ...mc.keys()])].sort(
    (a, b) => (mc.get(b) ?? 0) - (fc.get(b) ?? 0) - ((mc.get(a) ?? 0) - (fc.get(a) ?? 0))
  )
  console.log(
    `\nRequests by endpoint: ${fleet.scenario.title} (${totalRequests(f.counts)}) and ` +
      `${matrix.scenario.title} (${totalRequests(m.counts)}), the largest differences first:`
  )
  console.log(
    markdownTable(
      ['kind  status method host path', 'one run', 'matrix', 'matrix per account'],
      keys.map(k => [
        k,
        String(fc.get(k) ?? 0),
        String(mc.get(k) ?? 0),
        ((mc.get(k) ?? 0) / matrix.scenario.accounts.length).toFixed(2)
      ])
    )
  )
}

/** The fleet targets: one run of 50 against one account, against the matrix, and its memory. */
function fleetTargets(
  one: ScenarioResult | undefined,
  fleet: ScenarioResult | undefined,
  matrix: ScenarioResult | undefined
): Target[] {
  const targets: Target[] = []
  const limitKb = 150e6 / 1024
  if (fleet) {
    const wall = fleet.medianWallMs
    const base = one?.medianWallMs
    const allowed = base === undefined ? undefined : 1.5 * base + fleet.budgetForcedMs
    targets.push({
      name: "50 accounts in one run within 1.5x of one account's wall time plus what the write budget forces",
      pass: wall !== undefined && allowed !== undefined && wall <= allowed,
      detail:
        wall === undefined || allowed === undefined
          ? 'a run failed'
          : `${seconds(wall)} against 1.5 × ${seconds(base)} + ${seconds(fleet.budgetForcedMs)} = ` +
            `${seconds(allowed)} (${(wall / base!).toFixed(2)}x one account)` +
            (fleet.fleet
              ? `; the creations came in ${fleet.fleet.groups.length} groups, at most ${fleet.fleet.mostAtOnce} at once`
              : '')
    })
    const peak = fleet.medianRun ? Math.max(...fleet.runs.map(m => m.peakRssKb ?? 0)) : undefined
    targets.push({
      name: 'peak memory under 150 MB for 50 accounts: one run',
      pass: peak !== undefined && peak < limitKb,
      detail: `${mb(peak)} (${mib(peak)}), the most of ${fleet.runs.length} runs`
    })
  }
  if (fleet && matrix) {
    const f = fleet.medianRun?.counts
    const m = matrix.medianRun?.counts
    const nonToken = (c: RequestCounts) => c.read + c.write + c.poll
    const mm = matrix.medianRun && isMatrix(matrix.medianRun) ? matrix.medianRun : undefined
    const alone = mm ? soloMatrixRequests(mm) : undefined
    targets.push({
      name: "the one-run fleet makes fewer than a third of the matrix's requests",
      pass: f !== undefined && m !== undefined && totalRequests(f) * 3 < totalRequests(m),
      detail:
        f && m
          ? `${totalRequests(f)} / ${totalRequests(m)} = ${(totalRequests(f) / totalRequests(m)).toFixed(3)} ` +
            `(without token requests ${nonToken(f)} / ${nonToken(m)} = ${(nonToken(f) / nonToken(m)).toFixed(3)}` +
            (alone
              ? `; with each job making what one job alone makes, ${totalRequests(f)} / ${alone} = ${(totalRequests(f) / alone).toFixed(3)}`
              : '') +
            ')'
          : 'a run failed'
    })
  }
  if (matrix) {
    const runs = matrix.runs.filter(isMatrix)
    const largest = runs.length ? Math.max(...runs.map(m => m.peakRssKb ?? 0)) : undefined
    const sum = runs.length ? Math.max(...runs.map(m => m.peakRssSumKb ?? 0)) : undefined
    targets.push({
      name: 'peak memory under 150 MB for 50 accounts: matrix, the largest job',
      pass: largest !== undefined && largest < limitKb,
      detail: `${mb(largest)}; the 50 account jobs added up: ${mb(sum)} (no target)`
    })
  }
  return targets
}

interface CliResult {
  mode: 'first-party' | 'user-assigned'
  runs: CliMeasurement[]
  medianWallMs?: number
  medianRun?: CliMeasurement
}

/** Where the bench keeps RSA keys generated ahead of time, from one bench to the next. */
const BENCH_KEY_POOL = join(tmpdir(), `cmk-bench-key-pool-${userInfo().uid}`)
/** More than a whole bench creates (one HSM key per run that creates one). */
const BENCH_KEYS = 48

/**
 * HSM keys come from keys generated ahead of time: an RSA-3072 key generated when it is created
 * costs the local Azure a fifth of a second of CPU, which would lengthen the key creation's answer
 * beyond the one round trip the latency model and the critical path give it.
 */
async function useBenchKeyPool(): Promise<void> {
  const warm = new KeyPool(BENCH_KEY_POOL)
  for (let i = 0; i < BENCH_KEYS; i++) await warm.rsaKey(3072)
  useKeyPool(BENCH_KEY_POOL)
}

async function main(): Promise<void> {
  const started = Date.now()
  ensureBuilt()
  await useBenchKeyPool()
  const workDir = mkdtempSync(join(tmpdir(), 'cmk-bench-'))
  const certificates = await writeSecurityDomainCertificates(workDir, 3)
  const lab = await startLab()
  const emulator = lab.emulator
  try {
    printLatencyModel()
    const dist = distSize()
    console.log(
      `dist/: ${(dist.bytes / 1e6).toFixed(2)} MB in ${dist.files} files (index.js ${(dist.indexBytes / 1e6).toFixed(2)} MB); ` +
        `${cpus().length} CPUs, node ${process.version}`
    )

    const all = benchScenarios({ env: emulator.env, workDir, certificates })
    const unknown = (args.only ?? []).filter(id => !all.some(s => s.id === id))
    if (unknown.length)
      throw new Error(`unknown scenario(s): ${unknown.join(', ')} (--help lists them)`)
    const wanted = new Set<BenchScenarioId>(
      args.only?.length
        ? all.filter(s => args.only!.includes(s.id)).map(s => s.id)
        : benchScenarioIds
    )
    // the fleet targets compare with one account's wall time, and the fleet with the matrix
    if (wanted.has('fleet-50') && !wanted.has('fresh-first-party')) {
      console.log('fresh-first-party runs as well: the fleet target compares with one account')
      wanted.add('fresh-first-party')
    }
    const chosen = all.filter(s => wanted.has(s.id))

    heading(
      `The action: ${runs} run(s) per scenario, ${largeRuns} per 50-account scenario (--large-runs)`
    )
    const results: ScenarioResult[] = []
    for (const s of chosen) results.push(await runScenario(emulator, s))
    const generatedAt = new Date().toISOString()
    for (const r of results) {
      const file = await writeChart(r, generatedAt)
      if (file) r.chart = file
    }

    const cli: CliResult[] = []
    let cliNote = ''
    let dataPlane: Awaited<ReturnType<typeof probeDataPlane>> | undefined
    if (args['skip-cli']) {
      cliNote = 'skipped (--skip-cli)'
    } else {
      heading('The CLI procedure (bench/cli-procedure.sh)')
      const az = ensureAzureCli()
      console.log(az.note)
      if (!az.ok) {
        cliNote = `skipped: ${az.note}`
        console.log(`The CLI comparison is skipped: ${az.note}.`)
      } else {
        emulator.loadScenario(withModel(all[0]!.world))
        dataPlane = await probeDataPlane(emulator)
        if (dataPlane.mode === 'rest') {
          console.log('keyvault data-plane commands do not run on this machine; using `az rest`:')
          for (const e of dataPlane.errors) console.log(`  ${e}`)
        }
        for (const mode of ['first-party', 'user-assigned'] as const) {
          const measured: CliMeasurement[] = []
          for (let i = 0; i < cliRuns; i++) {
            emulator.loadScenario(withModel(all[0]!.world))
            const m = await measureCli(
              emulator,
              mode,
              `cosmos-cli-${mode === 'first-party' ? 'fp' : 'ua'}`,
              KEY_NAME,
              dataPlane.mode
            )
            measured.push(m)
            console.log(
              `  CLI ${mode} run ${i + 1}/${cliRuns}: ${m.ok ? seconds(m.wallMs) : 'FAILED'}; steps: ` +
                Object.entries(m.stepsMs)
                  .map(([k, v]) => `${k} ${seconds(v)}`)
                  .join(', ') +
                (Object.keys(m.retries).length
                  ? `; retried: ${Object.entries(m.retries)
                      .map(([k, v]) => `${k} ×${v}`)
                      .join(', ')}`
                  : '')
            )
            if (!m.ok) console.log(m.tail.replace(/^/gm, '    | '))
          }
          const ok = measured.filter(m => m.ok)
          const medianWallMs = ok.length ? median(ok.map(m => m.wallMs)) : undefined
          const medianRun = ok.sort(
            (a, b) => Math.abs(a.wallMs - medianWallMs!) - Math.abs(b.wallMs - medianWallMs!)
          )[0]
          cli.push({ mode, runs: measured, ...(medianRun ? { medianWallMs, medianRun } : {}) })
        }
      }
    }

    // ---- results -------------------------------------------------------------------------
    // cold start and memory of one account: the fleets have figures of their own
    const single = results.filter(r => !isFleet(r.scenario))
    const fleets = results.filter(r => isFleet(r.scenario))
    const allRuns = single.flatMap(r => r.runs).filter(r => r.ok)
    const coldStarts = allRuns.map(r => r.coldStartMs).filter((v): v is number => v !== undefined)
    const coldStartMedian = coldStarts.length ? median(coldStarts) : undefined
    const peaks = allRuns.map(r => r.peakRssKb).filter((v): v is number => v !== undefined)
    const peakMax = peaks.length ? Math.max(...peaks) : undefined

    heading('Critical paths (Azure-imposed chain, bench/critical-path.ts)')
    for (const r of results) printCriticalPath(r)
    if (fleets.length) printBudgetScale()

    heading('Where the time went')
    for (const r of results) printAnalysis(r)

    const byId = (id: BenchScenarioId) => results.find(r => r.scenario.id === id)
    const fleet50 = byId('fleet-50')
    const matrix50 = byId('matrix-50')
    if (fleet50 && matrix50) printRequestComparison(fleet50, matrix50)

    heading('Results')
    printLatencyModel()
    const rows = single.map(r => {
      const m = r.medianRun
      const wall = r.medianWallMs
      return [
        r.scenario.title,
        m ? seconds(wall) : 'FAILED',
        ...(m ? requestCells(m.counts) : ['-', '-', '-', '-']),
        seconds(r.critical.totalMs),
        m ? `${(wall! / r.critical.totalMs).toFixed(2)}x` : '-'
      ]
    })
    const table = markdownTable(
      [
        'scenario',
        `wall (median of ${runs})`,
        'reads',
        'writes',
        'polls',
        'token',
        'critical path',
        'wall / critical'
      ],
      rows
    )
    if (single.length) console.log(table)
    console.log(
      `\ncold start (spawn → first request, median of ${coldStarts.length} runs): ${coldStartMedian ?? '-'} ms; ` +
        `peak memory (VmHWM, max of ${peaks.length} runs): ${mib(peakMax)}; ` +
        `dist/: ${(dist.bytes / 1e6).toFixed(2)} MB (${dist.files} files)`
    )
    let fleetTable = ''
    if (fleets.length) {
      fleetTable = markdownTable(
        [
          'scenario',
          'runs',
          'wall (median)',
          'each run, s',
          'reads',
          'writes',
          'polls',
          'token',
          'all',
          'critical path',
          'of it, write budget',
          'wall / critical',
          'peak memory'
        ],
        fleets.map(r => {
          const m = r.medianRun
          const memory = !m
            ? '-'
            : isMatrix(m)
              ? `${mb(m.peakRssKb)} largest job, ${mb(m.peakRssSumKb)} all jobs`
              : mb(m.peakRssKb)
          return [
            r.scenario.title,
            String(r.runs.length),
            m ? seconds(r.medianWallMs) : 'FAILED',
            r.runs.map(x => (x.ok ? (x.wallMs / 1000).toFixed(2) : 'failed')).join(', '),
            ...(m ? requestCells(m.counts) : ['-', '-', '-', '-']),
            m ? String(totalRequests(m.counts)) : '-',
            seconds(r.critical.totalMs),
            seconds(r.budgetForcedMs),
            m ? `${(r.medianWallMs! / r.critical.totalMs).toFixed(2)}x` : '-',
            memory
          ]
        })
      )
      console.log(`\n${fleetTable}`)
      console.log(
        `wall: the median of the runs (of two, their mean); requests and memory: the run nearest it. ` +
          `A matrix's wall runs from the prepare job's start to the last account job's exit, its requests are all ` +
          `of its jobs', its memory the largest job's and all account jobs' added up (they run side by side).`
      )
      for (const r of fleets) if (r.chart) console.log(`chart of the median run: ${r.chart}`)
    }

    const actionWallFor = (mode: string) =>
      results.find(r => r.scenario.id === `fresh-${mode}`)?.medianWallMs
    let cliTable = ''
    if (cli.length) {
      heading(
        `Side by side with the CLI procedure (az, retry every ${CLI_RETRY_SECONDS} s while waiting for propagation)`
      )
      cliTable = markdownTable(
        [
          'path',
          `CLI wall (median of ${cliRuns})`,
          'reads',
          'writes',
          'polls',
          'token',
          'refused',
          'action wall',
          'CLI / action'
        ],
        cli.map(c => {
          const action = actionWallFor(c.mode)
          const m = c.medianRun
          return [
            c.mode,
            m ? seconds(c.medianWallMs) : 'FAILED',
            ...(m ? requestCells(m.counts) : ['-', '-', '-', '-']),
            m ? String(m.counts.refused) : '-',
            seconds(action),
            m && action ? `${(c.medianWallMs! / action).toFixed(1)}x` : '-'
          ]
        })
      )
      console.log(cliTable)
      console.log("\nWhere the procedure's text had to be corrected to run at all:")
      for (const c of corrections()) console.log(`  ${c}`)
      console.log(
        `Waiting for role propagation: the procedure has none; the script runs the failing command ` +
          `again every ${CLI_RETRY_SECONDS} s (what users do), for the key creation and the account creation.`
      )
    } else {
      console.log(`\nCLI comparison: ${cliNote}`)
    }

    // ---- targets -------------------------------------------------------------------------
    const targets: Target[] = []
    for (const r of results.filter(r => r.scenario.id.startsWith('fresh-'))) {
      const ratio = r.medianWallMs !== undefined ? r.medianWallMs / r.critical.totalMs : undefined
      targets.push({
        name: `fresh within 1.10x of the critical path: ${r.scenario.title}`,
        pass: ratio !== undefined && ratio <= 1.1,
        detail:
          ratio === undefined
            ? 'the action failed'
            : `${seconds(r.medianWallMs)} / ${seconds(r.critical.totalMs)} = ${ratio.toFixed(2)}x`
      })
    }
    const noop = results.find(r => r.scenario.id === 'no-op-rerun')
    if (noop) {
      const c = noop.medianRun?.counts
      const nonToken = c ? c.read + c.write + c.poll : undefined
      targets.push({
        name: 'no-op re-run: reads only, at most 12 requests besides tokens',
        pass: c !== undefined && c.write === 0 && c.poll === 0 && nonToken! <= 12,
        detail: c
          ? `${c.read} reads, ${c.poll} polls, ${c.write} writes (${nonToken} besides ${c.token} token requests)`
          : 'the action failed'
      })
    }
    for (const c of cli) {
      const action = actionWallFor(c.mode)
      const ratio = c.medianWallMs && action ? c.medianWallMs / action : undefined
      targets.push({
        name: `at least 5x faster than the CLI procedure: ${c.mode}`,
        pass: ratio !== undefined && ratio >= 5,
        detail:
          ratio === undefined
            ? 'no comparison (a run failed)'
            : `${seconds(c.medianWallMs)} / ${seconds(action)} = ${ratio.toFixed(1)}x`
      })
    }
    if (!cli.length)
      targets.push({
        name: 'at least 5x faster than the CLI procedure',
        pass: false,
        detail: cliNote
      })
    if (allRuns.length) {
      targets.push({
        name: 'cold start under 120 ms (median)',
        pass: coldStartMedian !== undefined && coldStartMedian < 120,
        detail: `${coldStartMedian ?? '-'} ms`
      })
      targets.push({
        name: 'peak memory under 150 MiB',
        pass: peakMax !== undefined && peakMax < 150 * 1024,
        detail: mib(peakMax)
      })
    }
    targets.push(...fleetTargets(byId('fresh-first-party'), fleet50, matrix50))
    heading('Targets')
    for (const line of targetLines(targets)) console.log(line)

    // ---- machine-readable ----------------------------------------------------------------
    mkdirSync('bench/results', { recursive: true })
    const json = {
      generatedAt: new Date().toISOString(),
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version },
      latencyModel: LATENCY_MODEL,
      runsPerScenario: runs,
      dist,
      coldStartMedianMs: coldStartMedian,
      peakRssMaxKb: peakMax,
      runsPerLargeScenario: largeRuns,
      scenarios: results.map(r => ({
        id: r.scenario.id,
        title: r.scenario.title,
        accounts: r.scenario.accounts.length,
        criticalPathMs: r.critical.totalMs,
        armWrites: r.armWrites,
        budgetForcedMs: r.budgetForcedMs,
        criticalPath: r.critical.path.map(s => ({
          step: s.id,
          startMs: s.start,
          after: s.decidedBy?.from,
          wait: s.decidedBy?.wait
        })),
        medianWallMs: r.medianWallMs,
        ratio: r.medianWallMs !== undefined ? r.medianWallMs / r.critical.totalMs : undefined,
        requests: r.medianRun?.counts,
        runs: r.runs.map(m => ({
          ok: m.ok,
          wallMs: m.wallMs,
          coldStartMs: m.coldStartMs,
          peakRssKb: m.peakRssKb,
          requests: m.counts,
          otherWork: m.otherWork,
          ...(isMatrix(m)
            ? {
                prepareWallMs: m.prepare.wallMs,
                prepareRequests: m.prepare.counts,
                fanOutMs: m.fanOutMs,
                peakRssSumKb: m.peakRssSumKb,
                jobsCpuMs: m.jobs.reduce((sum, j) => sum + (j.cpuMs ?? 0), 0),
                benchCpuMs: m.benchCpuMs
              }
            : { cpuMs: m.cpuMs })
        })),
        analysis: r.analysis,
        fleet: r.fleet,
        jobs: r.jobs,
        chart: r.chart
      })),
      cli: {
        note: cliNote || undefined,
        dataPlane,
        retrySeconds: CLI_RETRY_SECONDS,
        corrections: cli.length ? corrections() : [],
        paths: cli.map(c => ({
          mode: c.mode,
          medianWallMs: c.medianWallMs,
          requests: c.medianRun?.counts,
          stepsMs: c.medianRun?.stepsMs,
          retries: c.medianRun?.retries,
          actionWallMs: actionWallFor(c.mode),
          ratio:
            c.medianWallMs && actionWallFor(c.mode)
              ? c.medianWallMs / actionWallFor(c.mode)!
              : undefined,
          runs: c.runs.map(m => ({ ok: m.ok, wallMs: m.wallMs, requests: m.counts }))
        }))
      },
      targets,
      markdown: { results: table, fleets: fleetTable || undefined, cli: cliTable || undefined }
    }
    await writeFormatted('bench/results/latest.json', `${JSON.stringify(json, null, 2)}\n`)
    console.log(
      `\nbench/results/latest.json written; the bench took ${seconds(Date.now() - started)}.`
    )
  } finally {
    await lab.stop()
    rmSync(workDir, { recursive: true, force: true })
  }
}

await main()
