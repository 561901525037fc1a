/** Preflight's rules one by one, read from an observation: each refusal's exact words, and a fleet's. */
import { describe, expect, it } from '@jest/globals'
import type { CosmosAccountState, ManagedHsmState, RoleAssignment } from '../../src/azure/api.js'
import { ActionError } from '../../src/errors.js'
import type { Inputs } from '../../src/inputs/settings.js'
import { hsmRoles } from '../../src/roles.js'
import { activationSteps } from '../../src/steps/activation.js'
import type { Observation } from '../../src/steps/observe.js'
import { preflight } from '../../src/steps/preflight.js'
import { FakeAzure, baseInputs, ids, uaiId, withUserAssigned } from './fakes.js'
import { stepContext } from './step-context.js'

const keyUri = 'https://hsm-cmk.managedhsm.azure.net/keys/cosmos-key'

const activeHsm = (overrides: Partial<ManagedHsmState> = {}): ManagedHsmState =>
  new FakeAzure().withActiveHsm(overrides).hsmState!

const account = (
  name = 'cosmos-cmk',
  overrides: Partial<CosmosAccountState> = {}
): CosmosAccountState => ({
  ...new FakeAzure().withAccount(overrides).account!,
  id: `/subscriptions/${ids.subscription}/resourceGroups/rg-cmk/providers/Microsoft.DocumentDB/databaseAccounts/${name}`,
  name
})

function observation(overrides: Partial<Observation> = {}): Observation {
  const accounts = overrides.accounts ?? new Map([['cosmos-cmk', account()]])
  return {
    providers: [
      { namespace: 'Microsoft.DocumentDB', registrationState: 'Registered' },
      { namespace: 'Microsoft.KeyVault', registrationState: 'Registered' }
    ],
    hsm: activeHsm(),
    accounts,
    account: [...accounts.values()][0],
    adminGrants: [],
    ...overrides
  }
}

/** Preflight's refusal, which must be an ActionError. */
function refusal(
  seen: Observation,
  inputs: Inputs = baseInputs(),
  objectId = ids.signedIn
): string {
  const { ctx } = stepContext(inputs, { principal: { objectId, tenantId: ids.tenant } })
  let thrown: unknown
  try {
    preflight(ctx, seen, [])
  } catch (error) {
    thrown = error
  }
  expect(thrown).toBeInstanceOf(ActionError)
  return (thrown as ActionError).message
}

/** What preflight answers when it lets the run through (no ARM permission is missing). */
const passes = (seen: Observation, inputs: Inputs = baseInputs(), objectId = ids.signedIn) =>
  preflight(stepContext(inputs, { principal: { objectId, tenantId: ids.tenant } }).ctx, seen)

const list = (...problems: string[]) =>
  `Nothing was changed, because:\n${problems.map(p => `- ${p}`).join('\n')}`

const enableOnExisting = (overrides: Partial<Inputs> = {}): Inputs =>
  baseInputs({ account: { ...baseInputs().account, enableOnExisting: true }, ...overrides })

const grant = (role: string, scope = '/keys'): RoleAssignment => ({
  id: `/providers/Microsoft.Authorization/roleAssignments/${role}`,
  name: role,
  scope,
  roleDefinitionId: `Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/${role}`,
  principalId: ids.signedIn
})

describe('preflight on the HSM', () => {
  it('names a failed HSM without a status message, ending the sentence there', () => {
    const seen = observation({ hsm: activeHsm({ provisioningState: 'Failed' }) })
    expect(refusal(seen)).toBe("Managed HSM 'hsm-cmk' is in provisioning state Failed.")
  })

  it('tells how to turn purge protection on, in full', () => {
    const seen = observation({ hsm: activeHsm({ enablePurgeProtection: false }) })
    expect(refusal(seen)).toBe(
      "Managed HSM 'hsm-cmk' does not have purge protection, which Azure Cosmos DB requires for " +
        'customer-managed keys. Turning it on is irreversible. Set enable-purge-protection: true to let this ' +
        'action turn it on, or run: az keyvault update-hsm --hsm-name hsm-cmk --resource-group rg-cmk ' +
        '--enable-purge-protection true'
    )
  })

  it('tells how to activate an existing HSM that is not active, line by line', () => {
    const seen = observation({ hsm: activeHsm({ activationStatus: 'NotActivated' }) })
    const message = refusal(seen)
    expect(message).toBe(activationSteps('hsm-cmk', 'rg-cmk'))
    expect(message.split('\n')).toEqual([
      "Managed HSM 'hsm-cmk' (resource group 'rg-cmk') is not activated: it cannot create or use keys until its security domain is downloaded. Either let this action activate it by setting",
      '  security-domain-certificates: 3 to 10 PEM files with RSA public keys, e.g. sd0.cer, sd1.cer, sd2.cer',
      '  security-domain-quorum: how many of their private keys are needed to recover, e.g. 2',
      '  security-domain-file: where to write the encrypted security domain, e.g. security-domain.json',
      'or activate it yourself and re-run:',
      '  openssl req -newkey rsa:2048 -nodes -keyout sd0.key -x509 -days 365 -out sd0.cer   (again for sd1 and sd2)',
      '  az keyvault security-domain download --hsm-name hsm-cmk --sd-wrapping-keys sd0.cer sd1.cer sd2.cer --sd-quorum 2 --security-domain-file hsm-cmk-security-domain.json',
      'Keep the private keys and the security domain file offline and apart: they are the only way to recover the HSM.'
    ])
  })
})

