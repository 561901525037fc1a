/**
 * Where a run's time went: each step of the critical-path DAG is found in the request log, and
 * compared with the moment Azure would have allowed it given when the run actually did the steps
 * it depends on. The difference ("slack") is time the client added: a step started serially after
 * something Azure does not require, or a poll that came late (overshoot).
 */
import {
  cosmosServicePrincipal,
  isKeyCreation,
  type Emulator,
  type RequestLogEntry
} from '../testkit/index.js'
import {
  accountOfStep,
  baseOfStep,
  type CriticalPath,
  type Dag,
  type Link
} from './critical-path.js'
import type { LatencyModel } from './latency-model.js'
import type { MatrixJob } from './measure.js'

export interface Names {
  hsm: string
  key: string
  account: string
  identity?: string
}

interface Principals {
  admin?: string
  cosmos?: string
  system?: string
}

export interface StepTiming {
  id: string
  what: string
  /** Earliest start on the critical-path schedule, ms from the first request. */
  earliest: number
  /** When the run's successful request for this step arrived, ms from its first request. */
  actual?: number
  /** When Azure would have allowed it, given the run's own earlier steps. */
  allowedAt?: number
  slack?: number
  /** Answers other than 2xx for this step's request (e.g. 403 until a grant propagated). */
  refusedAttempts: number
  onCriticalPath: boolean
  /** A read that waits for a state change (its slack is poll overshoot). */
  observes: boolean
}

export interface RunAnalysis {
  steps: StepTiming[]
  /** Non-token requests beyond the DAG's own. */
  extraRequests: number
  /** Key Vault style 401 challenges answered before the real request. */
  challenges: number
  /** Answers 429 (Resource Manager's write budget spent), and the Retry-After they asked for, s. */
  throttled: number
  throttledWaitSeconds: number
  /** Time from the last step's answer to the process exit, ms. */
  exitTailMs?: number
  /** ms from the first request to the last step's answer in this run. */
  activeMs?: number
  failedByEndpoint: { endpoint: string; statuses: string; count: number }[]
}

const ok = (e: RequestLogEntry) => e.status >= 200 && e.status < 300
const ci = (s: string) => new RegExp(s, 'i')
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
const ARM = 'management.azure.com'
const GRAPH = 'graph.microsoft.com'
const RUNNER = 'pipelines.actions.githubusercontent.com'

type Matcher = (e: RequestLogEntry) => boolean

const entraToken: Matcher = e =>
  e.host === 'login.microsoftonline.com' && e.method === 'POST' && /\/token$/.test(e.path)

/** The account (lower case) each Cosmos DB long-running operation is about, by operation id. */
function operationAccounts(emulator: Emulator): Map<string, string> {
  const byOperation = new Map<string, string>()
  for (const op of Object.values(emulator.store.world.operations)) {
    const account = /\/databaseAccounts\/([^/]+)$/i.exec(op.resourceId)?.[1]
    if (account) byOperation.set(op.id.toLowerCase(), account.toLowerCase())
  }
  return byOperation
}

