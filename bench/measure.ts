/**
 * One measured run of the bundled action: wall time, cold start, peak memory and its requests; and
 * a matrix of them (one prepare run, then one run per account started together).
 */
import { spawnSync, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { runAction, type Emulator, type RequestLogEntry } from '../testkit/index.js'

export interface RequestCounts {
  read: number
  write: number
  poll: number
  token: number
  /** Requests the local Azure refused before any service saw them (CONNECT to other hosts). */
  refused: number
}

/** One process of the action, as the operating system saw it. */
export interface ProcessMeasurement {
  ok: boolean
  exitCode: number | null
  /** Process start to exit, ms. */
  wallMs: number
  /** Highest resident set size seen (VmHWM), kB. */
  peakRssKb: number | undefined
  /** CPU time (user + system) at the last reading before exit, ms. */
  cpuMs: number | undefined
  /** Epoch ms of the spawn, to relate log entries to the process. */
  spawnedAt: number
  outputs: Record<string, string>
  /** The job summary the run wrote (it ends with the timeline chart). */
  summary: string
  /** The last lines of the action's output, for failures. */
  tail: string
}

export interface ActionMeasurement extends ProcessMeasurement {
  /** Process start to the arrival of its first HTTP request, ms. */
  coldStartMs: number | undefined
  counts: RequestCounts
  log: RequestLogEntry[]
  /** The CPU the rest of the machine used while the run lasted. */
  otherWork?: OtherWork
}

export function countRequests(log: RequestLogEntry[]): RequestCounts {
  const counts: RequestCounts = { read: 0, write: 0, poll: 0, token: 0, refused: 0 }
  for (const entry of log) {
    if (entry.method === 'CONNECT') counts.refused++
    else counts[entry.kind]++
  }
  return counts
}

/** VmHWM of a live process in kB; undefined once it has exited. */
function highWaterMark(pid: number): number | undefined {
  try {
    const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match ? Number(match[1]) : undefined
  } catch {
    return undefined
  }
}

let clockTicks: number | undefined

/** Clock ticks per second of /proc/<pid>/stat's times (`getconf CLK_TCK`, nearly always 100). */
function ticksPerSecond(): number {
  clockTicks ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100
  return clockTicks
}

/**
 * Busy time of all the machine's cores from /proc/stat, ms: at normal priority (user, system,
 * interrupts, steal) and niced (processes that yield the CPU to ours), apart.
 */
function machineBusyMs(): { normal: number; niced: number } | undefined {
  try {
    const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8')
      .split('\n')[0]!
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number)
    const ms = (ticks: number) => (ticks * 1000) / ticksPerSecond()
    return { normal: ms(user! + system! + irq! + softirq! + steal!), niced: ms(nice!) }
  } catch {
    return undefined
  }
}

/** The CPU the rest of the machine used during a run, in cores on average. */
export interface OtherWork {
  /** At normal priority: it competes with the run for the cores. */
  cores: number
  /** Niced: it gets what the run leaves. */
  nicedCores: number
}

/**
 * Starts counting the machine's CPU; the function returned gives what others used since, over
 * `wallMs`, given the CPU of the processes measured (`ownMs`) and the bench's own (the local
 * Azure runs in the bench's process).
 */
function otherWork(): (ownMs: number | undefined, wallMs: number) => OtherWork | undefined {
  const before = machineBusyMs()
  const benchBefore = process.cpuUsage()
  return (ownMs, wallMs) => {
    const after = machineBusyMs()
    if (before === undefined || after === undefined || ownMs === undefined || wallMs <= 0)
      return undefined
    const bench = process.cpuUsage(benchBefore)
    const others = after.normal - before.normal - ownMs - (bench.user + bench.system) / 1000
    return {
      cores: Math.max(0, others) / wallMs,
      nicedCores: (after.niced - before.niced) / wallMs
    }
  }
}

/** User plus system CPU time of a live process in ms; undefined once it has exited. */
function cpuTime(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // the fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond()
  } catch {
    return undefined
  }
}

