/**
 * Hostile or unexpected state: the action must fail with a message that says what is wrong and
 * what to do, before any write, leaving the local Azure exactly as it was.
 */
import { beforeAll, describe, expect, test } from '@jest/globals'
import {
  advanceWorld,
  errorMessage,
  groupOf,
  hsmOf,
  KEY_NAME,
  defaultNames,
  preparedScenario,
  startEach,
  withLab,
  withReadableKey,
  writes,
  type ActionRun,
  type Emulator,
  type IdentityMode,
  type RequestLogEntry,
  type Scenario,
  type World
} from '../../testkit/index.js'

const otherSubject = 'repo:contoso/cosmos-cmk:ref:refs/heads/Main'

interface HostileCase {
  name: string
  /** Changes the prepared scenario; without it, the prepared scenario as it is. */
  scenario?: (s: Scenario) => void
  mode?: IdentityMode
  inputs?: Record<string, string>
  /** Applied to the running emulator before the action starts. */
  before?: (emulator: Emulator) => void
  /** Every pattern must appear in the failure message. */
  says: (string | RegExp)[]
  /** mode verify answers its verdict as outputs; every other refusal sets none. */
  verdict?: true
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
    says: [
      "'hostile-plain' exists without a customer-managed key",
      'enable-on-existing: true',
      'irreversible'
    ]
  },
  {
    name: 'account with another key',
    scenario: s => {
      withReadableKey(s)
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
      'key-switch: true'
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
  },
  {
    name: 'HSM without soft delete',
    scenario: s => {
      hsmOf(s).enableSoftDelete = false
    },
    says: ['has soft delete turned off']
  },
  {
    name: 'existing key of type EC-HSM',
    scenario: s =>
      withReadableKey(s, {
        kty: 'EC-HSM',
        size: undefined,
        curve: 'P-256',
        ops: ['sign', 'verify']
      }),
    says: [`Key '${KEY_NAME}'`, 'its type is EC-HSM, not RSA-HSM']
  },
  {
    name: 'existing key without unwrapKey',
    scenario: s => withReadableKey(s, { ops: ['wrapKey', 'encrypt', 'decrypt'] }),
    says: ['lack unwrapKey']
  },
  {
    name: 'HSM that does not exist, and create-hsm false',
    inputs: { 'hsm-name': 'hsm-missing' },
    says: ["Managed HSM 'hsm-missing' does not exist", 'create-hsm: true']
  },
  {
    name: 'user-assigned identity that does not exist',
    mode: 'user-assigned',
    inputs: { 'user-assigned-identity': 'id-missing' },
    says: ['was not found', 'az identity create']
  },
  {
    name: 'cosmos-principal-id that is no principal in the directory',
    mode: 'first-party',
    inputs: { 'cosmos-principal-id': '99999999-9999-4999-8999-999999999999' },
    says: ["Input 'cosmos-principal-id'", 'no service principal has that object id']
  },
  {
    name: 'region where the subscription is not offered Azure Cosmos DB',
    inputs: { location: 'marsnorth' },
    says: ["Input 'location' is 'marsnorth'", 'is not offered in that region']
  },
  {
    name: 'signed-in principal without any HSM role',
    scenario: s => {
      hsmOf(s).initialAdminObjectIds = []
      hsmOf(s).roleAssignments = []
    },
    says: ['may not read the role assignments', 'Managed HSM Administrator']
  },
  {
    name: 'rotate-key on a key without a rotation policy',
    scenario: s => withReadableKey(s),
    inputs: { 'rotate-key': 'true' },
    says: ['has no rotation policy', 'key-rotate-after']
  },
  {
    name: 'verify of an account without a customer-managed key',
    scenario: s => {
      groupOf(s).cosmosAccounts = [{ name: 'hostile-verify' }]
    },
    inputs: { 'account-name': 'hostile-verify', mode: 'verify' },
    says: ['Verify found', 'key none'],
    verdict: true
  },
  {
    name: 'teardown of an account this action did not create',
    scenario: s => {
      groupOf(s).cosmosAccounts = [{ name: 'hostile-foreign' }]
    },
    inputs: {
      'account-name': 'hostile-foreign',
      mode: 'teardown',
      'confirm-teardown': 'hostile-foreign'
    },
    says: ['cannot prove it created it', 'Nothing was deleted']
  },
  {
    name: 'enable-on-existing on a Cassandra account',
    scenario: s => {
      groupOf(s).cosmosAccounts = [{ name: 'hostile-cassandra', capabilities: ['EnableCassandra'] }]
    },
    inputs: { 'account-name': 'hostile-cassandra', 'enable-on-existing': 'true' },
    says: ['uses the Cassandra API']
  },
  {
    name: 'enable-on-existing with vector search',
    scenario: s => {
      groupOf(s).cosmosAccounts = [
        { name: 'hostile-vector', capabilities: ['EnableNoSQLVectorSearch'] }
      ]
    },
    inputs: { 'account-name': 'hostile-vector', 'enable-on-existing': 'true' },
    says: ['uses vector search']
  },
  {
    name: 'enable-on-existing with continuous backup and FirstPartyIdentity',
    scenario: s => {
      groupOf(s).cosmosAccounts = [{ name: 'hostile-continuous', backupPolicy: 'Continuous7Days' }]
    },
    mode: 'first-party',
    inputs: { 'account-name': 'hostile-continuous', 'enable-on-existing': 'true' },
    says: ['has continuous backup', "identity-mode 'system-assigned' or 'user-assigned'"]
  },
  {
    name: 'enable-on-existing with an analytical store and FirstPartyIdentity',
    scenario: s => {
      groupOf(s).cosmosAccounts = [{ name: 'hostile-analytical', enableAnalyticalStorage: true }]
    },
    mode: 'first-party',
    inputs: { 'account-name': 'hostile-analytical', 'enable-on-existing': 'true' },
    says: ['has an analytical store']
  },
  {
    name: 'existing key that expired and an account on another key, together',
    scenario: s => {
      withReadableKey(s, { expires: '2024-01-01T00:00:00Z' })
      groupOf(s).cosmosAccounts = [
        {
          name: 'hostile-both',
          keyVaultKeyUri: `https://${defaultNames.hsmName}.managedhsm.azure.net/keys/elsewhere`
        }
      ]
    },
    inputs: { 'account-name': 'hostile-both' },
    says: ['Nothing was changed, because', 'it expired on 2024-01-01', 'key-switch: true']
  },
  {
    name: 'ID token for an audience the federated credential does not accept',
    inputs: { audience: 'api://SomethingElse' },
    says: ['AADSTS', "audience 'api://SomethingElse'"]
  },
  {
    name: 'key-switch onto a key that is disabled',
    scenario: s => {
      withReadableKey(s, { enabled: false })
      groupOf(s).cosmosAccounts = [
        {
          name: 'hostile-switch',
          keyVaultKeyUri: `https://${defaultNames.hsmName}.managedhsm.azure.net/keys/elsewhere`
        }
      ]
    },
    inputs: { 'account-name': 'hostile-switch', 'key-switch': 'true' },
    says: [`Key '${KEY_NAME}'`, 'it is disabled']
  },
  {
    name: 'bootstrap user-assigned identity that does not exist',
    inputs: { 'bootstrap-identity': 'user-assigned', 'user-assigned-identity': 'id-missing' },
    says: ['was not found', 'az identity create']
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
    // The state as the action will find it: what the local Azure does on its own (e.g. revoke an
    // account whose identity cannot reach its key) has happened already.
    advanceWorld(lab.emulator.store.world, lab.emulator.now())
    const before = lab.emulator.store.snapshot()
    const account = c.inputs?.['account-name'] ?? 'hostile-new'
    const result = await lab.run(lab.inputs(account, c.mode ?? 'system-assigned', c.inputs))
    const after = lab.emulator.store.snapshot()
    return { result, before, after, log: lab.emulator.requests(), leaks: lab.leaks(result) }
  })
}

let outcomes: Map<string, Promise<Outcome>>

beforeAll(() => {
  // A few at a time, in the tests' order: thirty local Azures at once would starve two cores.
  outcomes = startEach(cases, c => c.name, runCase, 4)
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
      expect(c.verdict ? result.outputs.healthy : result.outputs).toEqual(c.verdict ? 'false' : {})
    },
    60_000
  )
})