describe('preflight on the key and the identity', () => {
  it('refuses rotate-key on a key without a rotation policy, saying how to give it one', () => {
    const seen = observation({ rotationPolicy: null })
    expect(refusal(seen)).toBe(
      "rotate-key is true, but key 'cosmos-key' has no rotation policy, which Managed HSM needs before " +
        'it rotates a key on demand. Set key-rotate-after (and key-expire-after) to give it one.'
    )
  })

  it('refuses a user-assigned identity that does not exist, with the command that creates it', () => {
    const seen = observation()
    expect(refusal(seen, withUserAssigned('user-assigned'))).toBe(
      `User-assigned identity '${uaiId}' was not found. This action does not create identities: create it ` +
        'first (az identity create --resource-group rg-cmk --name id-cmk), or fix user-assigned-identity.'
    )
  })
})

describe("preflight on the signed-in principal's HSM roles", () => {
  const lettered = 'abcdefab-cdef-4abc-8def-abcdefabcdef'
  const auditor = '2c18b078-7c48-4d3a-af88-5a3a1b3f82b3'

  it('refuses a principal that is not an initial administrator and holds only roles that may not assign', () => {
    const seen = observation({
      hsm: activeHsm({ initialAdminObjectIds: [ids.client] }),
      adminGrants: [grant(hsmRoles.cryptoServiceEncryptionUser.id), grant(auditor)]
    })
    expect(refusal(seen)).toBe(
      `The signed-in principal ${ids.signedIn} holds no role on Managed HSM 'hsm-cmk' that may create the ` +
        `role assignments this run needs (it holds: ${hsmRoles.cryptoServiceEncryptionUser.id}, ${auditor}). ` +
        "It needs 'Managed HSM Administrator' (or 'Managed HSM Policy Administrator') at '/': ask an HSM " +
        'administrator to run az keyvault role assignment create --hsm-name hsm-cmk --role "Managed HSM Administrator" ' +
        `--assignee-object-id ${ids.signedIn} --scope /`
    )
  })

  it('lets an initial administrator through whatever the case of either id', () => {
    const adminGrants = [grant(hsmRoles.cryptoServiceEncryptionUser.id)]
    const upper = observation({
      hsm: activeHsm({ initialAdminObjectIds: [lettered.toUpperCase()] }),
      adminGrants
    })
    expect(passes(upper, baseInputs(), lettered)).toEqual(new Map())
    const lower = observation({
      hsm: activeHsm({ initialAdminObjectIds: [lettered] }),
      adminGrants
    })
    expect(passes(lower, baseInputs(), lettered.toUpperCase())).toEqual(new Map())
  })

  it('lets through a principal that holds, besides a role that may not assign, one it cannot judge', () => {
    const seen = observation({
      hsm: activeHsm({ initialAdminObjectIds: [] }),
      adminGrants: [
        grant(hsmRoles.cryptoServiceEncryptionUser.id),
        grant('99999999-aaaa-4bbb-8ccc-dddddddddddd')
      ]
    })
    expect(passes(seen)).toEqual(new Map())
  })
})

