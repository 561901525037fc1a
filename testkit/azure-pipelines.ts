/**
 * Runs the built Azure Pipelines task (task/dist/index.js) as a child process exactly as an agent
 * does: inputs as INPUT_* variables, the job's SYSTEM_* variables, the job access token and the
 * service connection as ENDPOINT_* variables, and (as on a self-hosted agent) the proxy and CA as
 * Agent.ProxyUrl / Agent.CAInfo. Reads back what the agent would: `##vso[...]` logging commands.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ActionRun } from './action.js'
import { outcomeOf } from './child-process.js'
import type { IssuedTokens } from './emulator.js'
import { actionInputs, createHsmInputs, type IdentityMode } from './inputs.js'
import type { Lab } from './lab.js'
import { secretLeaks } from './secrets.js'

export const TASK_ENTRY = fileURLToPath(new URL('../task/dist/index.js', import.meta.url))

/** One `##vso[area.action k=v;...]message` line, its escapes undone. */
export interface LoggingCommand {
  command: string
  properties: Record<string, string>
  message: string
}

export interface TaskRun {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  commands: LoggingCommand[]
  /** Output variables (`task.setvariable` with `isOutput=true`), by name. */
  variables: Record<string, string>
  /** The values masked with `task.setsecret`. */
  secrets: string[]
  /** `task.complete`'s result (Succeeded when the task never set one, as the agent takes it). */
  result: string
  /** The messages of `task.issue type=error` and of a failed `task.complete`. */
  errors: string[]
  warnings: string[]
  /** The summary attachments (`task.addattachment type=Distributedtask.Core.Summary`): name and text. */
  summaries: { name: string; text: string }[]
  /** `task.setprogress` operations. */
  progress: string[]
  durationMs: number
}

const unescapeProperty = (v: string) =>
  v
    .replace(/%3B/gi, ';')
    .replace(/%5D/gi, ']')
    .replace(/%0D/gi, '\r')
    .replace(/%0A/gi, '\n')
    .replace(/%AZP25/gi, '%')

const unescapeMessage = (v: string) =>
  v
    .replace(/%0D/gi, '\r')
    .replace(/%0A/gi, '\n')
    .replace(/%AZP25/gi, '%')

/** The logging commands in a task's stdout, as the agent reads them. */
export function parseLoggingCommands(stdout: string): LoggingCommand[] {
  const commands: LoggingCommand[] = []
  for (const line of stdout.split(/\r?\n/)) {
    const match = /^##vso\[([\w.]+)([^\]]*)\](.*)$/.exec(line)
    if (!match) continue
    const properties: Record<string, string> = {}
    for (const pair of match[2]!.trim().split(';')) {
      const at = pair.indexOf('=')
      if (at > 0) properties[pair.slice(0, at).trim()] = unescapeProperty(pair.slice(at + 1))
    }
    commands.push({ command: match[1]!, properties, message: unescapeMessage(match[3]!) })
  }
  return commands
}

export interface TaskRunOptions {
  /** The variables of the local Azure (emulator.env) with the agent's for the chosen connection. */
  env: Record<string, string>
  /**
   * `agent` (default): the proxy and CA only as Agent.ProxyUrl and Agent.CAInfo, as a self-hosted
   * agent gives them; `process`: as HTTPS_PROXY and NODE_EXTRA_CA_CERTS.
   */
  network?: 'agent' | 'process'
  /** The Node binary; default this process's. */
  node?: string
  /** Extra agent variables, applied last (e.g. a changed ENDPOINT_AUTH_SCHEME_<id>). */
  agentEnv?: Record<string, string>
  onStdout?: (chunk: string) => void
  timeoutMs?: number
}

/** `hsm-name` as `INPUT_HSMNAME`, as the agent names a task input. */
export function taskInputEnv(inputs: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(inputs).map(([name, value]) => [`INPUT_${name.toUpperCase()}`, value])
  )
}

/**
 * The task's inputs for `account` (camelCase task.json names), from the action's (`actionInputs`,
 * with the same parameters): the sign-in inputs give way to the service connection of
 * `AZURE_DEVOPS_SERVICE_CONNECTION`.
 */
export function taskInputs(
  ...[env, account, mode, extra]: Parameters<typeof actionInputs>
): Record<string, string> {
  const action = actionInputs(env, account, mode)
  delete action['client-id']
  delete action['tenant-id']
  delete action['subscription-id']
  return {
    azureSubscription: env.AZURE_DEVOPS_SERVICE_CONNECTION,
    ...camelCaseInputs(action),
    timeoutMinutes: '5',
    ...extra
  }
}

/** `createHsmInputs` in the task's names: create the HSM and activate it into `securityDomainFile`. */
export function taskCreateHsmInputs(
  certificates: string[],
  securityDomainFile: string
): Record<string, string> {
  return camelCaseInputs(createHsmInputs(certificates, securityDomainFile))
}

function camelCaseInputs(inputs: Record<string, string>): Record<string, string> {
  const camel = (name: string) => name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase())
  return Object.fromEntries(Object.entries(inputs).map(([k, v]) => [camel(k), v]))
}

