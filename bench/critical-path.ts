/**
 * The critical path: the shortest time in which ANY client could finish, given only what Azure
 * itself imposes. Each scenario is a DAG of requests; a link says "this request cannot start
 * before that one answered" (`response`) or "before that one's effect has settled" (a latency-model
 * delay counted from when the earlier request reached Azure). Every request takes one round trip
 * (`requestLatency`); the local Azure applies a request's effect when it arrives and the latency on
 * the way back, so a delay is counted from the earlier request's start. The order the action
 * happens to use plays no part.
 *
 * Resource Manager's write budget (`armWriteBucket`, refilled at `armWriteRefillPerSecond`) is the
 * one limit that is not a link: every ARM write takes a token, and a write that finds the bucket
 * empty can start only once a token is back. The schedule hands the tokens out in the order the
 * writes could start, so the budget delays a write only when more writes than the bucket holds
 * want to go at once (a fleet's account creations).
 */
import type { LatencyModel, LatencyModelSetting } from './latency-model.js'

export type StepKind = 'token' | 'read' | 'write' | 'poll'

export type Delay = Exclude<keyof LatencyModel, LatencyModelSetting>

/** One request on Azure's side of the chain. */
export interface Step {
  id: string
  kind: StepKind
  what: string
  /** A write to Resource Manager (PUT, PATCH, POST under a subscription): it spends the budget. */
  arm?: boolean
}

export interface Link {
  from: string
  to: string
  /** `response`: after `from` answered; a delay: after `from` reached Azure plus that delay. */
  wait: 'response' | Delay
  why: string
}

export interface Dag {
  steps: Step[]
  links: Link[]
}

export interface ScheduledStep extends Step {
  /** Earliest start, ms after the first request could start. */
  start: number
  /** The link that decided `start` (none for the first requests). */
  decidedBy?: Link
  /** How long the ARM write budget held the step back after its links allowed it, ms. */
  budgetWaitMs?: number
}

export interface CriticalPath {
  /** ms from the first request's start to the last answer. */
  totalMs: number
  schedule: Record<string, ScheduledStep>
  /** The steps on the longest path, first to last. */
  path: ScheduledStep[]
}

const step = (id: string, kind: StepKind, what: string): Step => ({ id, kind, what })
const armWrite = (id: string, what: string): Step => ({ id, kind: 'write', what, arm: true })

/** A step of one account of a fleet: `accountCreate:name`; the single-account DAGs use the bare id. */
export const accountStepId = (base: string, account?: string): string =>
  account === undefined ? base : `${base}:${account}`

/** The account a step id names (`accountCreate:name` → name), if any. */
export const accountOfStep = (id: string): string | undefined =>
  id.includes(':') ? id.slice(id.indexOf(':') + 1) : undefined

/** A step id without its account: `accountCreate:name` → `accountCreate`. */
export const baseOfStep = (id: string): string => id.split(':')[0]!
const link = (from: string, to: string, wait: Link['wait'], why: string): Link => ({
  from,
  to,
  wait,
  why
})

const TOKEN = 'Entra takes the GitHub ID token as the client assertion of the token request'
const ARM_AUTH = 'ARM answers only requests that carry a bearer token'
const HSM_AUTH = 'the HSM data plane answers only requests that carry a bearer token'
const GRAPH_AUTH = 'Microsoft Graph answers only requests that carry a bearer token'
const REGISTERED =
  'ARM refuses writes to a namespace that is not registered (MissingSubscriptionRegistration)'
const PROPAGATED = 'the HSM enforces a new local RBAC assignment only after it propagated'

/** Sign-in: one GitHub ID token, then one access token per audience, in parallel. */
function signIn(audiences: ('arm' | 'hsm' | 'graph')[]): Dag {
  const steps = [step('githubIdToken', 'token', 'GitHub ID token')]
  const links: Link[] = []
  for (const audience of audiences) {
    steps.push(step(`${audience}Token`, 'token', `access token for ${audience.toUpperCase()}`))
    links.push(link('githubIdToken', `${audience}Token`, 'response', TOKEN))
  }
  return { steps, links }
}

function merge(...parts: Dag[]): Dag {
  const steps = new Map<string, Step>()
  for (const part of parts) for (const s of part.steps) steps.set(s.id, s)
  return { steps: [...steps.values()], links: parts.flatMap(p => p.links) }
}

