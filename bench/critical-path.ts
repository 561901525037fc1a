/**
 * The critical path: the shortest time in which ANY client could finish, given only what Azure
 * itself imposes. Each scenario is a DAG of requests; a link says "this request cannot start
 * before that one answered" (`response`) or "before that one's effect has settled" (a latency-model
 * delay counted from when the earlier request reached Azure). Every request takes one round trip
 * (`requestLatency`); the local Azure applies a request's effect when it arrives and the latency on
 * the way back, so a delay is counted from the earlier request's start. The order the action
 * happens to use plays no part.
 */
import type { LatencyModel } from './latency-model.js'

export type StepKind = 'token' | 'read' | 'write' | 'poll'

export type Delay = Exclude<keyof LatencyModel, 'requestLatency' | 'retryAfterSeconds'>

/** One request on Azure's side of the chain. */
export interface Step {
  id: string
  kind: StepKind
  what: string
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
}

export interface CriticalPath {
  /** ms from the first request's start to the last answer. */
  totalMs: number
  schedule: Record<string, ScheduledStep>
  /** The steps on the longest path, first to last. */
  path: ScheduledStep[]
}

const step = (id: string, kind: StepKind, what: string): Step => ({ id, kind, what })
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
      step(register, 'write', `register ${namespace}`),
      step(registered, 'read', `see ${namespace} Registered`)
    ],
    // prettier-ignore
    links: [
      link('armToken', register, 'response', ARM_AUTH),
      link(register, registered, 'providerRegistration', 'registration completes later; only a read shows it (no callback)')
    ]
  }
}

/** Admin grant, key, the Cosmos DB principal's grant and the account, on an activated HSM. */
function keyAndAccount(principal: 'first-party' | 'user-assigned'): Dag {
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
      step(
        'cosmosGrant',
        'write',
        "grant Crypto Service Encryption User to the account's identity"
      ),
      step('accountCreate', 'write', 'create the Cosmos DB account with the key'),
      step('accountReady', 'poll', 'see the account creation Succeeded')
    ],
    // prettier-ignore
    links: [
      link('hsmToken', 'adminGrant', 'response', `${HSM_AUTH} (the admin's object id is the token's oid)`),
      link('adminGrant', 'keyCreate', 'rbacPropagation', `${PROPAGATED}: keys/create is denied (403) until then`),
      link('cosmosPrincipal', 'cosmosGrant', 'response', "the assignment names the principal's object id"),
      link('hsmToken', 'cosmosGrant', 'response', HSM_AUTH),
      link('keyCreate', 'accountCreate', 'response', 'Cosmos DB checks at creation that the key exists and is usable'),
      link('cosmosGrant', 'accountCreate', 'rbacPropagation', `${PROPAGATED}: Cosmos DB checks its identity can wrap/unwrap (KeyVaultAuthenticationFailure)`),
      link('documentDbRegistered', 'accountCreate', 'response', REGISTERED),
      link('armToken', 'accountCreate', 'response', ARM_AUTH),
      link('accountCreate', 'accountReady', 'cosmosCreate', 'the creation completes later; only a poll shows it')
    ]
  })
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
      step('defaultIdentityUpdate', 'write', 'set defaultIdentity SystemAssignedIdentity'),
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
      step('hsmCreate', 'write', 'create the Managed HSM'),
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

export type DagName = 'first-party' | 'user-assigned' | 'system-assigned' | 'create-hsm' | 'no-op'

export function dagFor(name: DagName): Dag {
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
  }
}

/** Earliest start of every step and the longest path (the DAG must be acyclic). */
export function criticalPath(dag: Dag, model: LatencyModel): CriticalPath {
  const latency = model.requestLatency
  const ids = new Set(dag.steps.map(s => s.id))
  for (const l of dag.links) {
    if (!ids.has(l.from) || !ids.has(l.to))
      throw new Error(`link ${l.from} → ${l.to}: unknown step`)
  }
  const schedule: Record<string, ScheduledStep> = {}
  const pending = new Set(ids)
  while (pending.size > 0) {
    const ready = [...pending].filter(id =>
      dag.links.every(l => l.to !== id || schedule[l.from] !== undefined)
    )
    if (ready.length === 0) throw new Error(`cycle among ${[...pending].join(', ')}`)
    for (const id of ready) {
      const s = dag.steps.find(x => x.id === id)!
      let start = 0
      let decidedBy: Link | undefined
      for (const l of dag.links.filter(x => x.to === id)) {
        const at = schedule[l.from]!.start + (l.wait === 'response' ? latency : model[l.wait])
        if (decidedBy === undefined || at > start) {
          start = at
          decidedBy = l
        }
      }
      schedule[id] = { ...s, start, ...(decidedBy ? { decidedBy } : {}) }
      pending.delete(id)
    }
  }
  const last = Object.values(schedule).reduce((a, b) => (b.start > a.start ? b : a))
  const path: ScheduledStep[] = []
  for (let s: ScheduledStep | undefined = last; s;) {
    path.unshift(s)
    s = s.decidedBy ? schedule[s.decidedBy.from] : undefined
  }
  return { totalMs: last.start + latency, schedule, path }
}