export async function runTask(
  inputs: Record<string, string>,
  options: TaskRunOptions
): Promise<TaskRun> {
  const temp = mkdtempSync(join(tmpdir(), 'cmk-agent-'))
  const { HTTPS_PROXY, https_proxy, NODE_EXTRA_CA_CERTS, ...rest } = options.env
  const network =
    options.network === 'process'
      ? { HTTPS_PROXY, https_proxy, NODE_EXTRA_CA_CERTS }
      : { AGENT_PROXYURL: HTTPS_PROXY ?? https_proxy, AGENT_CAINFO: NODE_EXTRA_CA_CERTS }
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? temp,
    TF_BUILD: 'True',
    ...rest,
    ...(Object.fromEntries(Object.entries(network).filter(e => e[1] !== undefined)) as Record<
      string,
      string
    >),
    AGENT_TEMPDIRECTORY: temp,
    AGENT_WORKFOLDER: temp,
    ...options.agentEnv,
    ...taskInputEnv(inputs)
  }
  const started = Date.now()
  const child = spawn(options.node ?? process.execPath, [TASK_ENTRY], {
    env,
    cwd: temp,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const outcome = await outcomeOf(child, {
    timeoutMs: options.timeoutMs ?? 150_000,
    onStdout: options.onStdout
  })
  const commands = parseLoggingCommands(outcome.stdout)
  const of = (name: string) => commands.filter(c => c.command === name)
  const complete = of('task.complete').pop()
  const summaries = of('task.addattachment')
    .filter(c => c.properties.type === 'Distributedtask.Core.Summary')
    .map(c => ({ name: c.properties.name ?? '', text: readFileSync(c.message, 'utf8') }))
  rmSync(temp, { recursive: true, force: true })
  return {
    ...outcome,
    commands,
    variables: Object.fromEntries(
      of('task.setvariable')
        .filter(c => c.properties.isOutput === 'true')
        .map(c => [c.properties.variable ?? '', c.message])
    ),
    secrets: of('task.setsecret').map(c => c.message),
    result: complete?.properties.result ?? 'Succeeded',
    errors: [
      ...of('task.issue')
        .filter(c => c.properties.type === 'error')
        .map(c => c.message)
    ],
    warnings: of('task.issue')
      .filter(c => c.properties.type === 'warning')
      .map(c => c.message),
    summaries,
    progress: of('task.setprogress').map(c => c.message),
    durationMs: Date.now() - started
  }
}

/** The local Azure's variables for a task run with service connection `connectionId` (default: the first). */
export function agentEnvOf(lab: Lab, connectionId?: string): Record<string, string> {
  return { ...lab.env, ...lab.emulator.azurePipelinesAgentEnv(connectionId) }
}

/**
 * Runs the task against `lab` for `account` (see `taskInputs`) with the agent variables of its
 * first service connection.
 */
export function runTaskOn(
  lab: Lab,
  account: string,
  mode?: IdentityMode,
  extra: Record<string, string> = {},
  options: Omit<TaskRunOptions, 'env'> = {}
): Promise<TaskRun> {
  const env = agentEnvOf(lab)
  return runTask(taskInputs(env, account, mode, extra), { env, ...options })
}

/** Throws, with the end of the task's output, unless it succeeded. */
export function assertSucceeded(run: TaskRun, label = 'task'): void {
  if (run.code !== 0 || run.result !== 'Succeeded') {
    throw new Error(
      `${label} ended ${run.result} (exit ${run.code ?? run.signal}):\n${run.stdout.slice(-6000)}\n${run.stderr.slice(-2000)}`
    )
  }
}

/**
 * Every secret that shows up anywhere but a `task.setsecret` line: in the rest of stdout, stderr,
 * the output variables or the summary (issued tokens, the job access token, anything JWT-shaped).
 */
export function taskLeaks(
  run: TaskRun,
  issued: IssuedTokens,
  extraSecrets: string[] = []
): string[] {
  const visible: ActionRun = {
    code: run.code,
    signal: run.signal,
    stdout: run.stdout
      .split('\n')
      .filter(line => !line.startsWith('##vso[task.setsecret]'))
      .join('\n'),
    stderr: run.stderr,
    outputs: run.variables,
    summary: run.summaries.map(s => s.text).join('\n'),
    durationMs: run.durationMs
  }
  return secretLeaks(visible, issued, extraSecrets)
}

/** Every secret of `lab` (its issued tokens, the job access token) that the task runs showed. */
export function taskLeaksIn(lab: Lab, ...runs: TaskRun[]): string[] {
  const issued = lab.emulator.tokens.issued()
  const jobToken = jobAccessTokenOf(agentEnvOf(lab))
  return runs.flatMap(run => taskLeaks(run, issued, [jobToken]))
}

/** The job access token (System.AccessToken) the local Azure's agent variables carry. */
export function jobAccessTokenOf(env: Record<string, string>): string {
  return (
    (
      JSON.parse(env.ENDPOINT_AUTH_SYSTEMVSSCONNECTION ?? '{}') as {
        parameters?: { AccessToken?: string }
      }
    ).parameters?.AccessToken ?? ''
  )
}
