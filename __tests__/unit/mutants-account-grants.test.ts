/**
 * What an existing account, a grant at another scope and an unfit HSM lead to: cases no other
 * unit test reached (found by mutation testing).
 */
import { describe, expect, it } from '@jest/globals'

import { hsmRoles, roleAssignmentName } from '../../src/roles.js'
import { ActionError } from '../../src/errors.js'
import { WaitTimeoutError } from '../../src/wait.js'
import { FakeAzure, baseInputs, ids, uaiId, withUserAssigned } from './fakes.js'
import { onSystemIdentity, onUserAssignedIdentity } from './fakes.js'
import { failure } from './outcomes.js'
import { harness } from './helpers.js'

const keyScope = '/keys/cosmos-key'

describe('an existing account that is still provisioning', () => {
  it('is waited for until it has succeeded, then used as it is', async () => {
    const azure = new FakeAzure()
      .withActiveHsm()
      .withKey()
      .withAccount({ provisioningState: 'Creating' })
      .grant(hsmRoles.cryptoUser.id, ids.signedIn, '/keys')
      .grant(hsmRoles.cryptoServiceEncryptionUser.id, ids.cosmosSp, keyScope)
    let reads = 0
    azure.before['account.get'] = () => {
      if (++reads === 3) azure.account!.provisioningState = 'Succeeded'
    }
    const h = harness(azure)
    const result = await h.run()
    expect(reads).toBe(3)
    expect(azure.writes()).toEqual([])
    const row = result.records.find(r => r.step === 'Cosmos DB account')
    expect(row).toMatchObject({ action: 'none', result: 'ok' })
    expect(row?.observed).toMatch(/^Succeeded, key /)
    expect(h.runner.logs).toContainEqual(
      "info: Waiting for Cosmos DB account 'cosmos-cmk' to finish Creating: provisioningState Creating"
    )
  })

  it('fails when it ends in provisioning state Failed', async () => {
    const azure = new FakeAzure().withActiveHsm().withKey().withAccount({
      provisioningState: 'Updating'
    })
    azure.before['account.get'] = () => {
      azure.account!.provisioningState = 'failed'
    }
    const error = await failure(harness(azure).run())
    expect(error.step).toBe('Cosmos DB account')
    expect(error.cause).toBeInstanceOf(ActionError)
    expect(error.message).toBe("Cosmos DB account 'cosmos-cmk' is in provisioning state Failed.")
  })

  it('fails when it disappears while being provisioned', async () => {
    const azure = new FakeAzure().withActiveHsm().withKey().withAccount({
      provisioningState: 'Creating'
    })
    let reads = 0
    azure.before['account.get'] = () => {
      if (++reads === 2) azure.account = undefined
    }
    const error = await failure(harness(azure).run())
    expect(error.cause).toBeInstanceOf(ActionError)
    expect(error.message).toBe(
      "Cosmos DB account 'cosmos-cmk' disappeared while being provisioned."
    )
  })

  it('gives up at the deadline, saying how to check the state', async () => {
    const azure = new FakeAzure().withActiveHsm().withKey().withAccount({
      provisioningState: 'Creating'
    })
    const h = harness(azure)
    const error = await failure(h.run())
    expect(error.cause).toBeInstanceOf(WaitTimeoutError)
    expect(error.message).toMatch(
      /^Gave up after 45 min 0 s waiting for Cosmos DB account 'cosmos-cmk' to finish Creating\. Last observation: provisioningState Creating\. Check: az cosmosdb show --name cosmos-cmk --resource-group rg-cmk --query provisioningState$/
    )
  })

  it('is not waited for in plan mode', async () => {
    const azure = new FakeAzure().withActiveHsm().withKey().withAccount({
      provisioningState: 'Creating'
    })
    const result = await harness(azure).run({ ...baseInputs(), mode: 'plan' })
    expect(azure.calls.filter(c => c === 'read account.get')).toHaveLength(1)
    expect(result.records.find(r => r.step === 'Cosmos DB account')).toMatchObject({
      observed: expect.stringMatching(/^Creating, key /),
      result: 'ok'
    })
  })
})

