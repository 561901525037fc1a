/**
 * Hostile or unexpected state: the action must fail with a message that says what is wrong and
 * what to do, before any write, leaving the local Azure exactly as it was.
 */
import { beforeAll, describe, expect, test } from '@jest/globals'
import {
  errorMessage,
  groupOf,
  hsmOf,
  KEY_NAME,
  defaultNames,
  preparedScenario,
  startEach,
  withLab,
  withKey,
  writes,
  type ActionRun,
  type Emulator,
  type IdentityMode,
  type RequestLogEntry,
  type Scenario,
  type ScenarioKey,
  type World
} from '../../testkit/index.js'

const otherSubject = 'repo:contoso/cosmos-cmk:ref:refs/heads/Main'

/** The pipeline may read keys (it ran before), so that a key's flaws show before any write. */
function withReadableKey(s: Scenario, key: Partial<ScenarioKey>) {
  withKey(s, key)
  hsmOf(s).roleAssignments = [
    { role: 'Managed HSM Crypto User', principalId: defaultNames.clientObjectId, scope: '/keys' }
  ]
}

interface HostileCase {
  name: string
  scenario: (s: Scenario) => void
  mode?: IdentityMode
  inputs?: Record<string, string>
  /** Applied to the running emulator before the action starts. */
  before?: (emulator: Emulator) => void
  /** Every pattern must appear in the failure message. */
  says: (string | RegExp)[]
}

const cases: HostileCase[] = [
  {
    name: 'HSM without purge protection and enable-purge-protection false',
    scenario: s => {
      hsmOf(s).enablePurgeProtection = false
    },
    inputs: { 'enable-purge-protection': 'false' },
    says: ['does not have purge protection', 'enable-purge-protection: true', 'irreversible']
  },
  {
    name: 'HSM not activated and no security-domain certificates',
    scenario: s => {
      hsmOf(s).activationStatus = 'NotActivated'
    },
    says: ['is not activated', 'security-domain-certificates', 'security-domain-quorum']
  },
  {
    name: 'existing key of another size',
    scenario: s => withReadableKey(s, { size: 2048 }),
    says: [`Key '${KEY_NAME}'`, 'it is 2048 bits, but key-size is 3072', 'never modifies']
  },
  {
    name: 'existing key without wrapKey',
    scenario: s => withReadableKey(s, { ops: ['unwrapKey', 'encrypt', 'decrypt'] }),
    says: [`Key '${KEY_NAME}'`, 'lack wrapKey']
  },
  {
    name: 'existing key disabled',
    scenario: s => withReadableKey(s, { enabled: false }),
    says: [`Key '${KEY_NAME}'`, 'it is disabled']
  },
  {
    name: 'existing key expired',
    scenario: s => withReadableKey(s, { expires: '2024-01-01T00:00:00Z' }),
    says: [`Key '${KEY_NAME}'`, 'it expired on 2024-01-01']
  },
  {
    name: 'account without a customer-managed key',
    scenario: s => {
      groupOf(s).cosmosAccounts = [{ name: 'hostile-plain' }]
    },
    inputs: { 'account-name': 'hostile-plain' },
    says: ["'hostile-plain' exists without a customer-managed key", 'az cosmosdb update']
  },
  {
    name: 'account with another key',
    scenario: s => {
      withReadableKey(s, {})
      hsmOf(s).keys!.push({ name: 'other-key', size: 3072, ops: ['wrapKey', 'unwrapKey'] })
      groupOf(s).cosmosAccounts = [
        {
          name: 'hostile-other',
          keyVaultKeyUri: `https://${defaultNames.hsmName}.managedhsm.azure.net/keys/other-key`
        }
      ]
    },
    inputs: { 'account-name': 'hostile-other' },
    says: [
      `encrypted with key https://${defaultNames.hsmName}.managedhsm.azure.net/keys/other-key`,
      'never changes the key of an existing account'
    ]
  },
  {
    name: 'Microsoft Graph denied',
    scenario: s => {
      s.applications![0].canReadDirectory = false
    },
    mode: 'first-party',
    says: ['Microsoft Graph refused', 'cosmos-principal-id']
  },
  {
    name: 'federated credential mismatch',
    scenario: () => {},
    before: emulator => emulator.setGitHubSubject(otherSubject),
    says: [
      'AADSTS700213',
      "issuer 'https://token.actions.githubusercontent.com'",
      `subject '${otherSubject}'`,
      "audience 'api://AzureADTokenExchange'",
      'case-sensitive'
    ]
  },
  {
    name: 'missing ARM permission (Contributor on the resource group only)',
    scenario: s => {
      s.applications![0].armRoles = [
        {
          role: 'Contributor',
          scope: `/subscriptions/${defaultNames.subscriptionId}/resourceGroups/${defaultNames.resourceGroup}`
        }
      ]
    },
    says: [
      'AuthorizationFailed',
      "perform action 'Microsoft.Resources/subscriptions/providers/read'",
      `over scope '/subscriptions/${defaultNames.subscriptionId}'`
    ]
  }
]

interface Outcome {
  result: ActionRun
  before: World
  after: World
  log: RequestLogEntry[]
  leaks: string[]
}

function runCase(c: HostileCase): Promise<Outcome> {
  return withLab(preparedScenario(c.scenario), async lab => {
    c.before?.(lab.emulator)
    const before = lab.emulator.store.snapshot()
    const account = c.inputs?.['account-name'] ?? 'hostile-new'
    const result = await lab.run(lab.inputs(account, c.mode ?? 'system-assigned', c.inputs))
    const after = lab.emulator.store.snapshot()
    return { result, before, after, log: lab.emulator.requests(), leaks: lab.leaks(result) }
  })
}

let outcomes: Map<string, Promise<Outcome>>

beforeAll(() => {
  outcomes = startEach(cases, c => c.name, runCase)
})

describe('hostile state: a clear error before any write, and nothing changes', () => {
  test.each(cases)(
    '$name',
    async c => {
      const { result, before, after, log, leaks } = await outcomes.get(c.name)!
      const message = errorMessage(result)
      expect(result.code).toBe(1)
      for (const words of c.says) expect(message).toMatch(words)
      expect(writes(log)).toEqual([])
      expect(after).toEqual(before)
      expect(leaks).toEqual([])
      expect(result.outputs).toEqual({})
    },
    60_000
  )
})
