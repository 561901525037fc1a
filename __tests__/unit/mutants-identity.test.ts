/** The account's identities: plans, a principal reported late, locks held by other operations. */
import { describe, expect, it } from '@jest/globals'
import type { CosmosAccountState } from '../../src/azure/api.js'
import type { Inputs } from '../../src/inputs/settings.js'
import { ProvisioningError } from '../../src/provisioning-error.js'
import { hsmRoles } from '../../src/roles.js'
import { ActionError } from '../../src/errors.js'
import { FakeAzure, baseInputs, ids, restError, uaiId, withUserAssigned } from './fakes.js'
import { expectRow } from './outcomes.js'
import { harness } from './helpers.js'

const keyScope = '/keys/cosmos-key'

const systemInputs = (overrides: Partial<Inputs> = {}): Inputs => ({
  ...baseInputs({
    identity: {
      mode: 'system-assigned',
      bootstrap: 'first-party',
      removeBootstrapAssignment: false
    }
  }),
  ...overrides
})

/** An existing account with its system-assigned identity on, and `defaultIdentity`. */
function onSystemIdentity(defaultIdentity = 'FirstPartyIdentity'): FakeAzure {
  return new FakeAzure()
    .withActiveHsm()
    .withKey()
    .withAccount({
      defaultIdentity,
      identity: {
        type: 'SystemAssigned',
        principalId: ids.systemPrincipal,
        userAssignedIdentities: {}
      }
    })
}

/** The account as an answer that does not show its system-assigned principal yet. */
const withoutPrincipal = (account: CosmosAccountState): CosmosAccountState => ({
  ...account,
  identity: { ...account.identity, principalId: undefined }
})

/** An Azure whose account updates answer without the system-assigned principal. */
class QuietPrincipalAzure extends FakeAzure {
  /** Whether a read of the account shows the principal. */
  readShowsPrincipal = true

  constructor() {
    super()
    this.around('cosmos', 'update', update => async (...args) => {
      return withoutPrincipal(await update(...args))
    })
    this.around('cosmos', 'get', get => async () => {
      const account = await get()
      return account && !this.readShowsPrincipal ? withoutPrincipal(account) : account
    })
  }
}

describe('system-assigned mode on an existing account', () => {
  it('in plan mode lists enabling, granting and switching, and writes nothing', async () => {
    const azure = new FakeAzure().withActiveHsm().withKey().withAccount()
    const result = await harness(azure).run(systemInputs({ mode: 'plan' }))
    expect(azure.writes()).toEqual([])
    const rows = result.records.filter(r =>
      ['System-assigned identity', 'System identity key access', 'Default identity'].includes(
        r.step
      )
    )
    expect(rows).toEqual([
      {
        step: 'System-assigned identity',
        observed: 'identity None',
        action: 'enable (identity type SystemAssigned)',
        result: 'would-change'
      },
      {
        step: 'System identity key access',
        observed: 'principal not created yet',
        action: `assign 'Managed HSM Crypto Service Encryption User' at ${keyScope}`,
        result: 'would-change'
      },
      {
        step: 'Default identity',
        observed: 'FirstPartyIdentity',
        action: 'set to SystemAssignedIdentity',
        result: 'would-change'
      }
    ])
  })

  it('in plan mode with the identity on but no grant yet, says the switch would follow', async () => {
    const azure = onSystemIdentity()
    const result = await harness(azure).run(systemInputs({ mode: 'plan' }))
    expectRow(
      result.records,
      'Default identity',
      'FirstPartyIdentity',
      'set to SystemAssignedIdentity',
      'would-change'
    )
    expect(result.records.find(r => r.step === 'System identity key access')).toMatchObject({
      result: 'would-change',
      action: expect.stringMatching(/^assign as [0-9a-f-]{36}$/)
    })
  })

  it('in plan mode with the switch done but the grant gone, reports the switch as in place', async () => {
    const azure = onSystemIdentity('SystemAssignedIdentity')
    const result = await harness(azure).run(systemInputs({ mode: 'plan' }))
    expect(result.records.find(r => r.step === 'Default identity')).toMatchObject({
      observed: 'SystemAssignedIdentity',
      result: 'ok'
    })
  })

  it('reads the account again when the update answers without the new principal', async () => {
    const azure = new QuietPrincipalAzure().withActiveHsm().withKey().withAccount()
    const result = await harness(azure).run(systemInputs())
    expect(result.outputs['system-assigned-principal-id']).toBe(ids.systemPrincipal)
    expect(result.records.find(r => r.step === 'System-assigned identity')).toMatchObject({
      action: `enable (identity type SystemAssigned): principal ${ids.systemPrincipal}`,
      result: 'changed'
    })
  })

  it('fails, naming the account, when no principal shows up at all', async () => {
    const azure = new QuietPrincipalAzure().withActiveHsm().withKey().withAccount()
    azure.readShowsPrincipal = false
    const error = (await harness(azure)
      .run(systemInputs())
      .catch(e => e)) as ProvisioningError
    expect(error).toBeInstanceOf(ProvisioningError)
    expect(error.cause).toBeInstanceOf(ActionError)
    expect(error.message).toBe(
      "Cosmos DB account 'cosmos-cmk' reports no system-assigned principal after enabling it."
    )
  })

  it('keeps the user-assigned identities it has when enabling the system-assigned one', async () => {
    const azure = new FakeAzure()
      .withActiveHsm()
      .withKey()
      .withAccount({ identity: { type: 'UserAssigned', userAssignedIdentities: { [uaiId]: {} } } })
    const result = await harness(azure).run(systemInputs())
    expect(result.records.find(r => r.step === 'System-assigned identity')?.action).toMatch(
      /^enable \(identity type SystemAssigned,UserAssigned\)/
    )
    expect(Object.keys(azure.account!.identity.userAssignedIdentities)).toEqual([uaiId])
  })

  it('is left alone when it uses its system-assigned identity already', async () => {
    const azure = onSystemIdentity('SystemAssignedIdentity')
      .grant(hsmRoles.cryptoUser.id, ids.signedIn, '/keys')
      .grant(hsmRoles.cryptoServiceEncryptionUser.id, ids.systemPrincipal, keyScope)
    const result = await harness(azure).run(systemInputs())
    expect(azure.writes()).toEqual([])
    expect(result.records.find(r => r.step === 'System-assigned identity')).toMatchObject({
      observed: `enabled, principal ${ids.systemPrincipal}`,
      result: 'ok'
    })
    expect(result.outputs['cosmos-principal-id']).toBe(ids.systemPrincipal)
  })
})