/** Registering one resource provider and seeing it Registered. */
function registration(id: 'DocumentDb' | 'KeyVault'): Dag {
  const namespace = id === 'DocumentDb' ? 'Microsoft.DocumentDB' : 'Microsoft.KeyVault'
  const register = `register${id}`
  const registered = `${id.charAt(0).toLowerCase()}${id.slice(1)}Registered`
  return {
    steps: [
      armWrite(register, `register ${namespace}`),
      step(registered, 'read', `see ${namespace} Registered`)
    ],
    // prettier-ignore
    links: [
      link('armToken', register, 'response', ARM_AUTH),
      link(register, registered, 'providerRegistration', 'registration completes later; only a read shows it (no callback)')
    ]
  }
}

/** Admin grant, key and the Cosmos DB principal's grant on an activated HSM: the shared chain. */
function keyAndGrants(principal: 'first-party' | 'user-assigned'): Dag {
  const lookup =
    principal === 'first-party'
      ? {
          steps: [step('cosmosPrincipal', 'read', "Graph: Azure Cosmos DB's service principal")],
          // prettier-ignore
          links: [link('graphToken', 'cosmosPrincipal', 'response', GRAPH_AUTH)]
        }
      : {
          steps: [
            step('cosmosPrincipal', 'read', "ARM: the user-assigned identity's principal id")
          ],
          // prettier-ignore
          links: [link('armToken', 'cosmosPrincipal', 'response', ARM_AUTH)]
        }
  return merge(registration('DocumentDb'), lookup, {
    steps: [
      step('adminGrant', 'write', 'grant Managed HSM Crypto User to the signed-in principal'),
      step('keyCreate', 'write', 'create the RSA-HSM key'),
      step('cosmosGrant', 'write', "grant Crypto Service Encryption User to the account's identity")
    ],
    // prettier-ignore
    links: [
      link('hsmToken', 'adminGrant', 'response', `${HSM_AUTH} (the admin's object id is the token's oid)`),
      link('adminGrant', 'keyCreate', 'rbacPropagation', `${PROPAGATED}: keys/create is denied (403) until then`),
      link('cosmosPrincipal', 'cosmosGrant', 'response', "the assignment names the principal's object id"),
      link('hsmToken', 'cosmosGrant', 'response', HSM_AUTH)
    ]
  })
}

/**
 * One account's creation on the shared chain (`account` names it in a fleet). `armToken` is the
 * token its creating PUT carries: the run's own, or in a matrix the account job's.
 */
function accountChain(account?: string, armToken = 'armToken'): Dag {
  const create = accountStepId('accountCreate', account)
  const ready = accountStepId('accountReady', account)
  const of = account === undefined ? '' : ` ${account}`
  return {
    steps: [
      armWrite(create, `create the Cosmos DB account${of} with the key`),
      step(ready, 'poll', `see the account${of} creation Succeeded`)
    ],
    // prettier-ignore
    links: [
      link('keyCreate', create, 'response', 'Cosmos DB checks at creation that the key exists and is usable'),
      link('cosmosGrant', create, 'rbacPropagation', `${PROPAGATED}: Cosmos DB checks its identity can wrap/unwrap (KeyVaultAuthenticationFailure)`),
      link('documentDbRegistered', create, 'response', REGISTERED),
      link(armToken, create, 'response', ARM_AUTH),
      link(create, ready, 'cosmosCreate', 'the creation completes later; only a poll shows it')
    ]
  }
}

/** Admin grant, key, the Cosmos DB principal's grant and the account, on an activated HSM. */
function keyAndAccount(principal: 'first-party' | 'user-assigned'): Dag {
  return merge(keyAndGrants(principal), accountChain())
}

/**
 * A matrix's account job: it starts once the prepare job has ended (`needs:`), which is when the
 * last of the prepare job's requests has answered; it signs in again and creates its account.
 */
function matrixJob(account: string, prepare: Dag): Dag {
  const idToken = accountStepId('jobIdToken', account)
  const armToken = accountStepId('jobArmToken', account)
  return merge(
    {
      steps: [
        step(idToken, 'token', `the job of ${account}: GitHub ID token`),
        step(armToken, 'token', `the job of ${account}: access token for ARM`)
      ],
      links: [
        ...prepare.steps.map(s =>
          link(
            s.id,
            idToken,
            'response',
            'an account job starts when the prepare job has ended (needs: prepare)'
          )
        ),
        link(idToken, armToken, 'response', TOKEN)
      ]
    },
    accountChain(account, armToken)
  )
}

/**
 * System-assigned: Azure accepts `identity: SystemAssigned` with `defaultIdentity:
 * FirstPartyIdentity` in the creating PUT, so the system identity exists from the creation on;
 * the switch of the default identity is the only step after it.
 */
