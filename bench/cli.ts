/**
 * The procedure's own commands, run by the Azure CLI against the same local Azure: Debian's
 * azure-cli package (installed with apt-get when `az` is missing), a throwaway AZURE_CONFIG_DIR,
 * the emulator's proxy and CA.
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { defaultNames, type Emulator, type RequestLogEntry } from '../testkit/index.js'
import { countRequests, withoutSecrets, type RequestCounts } from './measure.js'

export const CLI_SCRIPT = resolve('bench/cli-procedure.sh')

/** The pause between attempts of a command that waits for role propagation. */
export const CLI_RETRY_SECONDS = 5

export interface CliAvailability {
  ok: boolean
  version?: string
  /** What was done to get it, or why it is not there. */
  note: string
}

function azVersion(): string | undefined {
  const r = spawnSync('az', ['version', '--output', 'json'], { encoding: 'utf8' })
  if (r.status !== 0) return undefined
  try {
    return (JSON.parse(r.stdout) as Record<string, string>)['azure-cli']
  } catch {
    return undefined
  }
}

/** `az` as found, or installed from Debian's archive with apt-get when missing. */
export function ensureAzureCli(): CliAvailability {
  const found = azVersion()
  if (found) return { ok: true, version: found, note: `azure-cli ${found} found on PATH` }
  const root = process.getuid?.() === 0
  const sudo = !root && spawnSync('sudo', ['-n', 'true']).status === 0
  if (!root && !sudo) {
    return { ok: false, note: '`az` is missing and apt-get needs root (no password-less sudo)' }
  }
  const apt = (...args: string[]) =>
    spawnSync(sudo ? 'sudo' : 'apt-get', sudo ? ['apt-get', ...args] : args, {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
    }).status === 0
  console.log("`az` is missing: installing Debian's azure-cli with apt-get ...")
  if (!apt('install', '-y', 'azure-cli') && !(apt('update') && apt('install', '-y', 'azure-cli'))) {
    return { ok: false, note: '`apt-get install -y azure-cli` failed' }
  }
  const installed = azVersion()
  return installed
    ? { ok: true, version: installed, note: `azure-cli ${installed} installed with apt-get` }
    : { ok: false, note: 'apt-get installed azure-cli but `az version` does not run' }
}

function cliEnv(emulator: Emulator, configDir: string): Record<string, string> {
  const env = emulator.env
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? configDir,
    LANG: 'C.UTF-8',
    HTTPS_PROXY: env.HTTPS_PROXY!,
    https_proxy: env.https_proxy ?? env.HTTPS_PROXY!,
    NO_PROXY: '',
    no_proxy: '',
    REQUESTS_CA_BUNDLE: env.REQUESTS_CA_BUNDLE!,
    ACTIONS_ID_TOKEN_REQUEST_URL: env.ACTIONS_ID_TOKEN_REQUEST_URL!,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: env.ACTIONS_ID_TOKEN_REQUEST_TOKEN!,
    AZURE_CONFIG_DIR: configDir,
    AZURE_CORE_COLLECT_TELEMETRY: 'false',
    AZURE_CORE_NO_COLOR: 'true',
    AZURE_CORE_ONLY_SHOW_ERRORS: 'true',
    CLIENT_ID: env.AZURE_CLIENT_ID!,
    TENANT_ID: env.AZURE_TENANT_ID!,
    SUBSCRIPTION_ID: env.AZURE_SUBSCRIPTION_ID!,
    RG_NAME: defaultNames.resourceGroup,
    HSM_NAME: defaultNames.hsmName,
    IDENTITY_NAME: defaultNames.userAssignedIdentity
  }
}

function run(
  command: string,
  args: string[],
  env: Record<string, string>
): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  return new Promise(done => {
    const started = Date.now()
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c))
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c))
    child.on('close', code => done({ code, stdout, stderr, ms: Date.now() - started }))
  })
}

export interface DataPlaneProbe {
  mode: 'native' | 'rest'
  /** The errors the keyvault data-plane commands gave, when they fail. */
  errors: string[]
}

/**
 * Whether this machine's `az keyvault role assignment` and `az keyvault key` commands run at all
 * (Debian's 2.45 package lacks the SDK versions they load). Read-only calls on the scenario's HSM.
 */
