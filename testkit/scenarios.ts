/** The worlds the action runs against: the default scenario and variations of it. */
import { defaultNames, defaultScenario, type Scenario } from './emulator.js'

export const KEY_NAME = 'cosmos-cmk'

type ResourceGroup = NonNullable<Scenario['subscriptions'][number]['resourceGroups']>[number]
type ManagedHsm = NonNullable<ResourceGroup['managedHsms']>[number]
export type ScenarioKey = NonNullable<ManagedHsm['keys']>[number]

/** The default scenario's resource group. */
export function groupOf(scenario: Scenario): ResourceGroup {
  return scenario.subscriptions[0].resourceGroups![0]
}

/** The default scenario's HSM. */
export function hsmOf(scenario: Scenario): ManagedHsm {
  return groupOf(scenario).managedHsms![0]
}

/**
 * Azure's waits, each long enough to be observed (every wait still shows at least one pending answer
 * to a poll), short enough for a test: the services ask for no pause between polls.
 */
export const shortTiming = {
  rbacPropagation: 60,
  principalReplication: 60,
  providerRegistration: 60,
  hsmCreate: 60,
  hsmUpdate: 60,
  securityDomainDownload: 60,
  cosmosCreate: 60,
  cosmosUpdate: 60,
  cosmosDelete: 60,
  retryAfterSeconds: 0
} satisfies Partial<Scenario['timing']>

/**
 * The default tenant and pipeline identity with a subscription that has nothing yet: no provider
 * registered, no HSM, no account. Only the user-assigned identity exists (the action never creates one).
 */
export function emptySubscriptionScenario(): Scenario {
  const scenario = defaultScenario()
  scenario.timing = { ...scenario.timing, ...shortTiming }
  for (const subscription of scenario.subscriptions) {
    subscription.providers = {}
    for (const group of subscription.resourceGroups ?? []) {
      group.managedHsms = []
      group.cosmosAccounts = []
    }
  }
  return scenario
}

/** The default scenario without its delays; the services ask for no pause between polls. */
export function preparedScenario(patch: (scenario: Scenario) => void = () => {}): Scenario {
  const scenario = defaultScenario()
  scenario.timing = { retryAfterSeconds: 0 }
  patch(scenario)
  return scenario
}

/** Puts the action's key on the HSM, as an earlier run leaves it, changed by `overrides`. */
export function withKey(scenario: Scenario, overrides: Partial<ScenarioKey> = {}): void {
  hsmOf(scenario).keys = [
    { name: KEY_NAME, size: 3072, ops: ['wrapKey', 'unwrapKey'], ...overrides }
  ]
}

/**
 * The action's key on the HSM (see `withKey`), and the pipeline's grant to read keys: as an earlier
 * run leaves them, so that the key's flaws show before any write.
 */
export function withReadableKey(scenario: Scenario, overrides: Partial<ScenarioKey> = {}): void {
  withKey(scenario, overrides)
  hsmOf(scenario).roleAssignments = [
    { role: 'Managed HSM Crypto User', principalId: defaultNames.clientObjectId, scope: '/keys' }
  ]
}
