/**
 * Hostile or unexpected state: the action must fail with a message that says what is wrong and
 * what to do, before any write, leaving the local Azure exactly as it was.
 */
import { beforeAll, describe, expect, test } from '@jest/globals'
import type { Emulator, RequestLogEntry, Scenario } from '../../emulator/src/index.js'
import type { World } from '../../emulator/src/core/world.js'
import type { ActionRun } from '../../scripts/lib/run-action.js'
import {
  inputsFor,
  KEY_NAME,
  names,
  preparedScenario,
  run,
  secretLeaks,
  startLab,
  type IdentityMode
} from './lab.js'

const pipeline = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d'
const subscription = '6c1b9e3a-2f4d-4a7b-8e5c-9d0f1a2b3c4d'
const otherSubject = 'repo:contoso/cosmos-cmk:ref:refs/heads/Main'

type Group = NonNullable<Scenario['subscriptions'][number]['resourceGroups']>[number]

function group(s: Scenario): Group {
  return s.subscriptions[0].resourceGroups![0]
}

function hsmOf(s: Scenario) {
  return group(s).managedHsms![0]
}

/** The pipeline may read keys (it ran before), so that a key's flaws show before any write. */
function withKey(s: Scenario, key: Partial<NonNullable<ReturnType<typeof hsmOf>['keys']>[number]>) {
  const hsm = hsmOf(s)
  hsm.keys = [{ name: KEY_NAME, size: 3072, ops: ['wrapKey', 'unwrapKey'], ...key }]
  hsm.roleAssignments = [{ role: 'Managed HSM Crypto User', principalId: pipeline, scope: '/keys' }]
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
    scenario: s => withKey(s, { size: 2048 }),
    says: [`Key '${KEY_NAME}'`, 'it is 2048 bits, but key-size is 3072', 'never modifies']
  },
  {
    name: 'existing key without wrapKey',
    scenario: s => withKey(s, { ops: ['unwrapKey', 'encrypt', 'decrypt'] }),
    says: [`Key '${KEY_NAME}'`, 'lack wrapKey']
  },
  {
    name: 'existing key disabled',
    scenario: s => withKey(s, { enabled: false }),
    says: [`Key '${KEY_NAME}'`, 'it is disabled']
  },
  {
    name: 'existing key expired',
    scenario: s => withKey(s, { expires: '2024-01-01T00:00:00Z' }),
    says: [`Key '${KEY_NAME}'`, 'it expired on 2024-01-01']
  },
  {
    name: 'account without a customer-managed key',
    scenario: s => {
      group(s).cosmosAccounts = [{ name: 'hostile-plain' }]
    },
    inputs: { 'account-name': 'hostile-plain' },
    says: ["'hostile-plain' exists without a customer-managed key", 'az cosmosdb update']
  },
  {
    name: 'account with another key',
    scenario: s => {
      withKey(s, {})
      hsmOf(s).keys!.push({ name: 'other-key', size: 3072, ops: ['wrapKey', 'unwrapKey'] })
      group(s).cosmosAccounts = [
        {
          name: 'hostile-other',
          keyVaultKeyUri: `https://${names.hsm}.managedhsm.azure.net/keys/other-key`
        }
      ]
    },
    inputs: { 'account-name': 'hostile-other' },
    says: [
      `encrypted with key https://${names.hsm}.managedhsm.azure.net/keys/other-key`,
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
          scope: `/subscriptions/${subscription}/resourceGroups/${names.resourceGroup}`
        }
      ]
    },
    says: [
      'AuthorizationFailed',
      "perform action 'Microsoft.Resources/subscriptions/providers/read'",
      `over scope '/subscriptions/${subscription}'`
    ]
  }
]

/** The failure message as the runner shows it (`::error::` with its escapes undone). */
function failureMessage(result: ActionRun): string {
  return result.stdout
    .split('\n')
    .filter(line => line.startsWith('::error::'))
    .map(line =>
      line
        .slice('::error::'.length)
        .replace(/%0D/g, '\r')
        .replace(/%0A/g, '\n')
        .replace(/%25/g, '%')
    )
    .join('\n')
}

interface Outcome {
  result: ActionRun
  before: World
  after: World
  log: RequestLogEntry[]
  leaks: string[]
}

async function runCase(c: HostileCase): Promise<Outcome> {
  const emulator = await startLab(preparedScenario(c.scenario))
  try {
    c.before?.(emulator)
    const before = emulator.store.snapshot()
    const account = c.inputs?.['account-name'] ?? 'hostile-new'
    const result = await run(emulator, {
      ...inputsFor(emulator, account, c.mode ?? 'system-assigned'),
      ...c.inputs
    })
    return {
      result,
      before,
      after: emulator.store.snapshot(),
      log: emulator.requests(),
      leaks: secretLeaks(result, emulator.tokens.issued(), [
        emulator.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN
      ])
    }
  } finally {
    await emulator.stop()
  }
}

const outcomes = new Map<string, Promise<Outcome>>()

beforeAll(() => {
  for (const c of cases) {
    const outcome = runCase(c)
    outcome.catch(() => {}) // reported by the case's own test
    outcomes.set(c.name, outcome)
  }
})

describe('hostile state: a clear error before any write, and nothing changes', () => {
  test.each(cases)(
    '$name',
    async c => {
      const { result, before, after, log, leaks } = await outcomes.get(c.name)!
      const message = failureMessage(result)
      expect(result.code).not.toBe(0)
      for (const words of c.says) expect(message).toMatch(words)
      expect(log.filter(e => e.kind === 'write')).toEqual([])
      expect(after).toEqual(before)
      expect(leaks).toEqual([])
      expect(result.outputs).toEqual({})
    },
    60_000
  )
})