function systemAssignedSwitch(): Dag {
  return {
    steps: [
      step(
        'systemGrant',
        'write',
        'grant Crypto Service Encryption User to the system-assigned identity'
      ),
      armWrite('defaultIdentityUpdate', 'set defaultIdentity SystemAssignedIdentity'),
      step('updateReady', 'poll', 'see the account update Succeeded')
    ],
    // prettier-ignore
    links: [
      link('accountCreate', 'systemGrant', 'response', "the account's answer carries the system-assigned principal id"),
      link('accountCreate', 'systemGrant', 'principalReplication', 'a new principal can be granted a role only once the directory replicated it (PrincipalNotFound)'),
      link('hsmToken', 'systemGrant', 'response', HSM_AUTH),
      link('systemGrant', 'defaultIdentityUpdate', 'rbacPropagation', `${PROPAGATED}: Cosmos DB checks the new default identity can wrap/unwrap`),
      link('accountReady', 'defaultIdentityUpdate', 'response', 'Cosmos DB refuses an update while the creation runs (412 PreconditionFailed)'),
      link('defaultIdentityUpdate', 'updateReady', 'cosmosUpdate', 'the update completes later; only a poll shows it')
    ]
  }
}

/** Creating and activating the HSM (both providers start NotRegistered). */
function hsmCreation(): Dag {
  return merge(registration('KeyVault'), {
    steps: [
      armWrite('hsmCreate', 'create the Managed HSM'),
      step('hsmProvisioned', 'poll', 'see the HSM provisioned'),
      step('securityDomainDownload', 'write', 'download the security domain (activation)'),
      step('hsmActive', 'poll', 'see the HSM Active')
    ],
    // prettier-ignore
    links: [
      link('keyVaultRegistered', 'hsmCreate', 'response', REGISTERED),
      link('armToken', 'hsmCreate', 'response', `${ARM_AUTH} (the initial admin is the token's oid)`),
      link('hsmCreate', 'hsmProvisioned', 'hsmCreate', 'provisioning completes later; only a poll shows it'),
      link('hsmProvisioned', 'securityDomainDownload', 'response', "the HSM's data plane exists only once it is provisioned"),
      link('hsmToken', 'securityDomainDownload', 'response', HSM_AUTH),
      link('securityDomainDownload', 'hsmActive', 'securityDomainDownload', 'activation completes later; only a poll shows it'),
      link('hsmActive', 'adminGrant', 'response', 'an HSM serves local RBAC only once activated'),
      link('hsmActive', 'cosmosGrant', 'response', 'an HSM serves local RBAC only once activated')
    ]
  })
}

/** The no-op re-run: the reads that prove every step is already done. */
function observation(): Dag {
  return merge(signIn(['arm', 'hsm', 'graph']), {
    steps: [
      step('providersRead', 'read', 'resource providers'),
      step('hsmRead', 'read', 'the HSM'),
      step('accountRead', 'read', 'the account'),
      step('keyRead', 'read', 'the key'),
      step('cosmosPrincipal', 'read', "Graph: Azure Cosmos DB's service principal"),
      step('grantsRead', 'read', 'role assignments at the key')
    ],
    // prettier-ignore
    links: [
      link('armToken', 'providersRead', 'response', ARM_AUTH),
      link('armToken', 'hsmRead', 'response', ARM_AUTH),
      link('armToken', 'accountRead', 'response', ARM_AUTH),
      link('hsmToken', 'keyRead', 'response', HSM_AUTH),
      link('graphToken', 'cosmosPrincipal', 'response', GRAPH_AUTH),
      link('cosmosPrincipal', 'grantsRead', 'response', "the check names the principal's object id"),
      link('hsmToken', 'grantsRead', 'response', HSM_AUTH)
    ]
  })
}

export type DagName =
  | 'first-party'
  | 'user-assigned'
  | 'system-assigned'
  | 'create-hsm'
  | 'no-op'
  | 'prepare'
  | 'fleet'
  | 'matrix'

/**
 * The DAG of a scenario. `fleet`: one run, the shared chain once and one account chain per name of
 * `accounts` (first-party). `prepare`: the shared chain alone (mode: prepare). `matrix`: the
 * prepare job, then one job per account that signs in again and creates its account.
 */
