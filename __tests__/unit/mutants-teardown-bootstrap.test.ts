/** Teardown and the removal of the bootstrap grant: which grants go, which stay, and why. */
import { describe, expect, it } from '@jest/globals'
import type { CosmosAccountState } from '../../src/azure/api.js'
import type { Inputs } from '../../src/inputs/settings.js'
import { hsmRoles, roleAssignmentName } from '../../src/roles.js'
import { FakeAzure, baseInputs, ids, uaiId, withUserAssigned } from './fakes.js'
import { bootstrapKeptUntilSwitch, expectRow, rowOf } from './outcomes.js'
import { harness } from './helpers.js'

const keyScope = '/keys/cosmos-key'
const keyUri = 'https://hsm-cmk.managedhsm.azure.net/keys/cosmos-key'
const encryptionUser = hsmRoles.cryptoServiceEncryptionUser.id
const ours = (principal: string, scope = keyScope) =>
  roleAssignmentName('hsm-cmk', scope, encryptionUser, principal)

const teardownOf = (inputs: Inputs, mode: Inputs['mode'] = 'teardown'): Inputs => ({
  ...inputs,
  mode,
  teardown: { confirm: 'cosmos-cmk', protectedTags: { environment: 'production' } }
})

/** Another account of the subscription, on `keyUri` with `defaultIdentity`. */
function other(azure: FakeAzure, overrides: Partial<CosmosAccountState>): CosmosAccountState {
  return {
    ...structuredClone(azure.account!),
    id: '/subscriptions/s/resourceGroups/rg-other/providers/Microsoft.DocumentDB/databaseAccounts/other',
    name: 'other',
    identity: { type: 'None', userAssignedIdentities: {} },
    ...overrides
  }
}

describe('teardown of a user-assigned account', () => {
  const uaiAccount = () =>
    new FakeAzure()
      .withActiveHsm()
      .withKey()
      .withUai()
      .withAccount({
        defaultIdentity: `UserAssignedIdentity=${uaiId}`,
        identity: { type: 'UserAssigned', userAssignedIdentities: { [uaiId.toUpperCase()]: {} } }
      })
      .grant(encryptionUser, ids.uaiPrincipal, keyScope, ours(ids.uaiPrincipal))

  it("removes the identity's grant when no other account uses it", async () => {
    const azure = uaiAccount()
    const result = await harness(azure).run(teardownOf(withUserAssigned('user-assigned')))
    expect(azure.assignments.map(a => a.name)).not.toContain(ours(ids.uaiPrincipal))
    expect(result.records.find(r => r.step === 'Grant removal' && r.result === 'changed')).toEqual({
      step: 'Grant removal',
      observed: `${ours(ids.uaiPrincipal)} for user-assigned identity ${uaiId} ${ids.uaiPrincipal}`,
      action: "remove 'Managed HSM Crypto Service Encryption User' at /keys/cosmos-key",
      result: 'changed'
    })
    expect(JSON.parse(result.outputs['role-assignment-ids']!)).toEqual([
      `/providers/Microsoft.Authorization/roleAssignments/${ours(ids.uaiPrincipal)}`
    ])
  })

  it('keeps it while another account reaches the key with that identity attached', async () => {
    const azure = uaiAccount()
    azure.otherAccounts.push(
      other(azure, {
        defaultIdentity: 'SystemAssignedIdentity',
        identity: { type: 'UserAssigned', userAssignedIdentities: { [uaiId.toLowerCase()]: {} } }
      })
    )
    const result = await harness(azure).run(teardownOf(withUserAssigned('user-assigned')))
    expect(azure.assignments.map(a => a.name)).toContain(ours(ids.uaiPrincipal))
    expect(result.records).toContainEqual({
      step: 'Grant removal',
      observed: `the grant of user-assigned identity ${uaiId}: another account still uses the key through it`,
      action: 'keep it',
      result: 'skipped'
    })
  })

  it('removes it when the other account is on another key, or on the key without that identity', async () => {
    const azure = uaiAccount()
    azure.otherAccounts.push(
      other(azure, {
        defaultIdentity: `UserAssignedIdentity=${uaiId}`,
        keyVaultKeyUri: 'https://hsm-cmk.managedhsm.azure.net/keys/another-key'
      }),
      other(azure, { defaultIdentity: 'FirstPartyIdentity', keyVaultKeyUri: keyUri }),
      other(azure, { keyVaultKeyUri: undefined, defaultIdentity: `UserAssignedIdentity=${uaiId}` })
    )
    await harness(azure).run(teardownOf(withUserAssigned('user-assigned')))
    expect(azure.assignments.map(a => a.name)).not.toContain(ours(ids.uaiPrincipal))
  })
})

