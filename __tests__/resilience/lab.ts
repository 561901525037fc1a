/**
 * What the resilience suites share: a local Azure per case (they run side by side), the action's
 * inputs for the default scenario's activated HSM, the end state reduced to what must converge,
 * and the check that no issued token ever reaches the action's output.
 */
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  startEmulator,
  type Emulator,
  type IssuedTokens,
  type PendingRequest,
  type RequestLogEntry,
  type Scenario
} from '../../emulator/src/index.js'
import { advanceWorld } from '../../emulator/src/services/resources/advance.js'
import type { World } from '../../emulator/src/core/world.js'
import { runAction, type ActionRun, type ActionRunOptions } from '../../scripts/lib/run-action.js'
import { defaultScenario, names } from '../support/scenarios.js'

export { names }

export const KEY_NAME = 'cosmos-cmk'
const COSMOS_APP_ID = 'a232010e-820c-4083-83bb-3ace5fc29d0b'
const ROLE = {
  cryptoUser: '21dbd100-6940-42c2-9190-5d6cb909625b',
  serviceEncryptionUser: '33413926-3206-4cdd-b39a-83574fe37a17'
}
/** Per-attempt timeout for cases with stalled responses, so that a stall costs little. */
export const REQUEST_TIMEOUT_MS = 2_000

export type IdentityMode = 'first-party' | 'user-assigned' | 'system-assigned'

let sharedStateDir: Promise<string> | undefined

/**
 * One directory for the CA and signing keys of every emulator in this process: created by the
 * first start, then only read, so emulators started side by side agree on the CA.
 */
function stateDir(): Promise<string> {
  sharedStateDir ??= (async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'cmk-resilience-')), 'state')
    const first = await startEmulator({ scenario: defaultScenario(), stateDir: dir, quiet: true })
    await first.stop()
    return dir
  })()
  return sharedStateDir
}

/** The default scenario (activated HSM, Microsoft.DocumentDB not registered) with zero delays. */
export function preparedScenario(patch: (scenario: Scenario) => void = () => {}): Scenario {
  const scenario = defaultScenario()
  scenario.timing = { retryAfterSeconds: 1 }
  patch(scenario)
  return scenario
}

export async function startLab(scenario: Scenario): Promise<Emulator> {
  return startEmulator({ scenario, stateDir: await stateDir(), quiet: true })
}

/** The action's inputs for one account on the scenario's activated HSM. */
export function inputsFor(
  emulator: Emulator,
  account: string,
  mode: IdentityMode = 'system-assigned',
  extra: Record<string, string> = {}
): Record<string, string> {
  const env = emulator.env
  return {
    'client-id': env.AZURE_CLIENT_ID,
    'tenant-id': env.AZURE_TENANT_ID,
    'subscription-id': env.AZURE_SUBSCRIPTION_ID,
    'resource-group': names.resourceGroup,
    location: names.location,
    'hsm-name': names.hsm,
    'key-name': KEY_NAME,
    'account-name': account,
    'identity-mode': mode,
    ...(mode === 'user-assigned' ? { 'user-assigned-identity': names.identity } : {}),
    'timeout-minutes': '5',
    ...extra
  }
}

/**
 * Runs the bundled action against `emulator`. `requestTimeoutMs` shortens its per-attempt timeout
 * (for cases with stalled responses); otherwise it keeps its own.
 */
export function run(
  emulator: Emulator,
  inputs: Record<string, string>,
  options: Omit<ActionRunOptions, 'env'> & { requestTimeoutMs?: number } = {}
): Promise<ActionRun> {
  const { requestTimeoutMs, ...rest } = options
  return runAction(inputs, {
    timeoutMs: 150_000,
    ...rest,
    env: {
      ...emulator.env,
      ...(requestTimeoutMs ? { COSMOS_CMK_REQUEST_TIMEOUT_MS: String(requestTimeoutMs) } : {})
    }
  })
}

export function expectExit0(result: ActionRun, label = 'action'): void {
  if (result.code !== 0) {
    throw new Error(
      `${label} exited with ${result.code ?? result.signal}:\n${result.stdout.slice(-6000)}\n${result.stderr.slice(-2000)}`
    )
  }
}

export const writes = (log: RequestLogEntry[]): RequestLogEntry[] =>
  log.filter(e => e.kind === 'write')

export interface AccountExpectation {
  name: string
  mode: IdentityMode
}

/** The parts of the world the action is responsible for, with generated ids replaced by roles. */
export interface EndState {
  providers: Record<string, string>
  keyVersions: { kty: string; keySize: number; keyOps: string[]; enabled: boolean }[]
  /** `principal role scope`, sorted; duplicates kept, so that they show. */
  assignments: string[]
  accounts: {
    name: string
    keyVaultKeyUri?: string
    defaultIdentity: string
    identityType: string
    userAssignedIdentities: string[]
    provisioningState: string
  }[]
}