function matchers(
  names: Names,
  principalOf: (name: string) => string | undefined,
  p: Principals,
  operationAccount: (id: string) => string | undefined
) {
  const hsmHost = `${names.hsm}.managedhsm.azure.net`.toLowerCase()
  const on =
    (host: string, method: string, path: RegExp): Matcher =>
    e =>
      e.host === host && e.method === method && path.test(e.path)
  const grantTo =
    (principal: string | undefined): Matcher =>
    e => {
      if (e.host !== hsmHost || e.method !== 'PUT' || !/\/roleAssignments\/[^/]+$/i.test(e.path))
        return false
      const name = e.path.split('/').pop()!.toLowerCase()
      return principal !== undefined && principalOf(name) === principal.toLowerCase()
    }
  const account = ci(`/databaseAccounts/${esc(names.account)}$`)
  const ownPoll = ci(`/databaseAccounts/${esc(names.account)}(/operationResults/[^/]+)?$`)
  // an operation's status names no account: the local Azure's operations say which it is about
  const accountPoll: Matcher = e => {
    if (e.host !== ARM || e.method !== 'GET') return false
    if (ownPoll.test(e.path)) return true
    // a fleet sees its creations through lists of the resource group's accounts
    if (/\/providers\/Microsoft\.DocumentDB\/databaseAccounts$/i.test(e.path)) return true
    const op = /\/operation(?:sStatus|Results)\/([^/]+)$/i.exec(e.path)?.[1]
    if (op === undefined) return false
    const about = operationAccount(op.toLowerCase())
    return about === undefined || about === names.account.toLowerCase()
  }
  const hsmArm = ci(`/managedHSMs/${esc(names.hsm)}$`)
  const m: Record<string, Matcher> = {
    githubIdToken: e => e.host === RUNNER,
    // the log does not say which audience a token was for: the first one bounds them all
    armToken: entraToken,
    hsmToken: entraToken,
    graphToken: entraToken,
    registerDocumentDb: on(ARM, 'POST', ci('/providers/Microsoft\\.DocumentDB/register$')),
    documentDbRegistered: on(ARM, 'GET', ci('/providers/Microsoft\\.DocumentDB$')),
    registerKeyVault: on(ARM, 'POST', ci('/providers/Microsoft\\.KeyVault/register$')),
    keyVaultRegistered: on(ARM, 'GET', ci('/providers/Microsoft\\.KeyVault$')),
    hsmCreate: on(ARM, 'PUT', hsmArm),
    hsmProvisioned: e =>
      e.host === ARM &&
      e.method === 'GET' &&
      (/\/managedHsmOperationResults\//i.test(e.path) || hsmArm.test(e.path)),
    securityDomainDownload: on(hsmHost, 'POST', /^\/securitydomain\/download$/i),
    hsmActive: e =>
      e.method === 'GET' &&
      ((e.host === hsmHost && /^\/securitydomain\/download\/pending$/i.test(e.path)) ||
        (e.host === ARM && hsmArm.test(e.path))),
    adminGrant: grantTo(p.admin),
    keyCreate: e => isKeyCreation(e) && ci(`/keys/${esc(names.key)}(/create)?$`).test(e.path),
    cosmosPrincipal: names.identity
      ? on(ARM, 'GET', ci(`/userAssignedIdentities/${esc(names.identity)}$`))
      : e => e.host === GRAPH && e.method === 'GET' && /servicePrincipals/i.test(e.path),
    cosmosGrant: grantTo(p.cosmos),
    accountCreate: on(ARM, 'PUT', account),
    accountReady: accountPoll,
    systemGrant: grantTo(p.system),
    defaultIdentityUpdate: e =>
      e.host === ARM && (e.method === 'PATCH' || e.method === 'PUT') && account.test(e.path),
    updateReady: accountPoll,
    providersRead: on(ARM, 'GET', ci('/providers/Microsoft\\.[A-Za-z]+$')),
    hsmRead: on(ARM, 'GET', hsmArm),
    accountRead: on(ARM, 'GET', account),
    keyRead: e =>
      e.method === 'GET' &&
      ((e.host === hsmHost && ci(`^/keys/${esc(names.key)}(/|$)`).test(e.path)) ||
        (e.host === ARM &&
          ci(`/managedHSMs/${esc(names.hsm)}/keys/${esc(names.key)}$`).test(e.path))),
    grantsRead: e => e.host === hsmHost && e.method === 'GET' && /roleAssignments/i.test(e.path)
  }
  return m
}

function principalsOf(emulator: Emulator, names: Names): Principals {
  const world = emulator.store.world
  const app = Object.values(world.applications)[0]
  const account = Object.values(world.cosmosAccounts).find(
    a => a.name.toLowerCase() === names.account.toLowerCase()
  )
  const identity = names.identity
    ? Object.values(world.userAssignedIdentities).find(i => i.name === names.identity)
    : undefined
  const firstParty = cosmosServicePrincipal(world)
  return {
    ...(app ? { admin: app.servicePrincipalId.toLowerCase() } : {}),
    ...((identity ?? firstParty)
      ? { cosmos: (identity?.principalId ?? firstParty!.id).toLowerCase() }
      : {}),
    ...(account?.systemAssignedPrincipalId
      ? { system: account.systemAssignedPrincipalId.toLowerCase() }
      : {})
  }
}

function endpointOf(e: RequestLogEntry, accounts: ReadonlySet<string>): string {
  const path = e.path
    .replace(/\/databaseAccounts\/([^/]+)/i, (all, name: string) =>
      accounts.has(name.toLowerCase()) ? '/databaseAccounts/{account}' : all
    )
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '{id}')
    .replace(/\/subscriptions\/\{id\}\/resourceGroups\/[^/]+/i, '…')
    .replace(/\/subscriptions\/\{id\}/i, '…')
  return `${e.method} ${e.host === ARM ? '' : e.host.split('.')[0] + ':'}${path}`
}