/**
 * Watches VmHWM (the kernel's own high-water mark of the resident set) and the CPU time every
 * `everyMs` until the process exits: the last reading before exit is the peak up to within one
 * interval, and the CPU time short of at most one interval's worth.
 */
function watchProcess(
  child: ChildProcess,
  everyMs: number
): () => { peakRssKb?: number; cpuMs?: number } {
  let peak: number | undefined
  let cpu: number | undefined
  const read = () => {
    if (child.pid === undefined) return
    const value = highWaterMark(child.pid)
    if (value !== undefined) peak = Math.max(peak ?? 0, value)
    cpu = cpuTime(child.pid) ?? cpu
  }
  const timer = setInterval(read, everyMs)
  child.once('exit', () => clearInterval(timer))
  return () => {
    clearInterval(timer)
    return { peakRssKb: peak, cpuMs: cpu }
  }
}

/** Runs the action once and watches its process; the request log is left alone. */
export async function measureProcess(
  emulator: Emulator,
  inputs: Record<string, string>,
  options: { timeoutMs?: number; sampleEveryMs?: number } = {}
): Promise<ProcessMeasurement> {
  let spawnedAt = 0
  let stopWatching: () => { peakRssKb?: number; cpuMs?: number } = () => ({})
  const run = await runAction(inputs, {
    env: emulator.env,
    timeoutMs: options.timeoutMs ?? 180_000,
    onSpawn: child => {
      spawnedAt = Date.now()
      stopWatching = watchProcess(child, options.sampleEveryMs ?? 5)
    }
  })
  const { peakRssKb, cpuMs } = stopWatching()
  const output = withoutSecrets(`${run.stdout}\n${run.stderr}`).trimEnd().split('\n')
  return {
    ok: run.code === 0,
    exitCode: run.code,
    wallMs: run.durationMs,
    peakRssKb,
    cpuMs,
    spawnedAt,
    outputs: run.outputs,
    summary: run.summary,
    tail: output.slice(-25).join('\n')
  }
}

/** Cold start, counts and the log, from the requests the run made. */
function withRequests(
  p: ProcessMeasurement,
  log: RequestLogEntry[]
): Omit<ActionMeasurement, keyof ProcessMeasurement> {
  const first = log.length > 0 ? Date.parse(log[0]!.time) : undefined
  return {
    coldStartMs: first === undefined ? undefined : first - p.spawnedAt,
    counts: countRequests(log),
    log
  }
}

export async function measureAction(
  emulator: Emulator,
  inputs: Record<string, string>,
  timeoutMs = 180_000
): Promise<ActionMeasurement> {
  emulator.clearRequests()
  const others = otherWork()
  const p = await measureProcess(emulator, inputs, { timeoutMs })
  const other = others(p.cpuMs, p.wallMs)
  return {
    ...p,
    ...withRequests(p, emulator.requests()),
    ...(other !== undefined ? { otherWork: other } : {})
  }
}

/** One account job of a matrix. */
export interface MatrixJob extends ProcessMeasurement {
  account: string
}

/**
 * A matrix: the prepare job, then one job per account, all started at the same moment once the
 * prepare job has exited (as `needs: prepare` starts them).
 */
export interface MatrixMeasurement {
  ok: boolean
  /** The prepare job's spawn to the exit of the last account job, ms. */
  wallMs: number
  /** The prepare job, with its own requests. */
  prepare: ActionMeasurement
  jobs: MatrixJob[]
  /** The account jobs' start to the exit of the last one, ms. */
  fanOutMs: number
  /** CPU time of the bench's own process (the local Azure serves every job) during the fan-out, ms. */
  benchCpuMs: number
  /** The CPU the rest of the machine used during the fan-out. */
  otherWork?: OtherWork
  /** Every request of the prepare job and of the account jobs. */
  counts: RequestCounts
  log: RequestLogEntry[]
  spawnedAt: number
  /** The largest peak of one job (the prepare job among them), kB. */
  peakRssKb: number | undefined
  /** The account jobs' peaks added up: what they held at most, running side by side, kB. */
  peakRssSumKb: number | undefined
  /** The prepare job's cold start. */
  coldStartMs: number | undefined
  /**
   * One more account job, run alone after the others (its requests are not in `log`): what a job
   * takes with the machine to itself, as on a runner of its own.
   */
  solo?: ActionMeasurement & { account: string }
  /** The last lines of the output of the first job that failed. */
  tail: string
}