describe('preflight on turning customer-managed keys on for an existing account', () => {
  const plain = () => account('cosmos-cmk', { keyVaultKeyUri: undefined })

  it('refuses without enable-on-existing, saying what it would mean', () => {
    const seen = observation({ accounts: new Map([['cosmos-cmk', plain()]]) })
    expect(refusal(seen)).toBe(
      "Cosmos DB account 'cosmos-cmk' exists without a customer-managed key. Turning one on is irreversible and " +
        're-encrypts every document in the background (irreversible: every document is re-encrypted in the ' +
        'background while the account keeps serving; adding regions waits until it ends; document ids must be ' +
        '990 bytes or less; on a large account raise its throughput first, since the re-encryption uses spare ' +
        'request units). Set enable-on-existing: true to do it, or choose another account-name.'
    )
  })

  it('refuses an account with a capability that blocks it, whatever the case of its name', () => {
    const cassandra = account('cosmos-cmk', {
      keyVaultKeyUri: undefined,
      capabilities: ['ENABLECassandra']
    })
    const seen = observation({ accounts: new Map([['cosmos-cmk', cassandra]]) })
    expect(refusal(seen, enableOnExisting())).toBe(
      "Cosmos DB account 'cosmos-cmk' uses the Cassandra API, with which Azure Cosmos DB does not support turning " +
        'customer-managed keys on for an existing account. Create a new account with the key instead.'
    )
  })

  it('refuses continuous backup under the first-party identity, telling how to go on', () => {
    const backup = account('cosmos-cmk', {
      keyVaultKeyUri: undefined,
      backupPolicyType: 'Continuous'
    })
    const seen = observation({ accounts: new Map([['cosmos-cmk', backup]]) })
    expect(refusal(seen, enableOnExisting())).toBe(
      "Cosmos DB account 'cosmos-cmk' has continuous backup, and its default identity is FirstPartyIdentity: Azure Cosmos DB " +
        'turns customer-managed keys on for such an account only with a managed identity as default identity. ' +
        "Set identity-mode 'system-assigned' or 'user-assigned': this action switches the account to it, grants " +
        `it the key, and then turns the key on (${keyUri}), in the same run.`
    )
  })

  it('lets through continuous backup on an account whose default identity is a managed one', () => {
    // A user-assigned identity may well be named FirstPartyIdentity: it is not the first-party one.
    const named = `${uaiId.replace(/id-cmk$/, 'FirstPartyIdentity')}`
    const backup = account('cosmos-cmk', {
      keyVaultKeyUri: undefined,
      backupPolicyType: 'Continuous',
      defaultIdentity: `UserAssignedIdentity=${named}`
    })
    const seen = observation({ accounts: new Map([['cosmos-cmk', backup]]) })
    expect(passes(seen, enableOnExisting())).toEqual(new Map())
  })

  it('lists every problem of a single account on a line of its own', () => {
    const both = account('cosmos-cmk', {
      keyVaultKeyUri: undefined,
      capabilities: ['EnableMaterializedViews'],
      enableAnalyticalStorage: true
    })
    const message = refusal(
      observation({ accounts: new Map([['cosmos-cmk', both]]) }),
      enableOnExisting()
    )
    expect(message.split('\n')).toEqual([
      'Nothing was changed, because:',
      "- Cosmos DB account 'cosmos-cmk' uses materialized views, with which Azure Cosmos DB does not support " +
        'turning customer-managed keys on for an existing account. Create a new account with the key instead.',
      expect.stringMatching(
        /^- Cosmos DB account 'cosmos-cmk' has an analytical store, and its default/
      )
    ])
  })
})

describe('preflight on a fleet of accounts', () => {
  const fleet = (overrides: Partial<Inputs['account']> = {}): Inputs =>
    baseInputs({
      account: {
        ...baseInputs().account,
        others: ['cosmos-b'],
        enableOnExisting: true,
        ...overrides
      }
    })
  const blocked = (name: string) =>
    account(name, {
      keyVaultKeyUri: undefined,
      capabilities: ['EnableNoSQLVectorSearch', 'EnableAllVersionsAndDeletesChangeFeed']
    })
  const blockedWhy = (name: string) =>
    `Cosmos DB account '${name}' uses vector search, with which Azure Cosmos DB does not support turning ` +
    'customer-managed keys on for an existing account. Create a new account with the key instead. ' +
    `Cosmos DB account '${name}' uses the all-versions-and-deletes change feed, with which Azure Cosmos DB ` +
    'does not support turning customer-managed keys on for an existing account. Create a new account with ' +
    'the key instead.'

  it('answers the account that cannot succeed, with all its reasons in one line, and lets the others go on', () => {
    const seen = observation({
      accounts: new Map([
        ['cosmos-cmk', account('cosmos-cmk')],
        ['cosmos-b', blocked('cosmos-b')]
      ])
    })
    expect(passes(seen, fleet())).toEqual(new Map([['cosmos-b', blockedWhy('cosmos-b')]]))
  })

  it('refuses the run when no account could succeed, naming each', () => {
    const seen = observation({
      accounts: new Map([
        ['cosmos-cmk', blocked('cosmos-cmk')],
        ['cosmos-b', blocked('cosmos-b')]
      ])
    })
    expect(refusal(seen, fleet())).toBe(list(blockedWhy('cosmos-cmk'), blockedWhy('cosmos-b')))
  })

  it('checks the regions of the accounts to create when only some of them exist', () => {
    const seen = observation({
      providers: [
        {
          namespace: 'Microsoft.DocumentDB',
          registrationState: 'Registered',
          locations: { databaseaccounts: ['northeurope'] }
        }
      ],
      accounts: new Map<string, CosmosAccountState | undefined>([
        ['cosmos-cmk', account('cosmos-cmk')],
        ['cosmos-b', undefined]
      ])
    })
    expect(refusal(seen, fleet())).toBe(
      "Input 'location' is 'westeurope': Azure Cosmos DB is not offered in that region for subscription " +
        `${ids.subscription}. It is offered in: northeurope.`
    )
  })
})