export function analyseRun(
  emulator: Emulator,
  dag: Dag,
  cp: CriticalPath,
  model: LatencyModel,
  log: RequestLogEntry[],
  names: Names,
  exitAt: number
): RunAnalysis {
  const world = emulator.store.world
  const plane = world.hsmDataPlanes[names.hsm.toLowerCase()]
  const principalOf = (name: string) => plane?.roleAssignments[name]?.principalId.toLowerCase()
  const principals = principalsOf(emulator, names)
  const operations = operationAccounts(emulator)
  const forAccount = new Map<string, Record<string, Matcher>>()
  // the steps of one account of a fleet (`accountCreate:name`) match that account's requests
  const matcherOf = (id: string): Matcher | undefined => {
    const account = accountOfStep(id) ?? names.account
    let m = forAccount.get(account)
    if (!m) {
      m = matchers({ ...names, account }, principalOf, principals, op => operations.get(op))
      forAccount.set(account, m)
    }
    return m[baseOfStep(id)]
  }
  const served = log.filter(e => e.method !== 'CONNECT')
  const t0 = served.length > 0 ? Date.parse(served[0]!.time) : 0
  const at = (e: RequestLogEntry) => Date.parse(e.time) - t0
  const critical = new Set(cp.path.map(s => s.id))
  const incoming = (id: string): Link[] => dag.links.filter(l => l.to === id)
  const actual: Record<string, number | undefined> = {}
  const timings: StepTiming[] = []
  const used = new Set<RequestLogEntry>()

  const pending = dag.steps.map(s => s.id)
  // steps in the schedule's order, so every step's predecessors are resolved first
  pending.sort((a, b) => cp.schedule[a]!.start - cp.schedule[b]!.start)
  for (const id of pending) {
    const s = cp.schedule[id]!
    const m = matcherOf(id)
    const links = incoming(id)
    const base = (from: string) => actual[from] ?? cp.schedule[from]!.start
    const allowedAt = links.length
      ? Math.max(
          ...links.map(
            l => base(l.from) + (l.wait === 'response' ? model.requestLatency : model[l.wait])
          )
        )
      : 0
    const settles = links.some(l => l.wait !== 'response')
    let found: RequestLogEntry | undefined
    let refused = 0
    if (m) {
      const candidates = served.filter(e => m(e) && !used.has(e))
      if (baseOfStep(id) === 'defaultIdentityUpdate') {
        found = candidates.filter(ok).pop()
      } else if (s.kind === 'read' || s.kind === 'poll') {
        // a read counts only once what it depends on is there (earlier reads served another step)
        found = candidates.find(e => ok(e) && at(e) >= allowedAt)
      } else {
        found = candidates.find(ok)
        refused = candidates.filter(
          e => !ok(e) && e.status !== 401 && (!found || e.seq < found.seq)
        ).length
      }
      if (found && s.kind === 'write') used.add(found)
    }
    actual[id] = found ? at(found) : undefined
    timings.push({
      id,
      what: s.what,
      earliest: s.start,
      ...(found ? { actual: at(found), allowedAt, slack: at(found) - allowedAt } : {}),
      refusedAttempts: refused,
      onCriticalPath: critical.has(id),
      observes: settles && s.kind !== 'write' && s.kind !== 'token'
    })
  }

  // the last step of the critical path; in a fleet, whichever account's came last
  const last = cp.path[cp.path.length - 1]!
  let activeMs: number | undefined
  for (const s of dag.steps.filter(x => baseOfStep(x.id) === baseOfStep(last.id))) {
    const stepActual = actual[s.id]
    const entry = served.find(
      e => stepActual !== undefined && at(e) === stepActual && matcherOf(s.id)?.(e)
    )
    if (entry) activeMs = Math.max(activeMs ?? 0, at(entry) + entry.durationMs)
  }
  const failed = new Map<string, { statuses: Set<number>; count: number }>()
  // a fleet's accounts are one endpoint each: `{account}`
  const fleetAccounts = new Set(
    dag.steps.map(s => accountOfStep(s.id)?.toLowerCase()).filter((a): a is string => !!a)
  )
  for (const e of served) {
    if (ok(e) || e.status === 401 || e.kind === 'token') continue
    const key = endpointOf(e, fleetAccounts)
    const f = failed.get(key) ?? { statuses: new Set(), count: 0 }
    f.statuses.add(e.status)
    f.count++
    failed.set(key, f)
  }
  const dagRequests = dag.steps.filter(s => s.kind !== 'token').length
  const throttled = served.filter(e => e.status === 429)
  return {
    steps: timings.sort((a, b) => (a.actual ?? a.earliest) - (b.actual ?? b.earliest)),
    extraRequests: served.filter(e => e.kind !== 'token').length - dagRequests,
    challenges: served.filter(e => e.status === 401).length,
    throttled: throttled.length,
    throttledWaitSeconds: throttled.reduce((sum, e) => sum + (e.retryAfterSeconds ?? 0), 0),
    ...(activeMs !== undefined ? { activeMs, exitTailMs: exitAt - t0 - activeMs } : {}),
    failedByEndpoint: [...failed].map(([endpoint, f]) => ({
      endpoint,
      statuses: [...f.statuses].join('/'),
      count: f.count
    }))
  }
}