/** The world as it stands now (time-driven states moved forward), reduced for comparison. */
export function endState(emulator: Emulator): EndState {
  const world = emulator.store.snapshot()
  advanceWorld(world, emulator.now())
  const label = principalLabels(world)
  const plane = world.hsmDataPlanes[names.hsm]
  const providers: Record<string, string> = {}
  for (const sub of Object.values(world.subscriptions)) {
    for (const [ns, p] of Object.entries(sub.providers)) providers[ns] = p.state
  }
  return {
    providers,
    keyVersions: (plane?.keys[KEY_NAME]?.versions ?? []).map(v => ({
      kty: v.kty,
      keySize: v.keySize,
      keyOps: [...v.keyOps].sort(),
      enabled: v.enabled
    })),
    assignments: Object.values(plane?.roleAssignments ?? {})
      .map(a => `${label(a.principalId)} ${a.roleDefinitionId.split('/').pop()} ${a.scope}`)
      .sort(),
    accounts: Object.values(world.cosmosAccounts)
      .map(a => ({
        name: a.name,
        keyVaultKeyUri: a.keyVaultKeyUri,
        defaultIdentity: a.defaultIdentity.replace(/=.*$/, '=' + names.identity),
        identityType: a.identityType,
        userAssignedIdentities: a.userAssignedIdentities.map(id => id.split('/').pop() ?? id),
        provisioningState: a.provisioningState
      }))
      .sort((x, y) => x.name.localeCompare(y.name))
  }
}

function principalLabels(world: World): (id: string) => string {
  const known = new Map<string, string>()
  for (const app of Object.values(world.applications)) {
    known.set(app.servicePrincipalId.toLowerCase(), `app:${app.displayName}`)
  }
  for (const sp of Object.values(world.servicePrincipals)) {
    if (sp.appId.toLowerCase() === COSMOS_APP_ID)
      known.set(sp.id.toLowerCase(), 'cosmos-first-party')
  }
  for (const uai of Object.values(world.userAssignedIdentities)) {
    known.set(uai.principalId.toLowerCase(), `uai:${uai.name}`)
  }
  for (const account of Object.values(world.cosmosAccounts)) {
    if (account.systemAssignedPrincipalId) {
      known.set(account.systemAssignedPrincipalId.toLowerCase(), `system:${account.name}`)
    }
  }
  return id => known.get(id.toLowerCase()) ?? `unknown:${id}`
}

/**
 * Everything "converged" means: providers registered, exactly one key version fit for Cosmos DB,
 * exactly one assignment per (principal, role, scope), no grant to a principal the directory does
 * not know, the pipeline's key access, and each account once, on the key, with the default
 * identity of its mode and that identity granted the key. Answers the problems found (none when
 * converged).
 */
export function convergenceProblems(state: EndState, accounts: AccountExpectation[]): string[] {
  const problems: string[] = []
  const keyUri = `https://${names.hsm}.managedhsm.azure.net/keys/${KEY_NAME}`
  for (const [ns, s] of Object.entries(state.providers)) {
    if (s !== 'Registered') problems.push(`provider ${ns} is ${s}`)
  }
  if (state.keyVersions.length !== 1) {
    problems.push(`key has ${state.keyVersions.length} versions`)
  }
  for (const v of state.keyVersions) {
    if (v.kty !== 'RSA-HSM' || v.keySize !== 3072 || !v.enabled) {
      problems.push(`key version ${JSON.stringify(v)}`)
    }
    if (!v.keyOps.includes('wrapKey') || !v.keyOps.includes('unwrapKey')) {
      problems.push(`key ops ${v.keyOps.join(',')}`)
    }
  }
  const seen = new Set<string>()
  for (const a of state.assignments) {
    if (seen.has(a)) problems.push(`duplicate assignment ${a}`)
    seen.add(a)
    if (a.startsWith('unknown:')) problems.push(`assignment to an unknown principal: ${a}`)
  }
  const holds = (principal: string) =>
    state.assignments.some(
      a =>
        a.startsWith(`${principal} ${ROLE.serviceEncryptionUser} `) &&
        (a.endsWith(` /keys/${KEY_NAME}`) || a.endsWith(' /keys'))
    )
  if (!state.assignments.includes(`app:github-deployer ${ROLE.cryptoUser} /keys`)) {
    problems.push('the pipeline has no Crypto User at /keys')
  }
  for (const expected of accounts) {
    const found = state.accounts.filter(a => a.name === expected.name)
    if (found.length !== 1) {
      problems.push(`account ${expected.name} found ${found.length} times`)
      continue
    }
    const account = found[0]
    if (account.keyVaultKeyUri !== keyUri) {
      problems.push(`account ${account.name} key ${account.keyVaultKeyUri}`)
    }
    if (account.provisioningState !== 'Succeeded') {
      problems.push(`account ${account.name} is ${account.provisioningState}`)
    }
    const wanted = {
      'first-party': ['FirstPartyIdentity', 'cosmos-first-party'],
      'user-assigned': [`UserAssignedIdentity=${names.identity}`, `uai:${names.identity}`],
      'system-assigned': ['SystemAssignedIdentity', `system:${account.name}`]
    }[expected.mode]
    if (account.defaultIdentity !== wanted[0]) {
      problems.push(`account ${account.name} default identity ${account.defaultIdentity}`)
    }
    if (!holds(wanted[1])) problems.push(`${wanted[1]} cannot reach the key`)
  }
  return problems
}

