/**
 * Runs the bundled action (dist/index.js) as a child process exactly as the runner does: inputs as
 * INPUT_* variables, outputs and the job summary through GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files,
 * and the OIDC request variables, against a local Azure through its proxy.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { outcomeOf } from './child-process.js'
import { assertBundleFresh } from './dist-check.js'
import type { GitHubEvent } from './github.js'

/**
 * The bundle to run: dist/index.js, or the one COSMOS_CMK_ACTION_ENTRY names (a build of src/ with
 * source maps, for coverage). Either must have been built from the src/ in the tree.
 */
export const ACTION_ENTRY =
  process.env.COSMOS_CMK_ACTION_ENTRY || fileURLToPath(new URL('../dist/index.js', import.meta.url))

/** Passed on to the child when set, so that coverage of the bundle can be collected. */
const COVERAGE_VARIABLES = ['NODE_V8_COVERAGE'] as const

/**
 * Node's compile cache (Node 22 and later) for the bundle, shared by every run on the machine: a
 * run of the same bundle starts sooner and behaves the same.
 */
const COMPILE_CACHE = join(tmpdir(), `cmk-testkit-compile-cache-${userInfo().uid}`)

export interface ActionRun {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  outputs: Record<string, string>
  summary: string
  /** Wall time of the child process, ms. */
  durationMs: number
}

export interface ActionRunOptions {
  /** Variables from the local Azure (proxy, CA, OIDC request URL and token). */
  env: Record<string, string>
  /** Extra runner variables (e.g. GITHUB_REPOSITORY). */
  runnerEnv?: Record<string, string>
  /** Called once the child has started, e.g. to kill it at a chosen point. */
  onSpawn?: (child: ChildProcess) => void
  /** Receives the child's stdout as it arrives (the demo streams it). */
  onStdout?: (chunk: string) => void
  /** The child is SIGKILLed after this long; default 120 s. */
  timeoutMs?: number
  /** The event that triggered the run (GITHUB_EVENT_NAME and a GITHUB_EVENT_PATH file). */
  event?: GitHubEvent
  /**
   * The largest file the child may write, in bytes (RLIMIT_FSIZE, set by util-linux `prlimit`): a
   * longer write stops there and fails with EFBIG (Node ignores SIGXFSZ), the file cut short.
   */
  fileSizeLimitBytes?: number
}

/** `name<<DELIMITER\nvalue\nDELIMITER` blocks, as @actions/core writes them. */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const match = /^([^<=]+)<<(.+)$/.exec(lines[i])
    if (match) {
      const [, name, delimiter] = match
      const value: string[] = []
      for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i])
      outputs[name] = value.join('\n')
    } else if (lines[i].includes('=')) {
      const at = lines[i].indexOf('=')
      outputs[lines[i].slice(0, at)] = lines[i].slice(at + 1)
    }
  }
  return outputs
}

export function inputEnv(
  inputs: Record<string, string | number | boolean>
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(inputs).map(([name, value]) => [
      `INPUT_${name.replace(/ /g, '_').toUpperCase()}`,
      String(value)
    ])
  )
}

export async function runAction(
  inputs: Record<string, string | number | boolean>,
  options: ActionRunOptions
): Promise<ActionRun> {
  assertBundleFresh(ACTION_ENTRY)
  const dir = mkdtempSync(join(tmpdir(), 'cmk-action-'))
  const outputFile = join(dir, 'output')
  const summaryFile = join(dir, 'summary')
  writeFileSync(outputFile, '')
  writeFileSync(summaryFile, '')
  const eventEnv: Record<string, string> = {}
  if (options.event) {
    eventEnv.GITHUB_EVENT_NAME = options.event.name
    eventEnv.GITHUB_EVENT_PATH = join(dir, 'event.json')
    writeFileSync(eventEnv.GITHUB_EVENT_PATH, JSON.stringify(options.event.payload))
  }
  // The runner fills in action.yml's default for github-token, `${{ github.token }}`.
  const githubToken: Record<string, string> = options.env.GITHUB_TOKEN
    ? { 'github-token': options.env.GITHUB_TOKEN }
    : {}
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? dir,
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_REPOSITORY: 'contoso/cosmos-cmk',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_RUN_ID: '4242',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_WORKFLOW: 'cosmos-cmk',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_SHA: '0000000000000000000000000000000000000000',
    GITHUB_EVENT_NAME: 'workflow_dispatch',
    RUNNER_TEMP: dir,
    NODE_COMPILE_CACHE: COMPILE_CACHE,
    ...Object.fromEntries(
      COVERAGE_VARIABLES.filter(name => process.env[name]).map(name => [name, process.env[name]!])
    ),
    ...options.env,
    ...eventEnv,
    ...options.runnerEnv,
    ...inputEnv({ ...githubToken, ...inputs })
  }
  const started = Date.now()
  const limit = options.fileSizeLimitBytes
  // prlimit sets the limit and execs the action (same pid, so kills still reach it). Not a shell:
  // one would drop the INPUT_* variables whose names have hyphens.
  const [command, args] =
    limit === undefined
      ? [process.execPath, [ACTION_ENTRY]]
      : ['prlimit', [`--fsize=${limit}`, '--', process.execPath, ACTION_ENTRY]]
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
  options.onSpawn?.(child)
  const outcome = await outcomeOf(child, {
    timeoutMs: options.timeoutMs ?? 120_000,
    onStdout: options.onStdout
  })
  const run: ActionRun = {
    ...outcome,
    outputs: parseOutputFile(readFileSync(outputFile, 'utf8')),
    summary: readFileSync(summaryFile, 'utf8'),
    durationMs: Date.now() - started
  }
  rmSync(dir, { recursive: true, force: true })
  return run
}

/** The failure message as the runner shows it: every `::error::` line, its escapes undone. */
export function errorMessage(result: ActionRun): string {
  return result.stdout
    .split('\n')
    .filter(line => line.startsWith('::error::'))
    .map(line =>
      line
        .slice('::error::'.length)
        .replace(/%0D/g, '\r')
        .replace(/%0A/g, '\n')
        .replace(/%25/g, '%')
    )
    .join('\n')
}

/** Throws, with the end of the action's output, unless it exited 0. */
export function assertExit0(result: ActionRun, label = 'action'): void {
  if (result.code !== 0) {
    throw new Error(
      `${label} exited with ${result.code ?? result.signal}:\n${result.stdout.slice(-6000)}\n${result.stderr.slice(-2000)}`
    )
  }
}