/** The biggest contributors, in words, for a run that missed its target. */
export function explain(a: RunAnalysis, coldStartMs: number | undefined): string[] {
  const lines: string[] = []
  if (coldStartMs !== undefined) lines.push(`cold start ${coldStartMs} ms before the first request`)
  const slow = a.steps
    .filter(s => s.slack !== undefined && s.slack >= 100)
    .sort((x, y) => y.slack! - x.slack!)
  for (const s of slow.slice(0, 6)) {
    const kind = s.observes ? 'poll overshoot' : 'started after Azure allowed it'
    lines.push(
      `${s.id}${s.onCriticalPath ? ' (critical)' : ''}: ${kind} by ${s.slack} ms (allowed at ${s.allowedAt} ms, done at ${s.actual} ms)`
    )
  }
  if (a.throttled > 0)
    lines.push(
      `${a.throttled} answers 429 (write budget spent), asking for ${a.throttledWaitSeconds} s of Retry-After in all`
    )
  if (a.exitTailMs !== undefined && a.exitTailMs >= 100)
    lines.push(`${a.exitTailMs} ms from the last answer to the process exit`)
  if (a.extraRequests > 0) {
    const refused = a.failedByEndpoint
      .map(f => `${f.count}× ${f.statuses} ${f.endpoint}`)
      .join('; ')
    lines.push(
      `${a.extraRequests} requests beyond the DAG's, ${a.challenges} of them 401 challenges${refused ? `; refused: ${refused}` : ''}`
    )
  }
  return lines
}

const spread = (values: number[]): string =>
  values.length === 0
    ? '-'
    : Math.min(...values) === Math.max(...values)
      ? `${Math.min(...values)}`
      : `${Math.min(...values)}-${Math.max(...values)}`

/** The accounts of a fleet whose creations began together (no gap of a second between them). */
export interface CreationGroup {
  accounts: string[]
  /** The creating PUTs, ms from the run's first request. */
  createdFrom: number
  createdTo: number
  /** When Azure would have allowed them: the latest among the group. */
  allowedAt: number
  /** How long after that they came: least and most. */
  slackMin: number
  slackMax: number
  /** When a poll showed them Succeeded: first and last. */
  readyFrom: number
  readyTo: number
  /** Poll overshoot (Succeeded seen after the creation completed): least and most. */
  overshootMin: number
  overshootMax: number
}

export interface FleetTimeline {
  groups: CreationGroup[]
  /** The most accounts between their creating PUT and the poll or list that saw them Succeeded at once. */
  mostAtOnce: number
  /** Refused creating PUTs (429 among them). */
  refusedCreations: number
}

