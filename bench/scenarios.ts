/** The benchmark's scenarios: the world they start from, the action's inputs and their DAG. */
import { join } from 'node:path'
import {
  actionInputs,
  createHsmInputs,
  defaultScenario,
  emptySubscriptionScenario,
  KEY_NAME,
  defaultNames,
  type Scenario
} from '../testkit/index.js'
import type { DagName } from './critical-path.js'
import type { Names } from './analysis.js'
import { LATENCY_MODEL } from './latency-model.js'

export const benchScenarioIds = [
  'fresh-first-party',
  'fresh-user-assigned',
  'fresh-system-assigned',
  'fresh-create-hsm',
  'no-op-rerun',
  'fleet-10',
  'fleet-50',
  'matrix-50',
  'fleet-50-concurrency-50'
] as const

export type BenchScenarioId = (typeof benchScenarioIds)[number]

export interface BenchScenario {
  id: BenchScenarioId
  title: string
  dag: DagName
  /** The world each measured run starts from (reset before every run, except for the no-op). */
  world: Scenario
  /** The run's inputs; for a matrix, the prepare job's. */
  inputs: Record<string, string>
  names: Names
  /** The accounts the run (or the matrix) provisions: one but for fleets and matrices. */
  accounts: string[]
  /** Runs once, unmeasured, to build the state the measured runs start from. */
  prepare?: boolean
  /** A matrix: the prepare job (`inputs`), then one job per account with these inputs, together. */
  jobInputs?: (account: string) => Record<string, string>
  /** A matrix: one more account job, run alone afterwards (not counted in the matrix's figures). */
  soloAccount?: string
  /** 50 accounts: measured fewer times (`--large-runs`) to keep the bench short. */
  large?: boolean
  /** Measured to explain another scenario's figures; no target of its own. */
  diagnostic?: boolean
}

export function withModel(scenario: Scenario): Scenario {
  return { ...scenario, timing: { ...scenario.timing, ...LATENCY_MODEL }, faults: [] }
}

export interface ScenarioContext {
  env: Record<string, string>
  workDir: string
  certificates: string[]
}

const named = (account: string, identity?: string): Names => ({
  hsm: defaultNames.hsmName,
  key: KEY_NAME,
  account,
  ...(identity ? { identity } : {})
})

/** `prefix-01` … `prefix-NN`. */
export const accountNames = (prefix: string, count: number): string[] =>
  Array.from({ length: count }, (_, i) => `${prefix}-${String(i + 1).padStart(2, '0')}`)

const matrixAccounts = accountNames('cosmos-matrix', 50)

/**
 * Fresh: the default scenario (activated, purge-protected HSM; Microsoft.DocumentDB not
 * registered; no key, no grants, no account). create-hsm: an empty subscription, nothing registered.
 */
export function benchScenarios(ctx: ScenarioContext): BenchScenario[] {
  const fresh = withModel(defaultScenario())
  return [
    {
      id: 'fresh-first-party',
      title: 'fresh, first-party identity',
      dag: 'first-party',
      world: fresh,
      inputs: actionInputs(ctx.env, 'cosmos-bench-fp', 'first-party'),
      names: named('cosmos-bench-fp'),
      accounts: ['cosmos-bench-fp']
    },
    {
      id: 'fresh-user-assigned',
      title: 'fresh, user-assigned identity',
      dag: 'user-assigned',
      world: fresh,
      inputs: actionInputs(ctx.env, 'cosmos-bench-ua', 'user-assigned'),
      names: named('cosmos-bench-ua', defaultNames.userAssignedIdentity),
      accounts: ['cosmos-bench-ua']
    },
    {
      id: 'fresh-system-assigned',
      title: 'fresh, system-assigned identity',
      dag: 'system-assigned',
      world: fresh,
      inputs: actionInputs(ctx.env, 'cosmos-bench-sa', 'system-assigned'),
      names: named('cosmos-bench-sa'),
      accounts: ['cosmos-bench-sa']
    },
    {
      id: 'fresh-create-hsm',
      title: 'fresh, create-hsm + activation',
      dag: 'create-hsm',
      world: withModel(emptySubscriptionScenario()),
      inputs: actionInputs(
        ctx.env,
        'cosmos-bench-hsm',
        'first-party',
        createHsmInputs(ctx.certificates, join(ctx.workDir, 'security-domain.json'))
      ),
      names: named('cosmos-bench-hsm'),
      accounts: ['cosmos-bench-hsm']
    },
    {
      id: 'no-op-rerun',
      title: 'no-op re-run (first-party)',
      dag: 'no-op',
      world: fresh,
      inputs: actionInputs(ctx.env, 'cosmos-bench-fp', 'first-party'),
      names: named('cosmos-bench-fp'),
      accounts: ['cosmos-bench-fp'],
      prepare: true
    },
    fleet('fleet-10', accountNames('cosmos-fleet', 10)),
    { ...fleet('fleet-50', accountNames('cosmos-fleet', 50)), large: true },
    {
      id: 'matrix-50',
      title: 'matrix of 50: prepare, then 50 jobs',
      dag: 'matrix',
      world: fresh,
      inputs: actionInputs(ctx.env, '', 'first-party', { mode: 'prepare' }),
      jobInputs: account => actionInputs(ctx.env, account, 'first-party'),
      soloAccount: 'cosmos-matrix-alone',
      names: named(matrixAccounts[0]!),
      accounts: matrixAccounts,
      large: true
    },
    {
      ...fleet('fleet-50-concurrency-50', accountNames('cosmos-fleet', 50), 50),
      large: true,
      diagnostic: true
    }
  ]

  /** One run for all of `accounts` (first-party), `concurrency` accounts at a time if given. */
  function fleet(id: BenchScenarioId, accounts: string[], concurrency?: number): BenchScenario {
    return {
      id,
      title: `fleet of ${accounts.length} in one run${concurrency ? `, ${concurrency} at a time` : ''}`,
      dag: 'fleet',
      world: fresh,
      inputs: actionInputs(
        ctx.env,
        accounts.join(','),
        'first-party',
        concurrency ? { 'account-concurrency': String(concurrency) } : {}
      ),
      names: named(accounts[0]!),
      accounts
    }
  }
}
