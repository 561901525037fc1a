import { describe, expect, it } from '@jest/globals'
import type { Inputs } from '../../src/inputs/settings.js'
import { ProvisioningError } from '../../src/provisioning-error.js'
import { hsmRoles, roleAssignmentName } from '../../src/roles.js'
import { FakeAzure, baseInputs, ids, onSystemIdentity } from './fakes.js'
import { harness } from './helpers.js'

const scope = '/keys/cosmos-key'
const encryptionUser = hsmRoles.cryptoServiceEncryptionUser.id
const grantName = (principal: string) =>
  roleAssignmentName('hsm-cmk', scope, encryptionUser, principal)

function teardown(mode: Inputs['mode'] = 'teardown'): Inputs {
  return {
    ...baseInputs(),
    mode,
    teardown: { confirm: 'cosmos-cmk', protectedTags: { environment: 'production' } }
  }
}

/** A PR environment: an account on its system identity, created with the first-party grant. */
function environment(azure = new FakeAzure()): FakeAzure {
  azure
    .withActiveHsm()
    .withKey()
    .withAccount(onSystemIdentity())
    .grant(encryptionUser, ids.systemPrincipal, scope, grantName(ids.systemPrincipal))
    .grant(encryptionUser, ids.cosmosSp, scope, grantName(ids.cosmosSp))
    .grant(hsmRoles.cryptoUser.id, ids.signedIn, '/keys', 'admin-grant')
    // Somebody else's grant on the same key, under another name.
    .grant(encryptionUser, '12121212-1212-1212-1212-121212121212', scope, 'foreign')
  return azure
}

const failure = async (run: Promise<unknown>) => (await run.catch(e => e)) as ProvisioningError