describe('an existing account in user-assigned mode', () => {
  it('gets the identity attached, then its default identity switched, in updates of their own', async () => {
    const azure = new FakeAzure().withActiveHsm().withKey().withUai().withAccount()
    const h = harness(azure)
    const result = await h.run(withUserAssigned('user-assigned'))
    expect(azure.writes().filter(w => w.startsWith('account.'))).toEqual([
      'account.update identity',
      'account.update defaultIdentity'
    ])
    expect(azure.account?.identity.type).toBe('UserAssigned')
    expect(Object.keys(azure.account!.identity.userAssignedIdentities)).toEqual([uaiId])
    expect(azure.account?.defaultIdentity).toBe(`UserAssignedIdentity=${uaiId}`)
    expect(result.records.find(r => r.step === 'Account identity')).toMatchObject({
      observed: 'identity None',
      action: `attach user-assigned identity ${uaiId}`,
      result: 'changed'
    })
    expect(result.outputs['cosmos-principal-id']).toBe(ids.uaiPrincipal)
  })

  it('keeps a system-assigned identity the account has when attaching one', async () => {
    const { identity } = onSystemIdentity()
    const azure = new FakeAzure().withActiveHsm().withKey().withUai().withAccount({ identity })
    await harness(azure).run(withUserAssigned('user-assigned'))
    expect(azure.account?.identity.type).toBe('SystemAssigned,UserAssigned')
  })

  it('in plan mode says what it would attach and writes nothing', async () => {
    const azure = new FakeAzure().withActiveHsm().withKey().withUai().withAccount()
    const result = await harness(azure).run({ ...withUserAssigned('user-assigned'), mode: 'plan' })
    expect(azure.writes()).toEqual([])
    expect(result.records.find(r => r.step === 'Account identity')).toMatchObject({
      action: `attach user-assigned identity ${uaiId}`,
      result: 'would-change'
    })
    expect(result.changed).toBe(true)
  })

  it('changes nothing when the identity is attached already, whatever the case of its id', async () => {
    const azure = new FakeAzure()
      .withActiveHsm()
      .withKey()
      .withUai()
      .withAccount(onUserAssignedIdentity(uaiId.toLowerCase()))
      .grant(hsmRoles.cryptoUser.id, ids.signedIn, '/keys')
      .grant(hsmRoles.cryptoServiceEncryptionUser.id, ids.uaiPrincipal, keyScope)
    const result = await harness(azure).run(withUserAssigned('user-assigned'))
    expect(azure.writes()).toEqual([])
    expect(result.changed).toBe(false)
  })
})

describe('a new account in plan mode', () => {
  it('says what it would create, with kind, capabilities, regions, key and identity', async () => {
    const azure = new FakeAzure().withActiveHsm().withKey()
    const inputs = baseInputs({
      mode: 'plan',
      account: { ...baseInputs().account, api: 'gremlin', locations: ['westeurope', 'northeurope'] }
    })
    const result = await harness(azure).run(inputs)
    expect(result.records.find(r => r.step === 'Cosmos DB account')).toEqual({
      step: 'Cosmos DB account',
      observed: 'absent',
      action:
        'create gremlin (GlobalDocumentDB + EnableGremlin) in westeurope, northeurope with key ' +
        'https://hsm-cmk.managedhsm.azure.net/keys/cosmos-key and default identity FirstPartyIdentity',
      result: 'would-change'
    })
  })
})

describe('a grant held at another scope', () => {
  const encryptionUser = hsmRoles.cryptoServiceEncryptionUser.id

  /** An HSM, key and account; the signed-in principal holds Crypto User at `adminScope`. */
  const deployed = (adminScope = '/keys', adminName = 'admin') =>
    new FakeAzure()
      .withActiveHsm()
      .withKey()
      .withAccount()
      .grant(hsmRoles.cryptoUser.id, ids.signedIn, adminScope, adminName)

  it('a Crypto User grant on one key does not stand in for the one at /keys', async () => {
    const azure = deployed(keyScope, 'key-only').grant(
      encryptionUser,
      ids.cosmosSp,
      keyScope,
      'cosmos'
    )
    await harness(azure).run()
    const wanted = roleAssignmentName('hsm-cmk', '/keys', hsmRoles.cryptoUser.id, ids.signedIn)
    expect(azure.writes()).toEqual(['rbac.create'])
    expect(azure.assignments.find(a => a.name === wanted)?.scope).toBe('/keys')
  })

  it('a grant on one key does not stand in for role-scope keys, one at / does', async () => {
    const onOneKey = deployed().grant(encryptionUser, ids.cosmosSp, keyScope, 'narrow')
    await harness(onOneKey).run({ ...baseInputs(), roleScope: 'keys' })
    expect(onOneKey.writes()).toEqual(['rbac.create'])
    expect(onOneKey.assignments.at(-1)).toMatchObject({ principalId: ids.cosmosSp, scope: '/keys' })

    const atRoot = deployed().grant(encryptionUser, ids.cosmosSp, '/', 'wide')
    await harness(atRoot).run({ ...baseInputs(), roleScope: 'keys' })
    expect(atRoot.writes()).toEqual([])
  })

  it('a grant of another role at the scope does not count either', async () => {
    const azure = deployed().grant(hsmRoles.cryptoUser.id, ids.cosmosSp, keyScope, 'wrong-role')
    await harness(azure).run()
    expect(azure.writes()).toEqual(['rbac.create'])
    expect(azure.assignments.at(-1)?.roleDefinitionId).toMatch(new RegExp(`${encryptionUser}$`))
  })
})

describe('an existing HSM that Azure Cosmos DB cannot use', () => {
  it('is refused before any write when soft delete is off', async () => {
    const azure = new FakeAzure().withActiveHsm({ enableSoftDelete: false })
    const error = await failure(harness(azure).run())
    expect(error.message).toBe(
      "Managed HSM 'hsm-cmk' has soft delete turned off; Azure Cosmos DB requires it."
    )
    expect(azure.writes()).toEqual([])
  })

  it.each(['Failed', 'Deleting'])(
    'is refused before any write in provisioning state %s',
    async state => {
      const azure = new FakeAzure().withActiveHsm({
        provisioningState: state,
        statusMessage: 'the pool was lost'
      })
      const error = await failure(harness(azure).run())
      expect(error.message).toBe(
        `Managed HSM 'hsm-cmk' is in provisioning state ${state}: the pool was lost.`
      )
      expect(azure.writes()).toEqual([])
    }
  )
})
