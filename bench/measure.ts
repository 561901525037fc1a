/** One measured run of the bundled action: wall time, cold start, peak memory and its requests. */
import { readFileSync } from 'node:fs'
import type { ChildProcess } from 'node:child_process'
import { runAction, type Emulator, type RequestLogEntry } from '../testkit/index.js'

export interface RequestCounts {
  read: number
  write: number
  poll: number
  token: number
  /** Requests the local Azure refused before any service saw them (CONNECT to other hosts). */
  refused: number
}

export interface ActionMeasurement {
  ok: boolean
  exitCode: number | null
  /** Process start to exit, ms. */
  wallMs: number
  /** Process start to the arrival of its first HTTP request, ms. */
  coldStartMs: number | undefined
  /** Highest resident set size seen (VmHWM), kB. */
  peakRssKb: number | undefined
  counts: RequestCounts
  /** Epoch ms of the spawn, to relate log entries to the process. */
  spawnedAt: number
  log: RequestLogEntry[]
  outputs: Record<string, string>
  /** The last lines of the action's output, for failures. */
  tail: string
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

/**
 * Watches VmHWM (the kernel's own high-water mark of the resident set) every few milliseconds
 * until the process exits: the last reading before exit is the peak up to within one interval.
 */
function watchPeakMemory(child: ChildProcess): () => number | undefined {
  let peak: number | undefined
  const read = () => {
    if (child.pid === undefined) return
    const value = highWaterMark(child.pid)
    if (value !== undefined) peak = Math.max(peak ?? 0, value)
  }
  const timer = setInterval(read, 5)
  child.once('exit', () => clearInterval(timer))
  return () => {
    clearInterval(timer)
    return peak
  }
}

export async function measureAction(
  emulator: Emulator,
  inputs: Record<string, string>,
  timeoutMs = 180_000
): Promise<ActionMeasurement> {
  emulator.clearRequests()
  let spawnedAt = 0
  let stopWatching: () => number | undefined = () => undefined
  const run = await runAction(inputs, {
    env: emulator.env,
    timeoutMs,
    onSpawn: child => {
      spawnedAt = Date.now()
      stopWatching = watchPeakMemory(child)
    }
  })
  const peakRssKb = stopWatching()
  const log = emulator.requests()
  const first = log.length > 0 ? Date.parse(log[0]!.time) : undefined
  const output = withoutSecrets(`${run.stdout}\n${run.stderr}`).trimEnd().split('\n')
  return {
    ok: run.code === 0,
    exitCode: run.code,
    wallMs: run.durationMs,
    coldStartMs: first === undefined ? undefined : first - spawnedAt,
    peakRssKb,
    counts: countRequests(log),
    spawnedAt,
    log,
    outputs: run.outputs,
    tail: output.slice(-25).join('\n')
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