const jwtShape = /eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\./g
const maskCommand = /^::add-mask::/

/** Every byte the action wrote, except the `::add-mask::` commands the runner consumes. */
export function visibleOutput(result: ActionRun): Record<string, string> {
  const stdout = result.stdout
    .split('\n')
    .filter(line => !maskCommand.test(line))
    .join('\n')
  return {
    stdout,
    stderr: result.stderr,
    outputs: Object.entries(result.outputs)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n'),
    summary: result.summary
  }
}

/**
 * Where any secret shows up in what the action wrote: each issued token (or its signature alone),
 * the runner's ID-token request token, and anything JWT-shaped.
 */
export function secretLeaks(
  result: ActionRun,
  issued: IssuedTokens,
  extraSecrets: string[] = []
): string[] {
  const tokens = (label: string, list: string[]) =>
    list.flatMap((token, i) => [
      { label: `${label} ${i + 1}`, value: token },
      { label: `the signature of ${label} ${i + 1}`, value: token.split('.')[2] ?? token }
    ])
  const needles = [
    ...tokens('access token', issued.accessTokens),
    ...tokens('ID token', issued.idTokens),
    ...extraSecrets.map((value, i) => ({ label: `secret ${i + 1}`, value }))
  ].filter(n => n.value.length >= 16)
  const leaks: string[] = []
  for (const [where, text] of Object.entries(visibleOutput(result))) {
    for (const needle of needles) {
      if (text.includes(needle.value)) leaks.push(`${where} contains ${needle.label}`)
    }
    for (const match of text.match(jwtShape) ?? []) {
      leaks.push(`${where} contains a JWT-shaped string ${match.length} characters long`)
    }
  }
  return leaks
}

export type CrashVariant = 'lands' | 'cut-off'

export interface Crash {
  /** Pass to `run` as `onSpawn`. */
  onSpawn(child: ChildProcess): void
  /** The write the action was killed at, once it was. */
  readonly at: string | undefined
  /**
   * Resolves once that write has been served (at once for a cut-off one): a re-run on a real
   * runner starts long after the service finished, never while it still works on the request.
   */
  settled(): Promise<void>
  dispose(): void
}

/**
 * SIGKILLs the action at its `n`th write: as the write reaches its service (`lands`: it is carried
 * out, the action never learns the outcome) or instead of it (`cut-off`: the connection is reset).
 */
export function crashAtWrite(emulator: Emulator, n: number, variant: CrashVariant): Crash {
  let child: ChildProcess | undefined
  let seen = 0
  let hit: PendingRequest | undefined
  let landed = () => {}
  const served = new Promise<void>(resolve => (landed = resolve))
  const killAtNth = (request: PendingRequest): boolean => {
    if (request.kind !== 'write' || ++seen !== n) return false
    hit = request
    child?.kill('SIGKILL')
    return true
  }
  const before = (request: PendingRequest) => void killAtNth(request)
  const logged = (entry: RequestLogEntry) => {
    if (hit && entry.method === hit.method && entry.host === hit.host && entry.path === hit.path) {
      landed()
    }
  }
  if (variant === 'lands') {
    emulator.on('before-request', before)
    emulator.on('request', logged)
  } else {
    emulator.intercept(request => (killAtNth(request) ? 'reset' : 'continue'))
  }
  return {
    onSpawn: c => (child = c),
    get at() {
      return hit && `${hit.method} ${hit.host}${hit.path}`
    },
    settled: () => (variant === 'lands' && hit ? served : Promise.resolve()),
    dispose: () => {
      emulator.off('before-request', before as (arg: never) => void)
      emulator.off('request', logged as (arg: never) => void)
      emulator.intercept(undefined)
    }
  }
}

/** Runs `work` over `items` with at most `limit` at a time, keeping the order of results. */
export async function inBatches<T, R>(
  items: T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>
): Promise<R[]> {
  const results: R[] = new Array(items.length)
  let next = 0
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++
      results[i] = await work(items[i], i)
    }
  })
  await Promise.all(lanes)
  return results
}