export function dagFor(name: DagName, accounts: readonly string[] = []): Dag {
  switch (name) {
    case 'first-party':
      return merge(signIn(['arm', 'hsm', 'graph']), keyAndAccount('first-party'))
    case 'user-assigned':
      return merge(signIn(['arm', 'hsm']), keyAndAccount('user-assigned'))
    case 'system-assigned':
      return merge(
        signIn(['arm', 'hsm', 'graph']),
        keyAndAccount('first-party'),
        systemAssignedSwitch()
      )
    case 'create-hsm':
      return merge(signIn(['arm', 'hsm', 'graph']), keyAndAccount('first-party'), hsmCreation())
    case 'no-op':
      return observation()
    case 'prepare':
      return merge(signIn(['arm', 'hsm', 'graph']), keyAndGrants('first-party'))
    case 'fleet':
      return merge(
        signIn(['arm', 'hsm', 'graph']),
        keyAndGrants('first-party'),
        ...accounts.map(account => accountChain(account))
      )
    case 'matrix': {
      const prepare = dagFor('prepare')
      return merge(prepare, ...accounts.map(account => matrixJob(account, prepare)))
    }
  }
}

/** The DAG's writes to Resource Manager, which spend the write budget. */
export const armWrites = (dag: Dag): Step[] => dag.steps.filter(s => s.arm)

interface Bucket {
  tokens: number
  at: number
}

/**
 * The moment a write that could start at `now` gets a token (the bucket refilled for the time
 * since it was last touched, never beyond its size), and the token taken. Writes come in the
 * order they could start, so `at` only moves forward.
 */
function takeWriteToken(bucket: Bucket, size: number, perSecond: number, now: number): number {
  const at = Math.max(now, bucket.at)
  let tokens = Math.min(size, bucket.tokens + ((at - bucket.at) * perSecond) / 1000)
  let start = at
  if (tokens < 1) {
    start = at + Math.ceil(((1 - tokens) * 1000) / perSecond)
    tokens = 1
  }
  bucket.tokens = tokens - 1
  bucket.at = start
  return start
}

export interface CriticalPathOptions {
  /** Counts the ARM write budget (default true; off as well when the model sets no bucket). */
  budget?: boolean
}

/**
 * Earliest start of every step and the longest path (the DAG must be acyclic). Steps are scheduled
 * in the order they could start, so that ARM writes take the budget's tokens in that order.
 */
export function criticalPath(
  dag: Dag,
  model: LatencyModel,
  options: CriticalPathOptions = {}
): CriticalPath {
  const latency = model.requestLatency
  const steps = new Map(dag.steps.map(s => [s.id, s]))
  const incoming = new Map<string, Link[]>()
  for (const l of dag.links) {
    if (!steps.has(l.from) || !steps.has(l.to))
      throw new Error(`link ${l.from} → ${l.to}: unknown step`)
    incoming.set(l.to, [...(incoming.get(l.to) ?? []), l])
  }
  const size = model.armWriteBucket
  const bucket: Bucket | undefined =
    options.budget !== false && size > 0 ? { tokens: size, at: 0 } : undefined
  const schedule: Record<string, ScheduledStep> = {}
  const pending = new Set(steps.keys())
  while (pending.size > 0) {
    let next: { id: string; start: number; decidedBy?: Link } | undefined
    for (const id of pending) {
      const links = incoming.get(id) ?? []
      if (!links.every(l => schedule[l.from] !== undefined)) continue
      let start = 0
      let decidedBy: Link | undefined
      for (const l of links) {
        const at = schedule[l.from]!.start + (l.wait === 'response' ? latency : model[l.wait])
        if (decidedBy === undefined || at > start) {
          start = at
          decidedBy = l
        }
      }
      if (next === undefined || start < next.start)
        next = { id, start, ...(decidedBy ? { decidedBy } : {}) }
    }
    if (next === undefined) throw new Error(`cycle among ${[...pending].join(', ')}`)
    const s = steps.get(next.id)!
    const start =
      bucket && s.arm
        ? takeWriteToken(bucket, size, model.armWriteRefillPerSecond, next.start)
        : next.start
    schedule[next.id] = {
      ...s,
      start,
      ...(next.decidedBy ? { decidedBy: next.decidedBy } : {}),
      ...(start > next.start ? { budgetWaitMs: start - next.start } : {})
    }
    pending.delete(next.id)
  }
  const last = Object.values(schedule).reduce((a, b) => (b.start > a.start ? b : a))
  const path: ScheduledStep[] = []
  for (let s: ScheduledStep | undefined = last; s;) {
    path.unshift(s)
    s = s.decidedBy ? schedule[s.decidedBy.from] : undefined
  }
  return { totalMs: last.start + latency, schedule, path }
}

/** The time the ARM write budget adds to the critical path: with it, less without it, ms. */
export function budgetForcedMs(dag: Dag, model: LatencyModel): number {
  return criticalPath(dag, model).totalMs - criticalPath(dag, model, { budget: false }).totalMs
}