describe('a new account in system-assigned mode, planned', () => {
  it('says that the identity is enabled, granted and switched to once the account exists', async () => {
    const azure = new FakeAzure().withActiveHsm().withKey()
    const result = await harness(azure).run(systemInputs({ mode: 'plan', roleScope: 'keys' }))
    expectRow(
      result.records,
      'System-assigned identity',
      'account not created yet',
      "enable, assign 'Managed HSM Crypto Service Encryption User' at /keys, set default identity SystemAssignedIdentity",
      'would-change'
    )
  })
})

describe('account updates while another operation holds the account', () => {
  it('repeat an identity update refused with 412 until it goes through', async () => {
    const azure = new FakeAzure().withActiveHsm().withKey().withUai().withAccount()
    azure.failNext('account.update identity', () =>
      restError(412, 'PreconditionFailed', 'There is already an operation in progress')
    )
    const h = harness(azure)
    await h.run(withUserAssigned('user-assigned'))
    expect(azure.writes().filter(w => w === 'account.update identity')).toHaveLength(2)
    expect(h.runner.logs).toContainEqual(
      expect.stringMatching(/another operation on the account is in progress/)
    )
  })

  it('skip an update a parallel run made meanwhile', async () => {
    const azure = new FakeAzure().withActiveHsm().withKey().withUai().withAccount()
    azure.failNext('account.update identity', () => {
      azure.account!.identity = { type: 'UserAssigned', userAssignedIdentities: { [uaiId]: {} } }
      return restError(0, 'OutcomeUnknown', 'The outcome of PATCH is unknown')
    })
    await harness(azure).run(withUserAssigned('user-assigned'))
    expect(azure.writes().filter(w => w === 'account.update identity')).toHaveLength(1)
  })

  it('fail at once on any other refusal', async () => {
    const azure = new FakeAzure().withActiveHsm().withKey().withUai().withAccount()
    azure.failAlways('account.update identity', () =>
      restError(400, 'BadRequest', 'no such identity')
    )
    const error = (await harness(azure)
      .run(withUserAssigned('user-assigned'))
      .catch(e => e)) as ProvisioningError
    expect(error).toBeInstanceOf(ProvisioningError)
    expect(error.message).toBe('no such identity')
    expect(azure.writes().filter(w => w === 'account.update identity')).toHaveLength(1)
  })
})

describe('the default identity switch', () => {
  it('is retried while Azure Cosmos DB cannot use the key with the new identity yet', async () => {
    const azure = new FakeAzure().withActiveHsm().withKey().withAccount()
    azure.failNext('account.update defaultIdentity', () =>
      restError(400, 'BadRequest', 'KeyVaultAuthenticationFailure: not permitted yet')
    )
    const h = harness(azure)
    await h.run(systemInputs())
    expect(azure.account?.defaultIdentity).toBe('SystemAssignedIdentity')
    expect(azure.writes().filter(w => w === 'account.update defaultIdentity')).toHaveLength(2)
    expect(h.runner.logs).toContainEqual(
      expect.stringMatching(/the identity cannot use the key yet \(KeyVaultAuthenticationFailure\)/)
    )
  })

  it('compares identities without case or surrounding space', async () => {
    const account: Partial<CosmosAccountState> = { defaultIdentity: ' firstpartyidentity ' }
    const azure = new FakeAzure()
      .withActiveHsm()
      .withKey()
      .withAccount(account)
      .grant(hsmRoles.cryptoUser.id, ids.signedIn, '/keys')
      .grant(hsmRoles.cryptoServiceEncryptionUser.id, ids.cosmosSp, keyScope)
    const result = await harness(azure).run()
    expect(azure.writes()).toEqual([])
    expect(result.records.find(r => r.step === 'Default identity')).toMatchObject({ result: 'ok' })
  })

  it('in plan mode says what it would set', async () => {
    const azure = new FakeAzure()
      .withActiveHsm()
      .withKey()
      .withAccount({ defaultIdentity: undefined })
    const result = await harness(azure).run({ ...baseInputs(), mode: 'plan' })
    expectRow(
      result.records,
      'Default identity',
      'none',
      'set to FirstPartyIdentity',
      'would-change'
    )
  })
})
