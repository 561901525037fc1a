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
  'no-op-rerun'
] as const

export interface BenchScenario {
  id: (typeof benchScenarioIds)[number]
  title: string
  dag: DagName
  /** The world each measured run starts from (reset before every run, except for the no-op). */
  world: Scenario
  inputs: Record<string, string>
  names: Names
  /** Runs once, unmeasured, to build the state the measured runs start from. */
  prepare?: boolean
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
      names: named('cosmos-bench-fp')
    },
    {
      id: 'fresh-user-assigned',
      title: 'fresh, user-assigned identity',
      dag: 'user-assigned',
      world: fresh,
      inputs: actionInputs(ctx.env, 'cosmos-bench-ua', 'user-assigned'),
      names: named('cosmos-bench-ua', defaultNames.userAssignedIdentity)
    },
    {
      id: 'fresh-system-assigned',
      title: 'fresh, system-assigned identity',
      dag: 'system-assigned',
      world: fresh,
      inputs: actionInputs(ctx.env, 'cosmos-bench-sa', 'system-assigned'),
      names: named('cosmos-bench-sa')
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
      names: named('cosmos-bench-hsm')
    },
    {
      id: 'no-op-rerun',
      title: 'no-op re-run (first-party)',
      dag: 'no-op',
      world: fresh,
      inputs: actionInputs(ctx.env, 'cosmos-bench-fp', 'first-party'),
      names: named('cosmos-bench-fp'),
      prepare: true
    }
  ]
}