/** The accounts' creations of a fleet run, grouped by when they began. */
export function fleetTimeline(a: RunAnalysis, accounts: readonly string[]): FleetTimeline {
  const step = (base: string, account: string) => a.steps.find(s => s.id === `${base}:${account}`)
  const rows = accounts
    .map(account => ({
      account,
      create: step('accountCreate', account)!,
      ready: step('accountReady', account)!
    }))
    .filter(r => r.create?.actual !== undefined && r.ready?.actual !== undefined)
    .sort((x, y) => x.create.actual! - y.create.actual!)
  const groups: CreationGroup[] = []
  let current: typeof rows = []
  const close = () => {
    if (!current.length) return
    const slacks = current.map(r => r.create.slack!)
    const overshoots = current.map(r => r.ready.slack!)
    groups.push({
      accounts: current.map(r => r.account),
      createdFrom: current[0]!.create.actual!,
      createdTo: current.at(-1)!.create.actual!,
      allowedAt: Math.max(...current.map(r => r.create.allowedAt!)),
      slackMin: Math.min(...slacks),
      slackMax: Math.max(...slacks),
      readyFrom: Math.min(...current.map(r => r.ready.actual!)),
      readyTo: Math.max(...current.map(r => r.ready.actual!)),
      overshootMin: Math.min(...overshoots),
      overshootMax: Math.max(...overshoots)
    })
    current = []
  }
  for (const r of rows) {
    if (current.length && r.create.actual! - current.at(-1)!.create.actual! >= 1000) close()
    current.push(r)
  }
  close()
  let mostAtOnce = 0
  for (const r of rows) {
    const open = rows.filter(
      o => o.create.actual! <= r.create.actual! && o.ready.actual! >= r.create.actual!
    ).length
    mostAtOnce = Math.max(mostAtOnce, open)
  }
  const refusedCreations = accounts.reduce(
    (sum, account) => sum + (step('accountCreate', account)?.refusedAttempts ?? 0),
    0
  )
  return { groups, mostAtOnce, refusedCreations }
}

export function fleetGroupRows(t: FleetTimeline): string[][] {
  return t.groups.map((g, i) => [
    String(i + 1),
    String(g.accounts.length),
    spread([g.createdFrom, g.createdTo]),
    String(g.allowedAt),
    spread([g.slackMin, g.slackMax]),
    spread([g.readyFrom, g.readyTo]),
    spread([g.overshootMin, g.overshootMax])
  ])
}

/** One account job of a matrix, from its spawn. */
export interface JobTiming {
  account: string
  /** Spawn to the creating PUT's arrival, ms: start-up, sign-in and the reads before the write. */
  toCreateMs?: number
  /** The creating PUT to the poll that saw it Succeeded, ms. */
  createToReadyMs?: number
  /** That poll to the process exit, ms. */
  readyToExitMs?: number
  wallMs: number
  cpuMs?: number
  peakRssKb?: number
}

/** Each account job's time, split at its account's creating PUT and the poll that saw it done. */
export function jobTimings(
  emulator: Emulator,
  model: LatencyModel,
  log: RequestLogEntry[],
  jobs: MatrixJob[]
): JobTiming[] {
  const operations = operationAccounts(emulator)
  return jobs.map(job => {
    const name = job.account.toLowerCase()
    const create = log.find(
      e =>
        e.host === ARM &&
        e.method === 'PUT' &&
        ok(e) &&
        ci(`/databaseAccounts/${esc(name)}$`).test(e.path)
    )
    const created = create ? Date.parse(create.time) : undefined
    const ready =
      created === undefined
        ? undefined
        : log.find(e => {
            if (e.host !== ARM || e.method !== 'GET' || !ok(e)) return false
            const op = /\/operationsStatus\/([^/]+)$/i.exec(e.path)?.[1]?.toLowerCase()
            return (
              op !== undefined &&
              operations.get(op) === name &&
              Date.parse(e.time) >= created + model.cosmosCreate
            )
          })
    const readyAt = ready ? Date.parse(ready.time) + ready.durationMs : undefined
    const exit = job.spawnedAt + job.wallMs
    return {
      account: job.account,
      ...(created !== undefined ? { toCreateMs: created - job.spawnedAt } : {}),
      ...(created !== undefined && readyAt !== undefined
        ? { createToReadyMs: readyAt - created, readyToExitMs: exit - readyAt }
        : {}),
      wallMs: job.wallMs,
      ...(job.cpuMs !== undefined ? { cpuMs: job.cpuMs } : {}),
      ...(job.peakRssKb !== undefined ? { peakRssKb: job.peakRssKb } : {})
    }
  })
}
