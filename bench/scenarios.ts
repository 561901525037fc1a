/** The benchmark's scenarios: the world they start from, the action's inputs and their DAG. */
import { join } from 'node:path'
import type { Scenario } from '../emulator/src/index.js'
import {
  defaultScenario,
  emptySubscriptionScenario,
  names
} from '../__tests__/support/scenarios.js'
import type { DagName } from './critical-path.js'
import type { Names } from './analysis.js'
import { LATENCY_MODEL } from './latency-model.js'

export const KEY_NAME = 'cosmos-cmk'

export interface BenchScenario {
  id: string
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

function baseInputs(ctx: ScenarioContext, account: string): Record<string, string> {
  return {
    'client-id': ctx.env.AZURE_CLIENT_ID!,
    'tenant-id': ctx.env.AZURE_TENANT_ID!,
    'subscription-id': ctx.env.AZURE_SUBSCRIPTION_ID!,
    'resource-group': names.resourceGroup,
    location: names.location,
    'hsm-name': names.hsm,
    'key-name': KEY_NAME,
    'account-name': account
  }
}

const named = (account: string, identity?: string): Names => ({
  hsm: names.hsm,
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
      inputs: { ...baseInputs(ctx, 'cosmos-bench-fp'), 'identity-mode': 'first-party' },
      names: named('cosmos-bench-fp')
    },
    {
      id: 'fresh-user-assigned',
      title: 'fresh, user-assigned identity',
      dag: 'user-assigned',
      world: fresh,
      inputs: {
        ...baseInputs(ctx, 'cosmos-bench-ua'),
        'identity-mode': 'user-assigned',
        'user-assigned-identity': names.identity
      },
      names: named('cosmos-bench-ua', names.identity)
    },
    {
      id: 'fresh-system-assigned',
      title: 'fresh, system-assigned identity',
      dag: 'system-assigned',
      world: fresh,
      inputs: { ...baseInputs(ctx, 'cosmos-bench-sa'), 'identity-mode': 'system-assigned' },
      names: named('cosmos-bench-sa')
    },
    {
      id: 'fresh-create-hsm',
      title: 'fresh, create-hsm + activation',
      dag: 'create-hsm',
      world: withModel(emptySubscriptionScenario()),
      inputs: {
        ...baseInputs(ctx, 'cosmos-bench-hsm'),
        'identity-mode': 'first-party',
        'create-hsm': 'true',
        'hsm-retention-days': '7',
        'security-domain-certificates': ctx.certificates.join('\n'),
        'security-domain-quorum': '2',
        'security-domain-file': join(ctx.workDir, 'security-domain.json')
      },
      names: named('cosmos-bench-hsm')
    },
    {
      id: 'no-op-rerun',
      title: 'no-op re-run (first-party)',
      dag: 'no-op',
      world: fresh,
      inputs: { ...baseInputs(ctx, 'cosmos-bench-fp'), 'identity-mode': 'first-party' },
      names: named('cosmos-bench-fp'),
      prepare: true
    }
  ]
}
