import { readFileSync } from 'node:fs'
import type { Scenario } from '../../emulator/src/index.js'

export function defaultScenario(): Scenario {
  return JSON.parse(readFileSync('emulator/scenarios/default.json', 'utf8')) as Scenario
}

/**
 * The default tenant and pipeline identity with a subscription that has nothing yet: no provider
 * registered, no HSM, no account. Only the user-assigned identity exists (the action never creates one).
 */
export function emptySubscriptionScenario(): Scenario {
  const scenario = defaultScenario()
  for (const subscription of scenario.subscriptions) {
    subscription.providers = {}
    for (const group of subscription.resourceGroups ?? []) {
      group.managedHsms = []
      group.cosmosAccounts = []
    }
  }
  return scenario
}

export const names = {
  resourceGroup: 'rg-cmk-demo',
  location: 'westeurope',
  hsm: 'hsm-cmk-demo',
  identity: 'id-cosmos-cmk'
}