export async function measureMatrix(
  emulator: Emulator,
  prepareInputs: Record<string, string>,
  jobInputs: (account: string) => Record<string, string>,
  accounts: readonly string[],
  soloAccount?: string,
  timeoutMs = 300_000
): Promise<MatrixMeasurement> {
  emulator.clearRequests()
  const p = await measureProcess(emulator, prepareInputs, { timeoutMs })
  const prepareLog = emulator.requests()
  const prepare: ActionMeasurement = { ...p, ...withRequests(p, prepareLog) }
  let jobs: MatrixJob[] = []
  let fanOutMs = 0
  let benchCpuMs = 0
  let other: OtherWork | undefined
  if (prepare.ok) {
    const others = otherWork()
    const cpuBefore = process.cpuUsage()
    const started = Date.now()
    // 51 processes on a few cores: a coarser reading interval keeps the watching itself cheap
    jobs = await Promise.all(
      accounts.map(async account => ({
        account,
        ...(await measureProcess(emulator, jobInputs(account), { timeoutMs, sampleEveryMs: 25 }))
      }))
    )
    fanOutMs = Math.max(...jobs.map(j => j.spawnedAt + j.wallMs)) - started
    const cpu = process.cpuUsage(cpuBefore)
    benchCpuMs = Math.round((cpu.user + cpu.system) / 1000)
    const jobsCpu = jobs.every(j => j.cpuMs !== undefined)
      ? jobs.reduce((sum, j) => sum + j.cpuMs!, 0)
      : undefined
    other = others(jobsCpu, fanOutMs)
  }
  const log = emulator.requests()
  let solo: MatrixMeasurement['solo']
  if (prepare.ok && soloAccount !== undefined) {
    solo = { account: soloAccount, ...(await measureAction(emulator, jobInputs(soloAccount))) }
  }
  const peaks = [prepare, ...jobs].map(j => j.peakRssKb)
  const known = (values: (number | undefined)[]) =>
    values.every(v => v !== undefined) ? (values as number[]) : undefined
  const jobPeaks = known(jobs.map(j => j.peakRssKb))
  const failed = [prepare, ...jobs].find(j => !j.ok)
  const end = jobs.length
    ? Math.max(...jobs.map(j => j.spawnedAt + j.wallMs))
    : prepare.spawnedAt + prepare.wallMs
  return {
    ok: failed === undefined,
    wallMs: end - prepare.spawnedAt,
    prepare,
    jobs,
    fanOutMs,
    benchCpuMs,
    ...(other !== undefined ? { otherWork: other } : {}),
    counts: countRequests(log),
    log,
    spawnedAt: prepare.spawnedAt,
    peakRssKb: known(peaks) ? Math.max(...known(peaks)!) : undefined,
    peakRssSumKb: jobPeaks && jobPeaks.length ? jobPeaks.reduce((a, b) => a + b, 0) : undefined,
    coldStartMs: prepare.coldStartMs,
    ...(solo ? { solo } : {}),
    tail: failed ? failed.tail : ''
  }
}

/** Output fit to print: no `::add-mask::` commands, nothing JWT-shaped. */
export function withoutSecrets(text: string): string {
  return text
    .split('\n')
    .filter(line => !line.startsWith('::add-mask::'))
    .join('\n')
    .replace(/eyJ[\w-]+\.[\w-]+\.[\w-]*/g, '[redacted]')
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}