describe('teardown with nothing to delete', () => {
  it('says the account is absent and removes the grants an earlier teardown noted', async () => {
    const azure = new FakeAzure()
      .withActiveHsm({
        tags: { 'cmk-teardown-cosmos-cmk': `${ids.systemPrincipal},${ids.cosmosSp}` }
      })
      .withKey()
      .grant(encryptionUser, ids.systemPrincipal, keyScope, ours(ids.systemPrincipal))
    const result = await harness(azure).run(teardownOf(baseInputs()))
    expectRow(result.records, 'Account deletion', 'absent', 'none', 'ok')
    expect(azure.assignments).toEqual([])
    expect(azure.hsmState?.tags).toEqual({})
    expect(result.records.find(r => r.observed.startsWith(ours(ids.cosmosSp)))).toEqual({
      step: 'Grant removal',
      observed: `${ours(ids.cosmosSp)} for a principal noted by an earlier teardown ${ids.cosmosSp} absent`,
      action: 'none',
      result: 'ok'
    })
  })

  it('in plan mode keeps the note on the HSM', async () => {
    const azure = new FakeAzure()
      .withActiveHsm({ tags: { 'cmk-teardown-cosmos-cmk': ids.systemPrincipal } })
      .grant(encryptionUser, ids.systemPrincipal, keyScope, ours(ids.systemPrincipal))
    const result = await harness(azure).run(teardownOf(baseInputs(), 'plan-teardown'))
    expect(azure.writes()).toEqual([])
    expect(azure.hsmState?.tags['cmk-teardown-cosmos-cmk']).toBe(ids.systemPrincipal)
    expect(result.records.find(r => r.step === 'Grant removal')?.result).toBe('would-change')
  })

  it('removes no grant on an HSM that is not active, and needs no HSM at all', async () => {
    const inactive = new FakeAzure()
      .withActiveHsm({
        activationStatus: 'NotActivated',
        tags: { 'cmk-teardown-cosmos-cmk': ids.systemPrincipal }
      })
      .grant(encryptionUser, ids.systemPrincipal, keyScope, ours(ids.systemPrincipal))
    await harness(inactive).run(teardownOf(baseInputs()))
    expect(inactive.writes()).toEqual(['hsm.untag'])
    expect(inactive.assignments).toHaveLength(1)

    const none = new FakeAzure()
    const result = await harness(none).run(teardownOf(baseInputs()))
    expect(none.writes()).toEqual([])
    expect(result.outputs['role-assignment-ids']).toBe('[]')
    expect(result.outputs['hsm-uri']).toBe('https://hsm-cmk.managedhsm.azure.net')
  })
})

describe('teardown of a first-party account whose grant was never noted', () => {
  it('deletes the account without tagging the HSM when there is nothing to remove', async () => {
    const azure = new FakeAzure()
      .withActiveHsm()
      .withKey()
      .withAccount({ keyVaultKeyUri: undefined })
    const inputs = baseInputs({
      identity: {
        mode: 'user-assigned',
        bootstrap: 'user-assigned',
        removeBootstrapAssignment: false
      }
    })
    await harness(azure).run(teardownOf(inputs))
    expect(azure.writes()).toEqual(['account.delete'])
  })
})