describe('mode teardown', () => {
  it("deletes the account first, then only this action's grants for it, and never the key or the HSM", async () => {
    const azure = environment()
    const keys = structuredClone(azure.keys)
    const result = await harness(azure).run(teardown())
    const writes = azure.writes()
    expect(writes.indexOf('account.delete')).toBeLessThan(writes.indexOf('rbac.delete'))
    expect(azure.account).toBeUndefined()
    expect(azure.assignments.map(a => a.name).sort()).toEqual(['admin-grant', 'foreign'].sort())
    expect(azure.keys).toEqual(keys)
    expect(writes.filter(w => /key\.|hsm\.create|settings/.test(w))).toEqual([])
    expect(JSON.parse(result.outputs['role-assignment-ids']!)).toHaveLength(2)
  })

  it('keeps the first-party grant while another account still uses the key through it', async () => {
    const azure = environment()
    azure.otherAccounts.push({
      ...structuredClone(azure.account!),
      id: '/subscriptions/x/resourceGroups/rg-other/providers/Microsoft.DocumentDB/databaseAccounts/other',
      name: 'other',
      defaultIdentity: 'FirstPartyIdentity',
      identity: { type: 'None', userAssignedIdentities: {} }
    })
    const result = await harness(azure).run(teardown())
    expect(azure.assignments.map(a => a.name)).toContain(grantName(ids.cosmosSp))
    expect(azure.assignments.map(a => a.name)).not.toContain(grantName(ids.systemPrincipal))
    expect(result.records).toContainEqual(
      expect.objectContaining({ step: 'Grant removal', result: 'skipped', action: 'keep it' })
    )
  })

  it('refuses an account tagged as protected, before any write', async () => {
    const azure = environment()
    azure.account!.tags = { 'created-by': 'cosmos-cmk-hsm-action', Environment: 'Production' }
    const error = await failure(harness(azure).run(teardown()))
    expect(error.message).toMatch(/protected-tags puts off limits for teardown/)
    expect(azure.writes()).toEqual([])
  })

  it('refuses an account this action cannot prove it created', async () => {
    const azure = environment()
    azure.account!.tags = {}
    const error = await failure(harness(azure).run(teardown()))
    expect(error.message).toMatch(/cannot prove it created it/)
    expect(azure.writes()).toEqual([])
  })

  it('plans: lists what it would delete and what it would leave, and writes nothing', async () => {
    const azure = environment()
    const result = await harness(azure).run(teardown('plan-teardown'))
    expect(azure.writes()).toEqual([])
    expect(result.records.filter(r => r.result === 'would-change').map(r => r.step)).toEqual([
      'Account deletion',
      'Grant removal',
      'Grant removal'
    ])
    expect(result.records).toContainEqual(
      expect.objectContaining({ step: 'Teardown', result: 'skipped' })
    )
  })

  it.each([
    ['teardown', 'changed'],
    ['plan-teardown', 'would-change']
  ] as const)('%s records each step in full, the key and the HSM kept', async (mode, result) => {
    const azure = new FakeAzure()
      .withActiveHsm()
      .withKey()
      .withAccount(onSystemIdentity())
      .grant(encryptionUser, ids.systemPrincipal, scope, grantName(ids.systemPrincipal))
      .grant(encryptionUser, ids.cosmosSp, scope, grantName(ids.cosmosSp))
    const { records } = await harness(azure).run(teardown(mode))
    const removal = `remove 'Managed HSM Crypto Service Encryption User' at ${scope}`
    expect(records.slice(2)).toEqual([
      {
        step: 'Account deletion',
        observed: 'present',
        action: "delete Cosmos DB account 'cosmos-cmk' (its data with it)",
        result
      },
      {
        step: 'Grant removal',
        observed: `${grantName(ids.systemPrincipal)} for the account's system-assigned identity ${ids.systemPrincipal}`,
        action: removal,
        result
      },
      {
        step: 'Grant removal',
        observed: `${grantName(ids.cosmosSp)} for the Azure Cosmos DB service principal ${ids.cosmosSp}`,
        action: removal,
        result
      },
      {
        step: 'Teardown',
        observed: "key 'cosmos-key', its versions and Managed HSM 'hsm-cmk'",
        action: 'keep them: teardown never deletes, purges or disables a key or an HSM',
        result: 'skipped'
      }
    ])
  })

  it('names every protected tag that puts the account off limits', async () => {
    const azure = environment()
    azure.account!.tags = {
      'created-by': 'cosmos-cmk-hsm-action',
      ENVIRONMENT: 'production',
      Owner: 'Platform'
    }
    const inputs = teardown()
    inputs.teardown.protectedTags = { environment: 'PRODUCTION', owner: 'platform', tier: 'gold' }
    const error = await failure(harness(azure).run(inputs))
    expect(error.cause).toEqual(
      new Error(
        "Cosmos DB account 'cosmos-cmk' is tagged environment=PRODUCTION, owner=platform, which " +
          'protected-tags puts off limits for teardown. Nothing was deleted.'
      )
    )
  })

  it('says which tag it looks for to prove it created the account', async () => {
    const azure = environment()
    azure.account!.tags = { 'created-by': 'someone-else' }
    const error = await failure(harness(azure).run(teardown()))
    expect(error.cause).toEqual(
      new Error(
        "Cosmos DB account 'cosmos-cmk' does not carry the tag created-by=cosmos-cmk-hsm-action, so " +
          'this action cannot prove it created it and leaves it alone. Nothing was deleted.'
      )
    )
  })

  it('converges when re-run after a crash between the account deletion and the grant removal', async () => {
    const azure = environment()
    azure.failNext('rbac.delete', () => new Error('the runner was killed'))
    await failure(harness(azure).run(teardown()))
    expect(azure.account).toBeUndefined()
    expect(azure.hsmState?.tags['cmk-teardown-cosmos-cmk']).toBeDefined()
    await harness(azure).run(teardown())
    expect(azure.assignments.map(a => a.name).sort()).toEqual(['admin-grant', 'foreign'].sort())
    expect(azure.hsmState?.tags['cmk-teardown-cosmos-cmk']).toBeUndefined()
  })
})