export async function probeDataPlane(emulator: Emulator): Promise<DataPlaneProbe> {
  const configDir = mkdtempSync(join(tmpdir(), 'bench-az-probe-'))
  try {
    const env = cliEnv(emulator, configDir)
    const idToken = emulator.tokens.githubIdToken()
    const login = await run(
      'az',
      [
        'login',
        '--service-principal',
        '-u',
        env.CLIENT_ID!,
        '--tenant',
        env.TENANT_ID!,
        '--federated-token',
        idToken,
        '--output',
        'none'
      ],
      env
    )
    if (login.code !== 0) throw new Error(`az login failed:\n${login.stderr}`)
    const errors: string[] = []
    for (const args of [
      [
        'keyvault',
        'role',
        'assignment',
        'list',
        '--hsm-name',
        defaultNames.hsmName,
        '--output',
        'none'
      ],
      ['keyvault', 'key', 'list', '--hsm-name', defaultNames.hsmName, '--output', 'none']
    ]) {
      const r = await run('az', args, env)
      if (r.code !== 0) {
        const reason =
          /^(NotImplementedError|ModuleNotFoundError|ImportError): .*$/m.exec(r.stderr)?.[0] ??
          /^ERROR: .*$/m.exec(r.stderr)?.[0] ??
          `exit ${r.code}`
        errors.push(`az ${args.slice(0, 4).join(' ')}: ${reason}`)
      }
    }
    return { mode: errors.length === 0 ? 'native' : 'rest', errors }
  } finally {
    rmSync(configDir, { recursive: true, force: true })
  }
}

export interface CliMeasurement {
  ok: boolean
  wallMs: number
  counts: RequestCounts
  /** ms per procedure step, from the script's own clock. */
  stepsMs: Record<string, number>
  /** Commands run again while waiting for propagation. */
  retries: Record<string, number>
  log: RequestLogEntry[]
  tail: string
}

export async function measureCli(
  emulator: Emulator,
  mode: 'first-party' | 'user-assigned',
  account: string,
  keyName: string,
  dataPlane: 'native' | 'rest'
): Promise<CliMeasurement> {
  const configDir = mkdtempSync(join(tmpdir(), 'bench-az-'))
  try {
    const env = {
      ...cliEnv(emulator, configDir),
      MODE: mode,
      KEY_NAME: keyName,
      COSMOS_NAME: account,
      KV_DATA_PLANE: dataPlane,
      RETRY_SECONDS: String(CLI_RETRY_SECONDS),
      RETRY_MAX: '60'
    }
    emulator.clearRequests()
    const r = await run('bash', [CLI_SCRIPT], env)
    const log = emulator.requests()
    const stepsMs: Record<string, number> = {}
    const retries: Record<string, number> = {}
    for (const line of r.stderr.split('\n')) {
      const s = /^bench-step (\S+) (\d+)$/.exec(line)
      if (s) stepsMs[s[1]!] = Number(s[2])
      const t = /^bench-retry (.+)$/.exec(line)
      if (t) retries[t[1]!.trim()] = (retries[t[1]!.trim()] ?? 0) + 1
    }
    return {
      ok: r.code === 0 && r.stderr.includes('bench-done'),
      wallMs: r.ms,
      counts: countRequests(log),
      stepsMs,
      retries,
      log,
      tail: withoutSecrets(`${r.stdout}\n${r.stderr}`).trimEnd().split('\n').slice(-30).join('\n')
    }
  } finally {
    rmSync(configDir, { recursive: true, force: true })
  }
}

/** The corrections, as the script's "CORRECTION n" comments state them. */
export function corrections(): string[] {
  const out: string[] = []
  let current: string | undefined
  for (const line of readFileSync(CLI_SCRIPT, 'utf8').split('\n')) {
    const text = line.trim()
    const start = /^# CORRECTION (\d+)(?: \(([^)]*)\))?: (.*)$/.exec(text)
    if (start) {
      if (current) out.push(current)
      current = `${start[1]}. ${start[2] ? `(${start[2]}) ` : ''}${start[3]}`
    } else if (current && text.startsWith('#') && !/^# CORRECTION/.test(text)) {
      current += ` ${text.replace(/^#\s?/, '')}`
    } else if (current) {
      out.push(current)
      current = undefined
    }
  }
  if (current) out.push(current)
  return out.filter(c => !/applies here too/.test(c))
}