describe('the bootstrap grant after the switch to the system-assigned identity', () => {
  const removing = (bootstrap: 'first-party' | 'user-assigned' = 'first-party') =>
    bootstrap === 'first-party'
      ? baseInputs({
          identity: { mode: 'system-assigned', bootstrap, removeBootstrapAssignment: true }
        })
      : withUserAssigned('system-assigned', 'user-assigned', true)

  it('in plan mode, with the account not switched yet, says it would be removed once it is', async () => {
    const azure = new FakeAzure().withActiveHsm().withKey().withAccount()
    const result = await harness(azure).run({ ...removing(), mode: 'plan' })
    expect(rowOf(result.records, 'Bootstrap assignment')).toEqual(bootstrapKeptUntilSwitch)
  })

  it('of a user-assigned bootstrap identity is removed, and only that one', async () => {
    const azure = new FakeAzure().withActiveHsm().withUai()
    const result = await harness(azure).run(removing('user-assigned'))
    expect(azure.assignments.map(a => a.principalId)).not.toContain(ids.uaiPrincipal)
    expect(azure.assignments.map(a => a.principalId)).toContain(ids.systemPrincipal)
    expect(result.records.find(r => r.step === 'Bootstrap assignment')).toMatchObject({
      action: `remove ${ours(ids.uaiPrincipal)} ('Managed HSM Crypto Service Encryption User' for ${ids.uaiPrincipal} at ${keyScope})`,
      result: 'changed'
    })
  })

  it('is removed although accounts on another HSM, or with no usable key URI, use the identity', async () => {
    const azure = new FakeAzure().withActiveHsm()
    await harness(azure).run(removing())
    azure.otherAccounts.push(
      other(azure, {
        defaultIdentity: 'FirstPartyIdentity',
        keyVaultKeyUri: 'https://other-hsm.managedhsm.azure.net/keys/cosmos-key'
      }),
      other(azure, { defaultIdentity: 'FirstPartyIdentity', keyVaultKeyUri: 'not a uri' })
    )
    azure.grant(encryptionUser, ids.cosmosSp, keyScope, ours(ids.cosmosSp))
    await harness(azure).run(removing())
    expect(azure.assignments.map(a => a.name)).not.toContain(ours(ids.cosmosSp))
  })

  it('at role-scope keys is kept while another account uses any key of the HSM with it', async () => {
    const azure = new FakeAzure().withActiveHsm()
    const keys = { ...removing(), roleScope: 'keys' as const }
    await harness(azure).run(keys)
    azure.otherAccounts.push(
      other(azure, {
        defaultIdentity: 'FirstPartyIdentity',
        keyVaultKeyUri: 'https://hsm-cmk.managedhsm.azure.net/keys/another-key'
      })
    )
    azure.grant(encryptionUser, ids.cosmosSp, '/keys', ours(ids.cosmosSp, '/keys'))
    const h = harness(azure)
    const result = await h.run(keys)
    expect(azure.assignments.map(a => a.name)).toContain(ours(ids.cosmosSp, '/keys'))
    expectRow(
      result.records,
      'Bootstrap assignment',
      `${ours(ids.cosmosSp, '/keys')} present, still used by other`,
      'keep it',
      'skipped'
    )
    expect(h.runner.logs).toContainEqual(
      `warning: Keeping role assignment ${ours(ids.cosmosSp, '/keys')}: Cosmos DB account(s) other still use FirstPartyIdentity with a key under /keys.`
    )
  })

  it("is left when the assignment under this action's name is another principal's or role's", async () => {
    const azure = new FakeAzure().withActiveHsm()
    await harness(azure).run(removing())
    azure.grant(hsmRoles.cryptoUser.id, ids.cosmosSp, keyScope, ours(ids.cosmosSp))
    const result = await harness(azure).run(removing())
    expect(azure.assignments.map(a => a.name)).toContain(ours(ids.cosmosSp))
    expectRow(result.records, 'Bootstrap assignment', `${ours(ids.cosmosSp)} absent`, 'none', 'ok')
  })

  it('in plan mode on a switched account says it would remove the grant, and removes nothing', async () => {
    const azure = new FakeAzure().withActiveHsm()
    await harness(azure).run(removing())
    azure.grant(encryptionUser, ids.cosmosSp, keyScope, ours(ids.cosmosSp))
    const result = await harness(azure).run({ ...removing(), mode: 'plan' })
    expect(azure.assignments.map(a => a.name)).toContain(ours(ids.cosmosSp))
    expect(result.records.find(r => r.step === 'Bootstrap assignment')).toMatchObject({
      observed: `${ours(ids.cosmosSp)} present`,
      result: 'would-change'
    })
  })
})
