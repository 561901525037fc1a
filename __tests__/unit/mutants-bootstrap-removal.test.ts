/** Removing the bootstrap grant: which other accounts keep it, and what is said and recorded. */
import { describe, expect, it } from '@jest/globals'
import type { CosmosAccountState } from '../../src/azure/api.js'
import type { Inputs } from '../../src/inputs/settings.js'
import { hsmRoles, roleAssignmentName } from '../../src/roles.js'
import { removeBootstrapAssignment } from '../../src/steps/bootstrap.js'
import { FakeAzure, baseInputs, ids, restError, uaiId, onSystemIdentity } from './fakes.js'
import { expectRow } from './outcomes.js'
import { stepContext } from './step-context.js'

const keyUri = 'https://hsm-cmk.managedhsm.azure.net/keys/cosmos-key'
const role = hsmRoles.cryptoServiceEncryptionUser
const lettered = 'abcdefab-cdef-4abc-8def-abcdefabcdef'

const inputs = (
  roleScope: Inputs['roleScope'] = 'key',
  bootstrap: Inputs['identity']['bootstrap'] = 'first-party'
): Inputs =>
  baseInputs({
    roleScope,
    identity: {
      mode: 'system-assigned',
      bootstrap,
      removeBootstrapAssignment: true,
      ...(bootstrap === 'user-assigned'
        ? {
            userAssignedIdentity: {
              subscriptionId: ids.subscription,
              resourceGroup: 'rg-cmk',
              name: 'id-cmk',
              id: uaiId
            }
          }
        : {})
    }
  })

/** The account once it is verified on its system-assigned identity. */
const verifiedAccount = (azure: FakeAzure): CosmosAccountState =>
  azure.withAccount(onSystemIdentity()).account!

const other = (name: string, overrides: Partial<CosmosAccountState> = {}): CosmosAccountState => ({
  ...new FakeAzure().withAccount().account!,
  id: `/subscriptions/${ids.subscription}/resourceGroups/rg-other/providers/Microsoft.DocumentDB/databaseAccounts/${name}`,
  name,
  ...overrides
})

/** Runs the removal with the bootstrap grant in place for `principalId` at the run's key scope. */
async function removal(
  azure: FakeAzure,
  given: Inputs,
  principalId = ids.cosmosSp,
  userAssignedIdentity?: { id: string; principalId: string }
) {
  const h = stepContext(given, {}, azure)
  const scope = given.roleScope === 'key' ? '/keys/cosmos-key' : '/keys'
  const name = roleAssignmentName('hsm-cmk', scope, role.id, principalId)
  azure.grant(role.id, principalId, scope, name)
  const account = azure.account ?? verifiedAccount(azure)
  const removed = await removeBootstrapAssignment(h.ctx, {
    rbac: azure.hsm().rbac,
    verified: true,
    account,
    keyUri,
    userAssignedIdentity
  })
  return { ...h, name, scope, removed }
}

describe('removing the bootstrap grant', () => {
  it('removes the grant held by the bootstrap principal under its name, and records it', async () => {
    const azure = new FakeAzure()
    azure.graphCosmosSp = lettered
    verifiedAccount(azure)
    const { ctx, name, removed } = await removal(azure, inputs(), lettered)
    expect(azure.writes()).toEqual(['rbac.delete'])
    expect(removed).toBe(`/providers/Microsoft.Authorization/roleAssignments/${name}`)
    expectRow(
      ctx.records,
      'Bootstrap assignment',
      `${name} present`,
      `remove ${name} ('${role.name}' for ${lettered} at /keys/cosmos-key)`,
      'changed'
    )
  })

  it('ignores the account itself in a list that still shows it on the bootstrap identity', async () => {
    const azure = new FakeAzure()
    const account = verifiedAccount(azure)
    // The list lags behind: it shows the account as it was before the switch.
    azure.account = { ...account, defaultIdentity: 'FirstPartyIdentity' }
    const h = stepContext(inputs(), {}, azure)
    const name = roleAssignmentName('hsm-cmk', '/keys/cosmos-key', role.id, ids.cosmosSp)
    azure.grant(role.id, ids.cosmosSp, '/keys/cosmos-key', name)
    await removeBootstrapAssignment(h.ctx, {
      rbac: azure.hsm().rbac,
      verified: true,
      account,
      keyUri
    })
    expect(azure.writes()).toEqual(['rbac.delete'])
  })

  it.each<[Inputs['roleScope'], string, string]>([
    ['key', 'another key of the same HSM', 'https://hsm-cmk.managedhsm.azure.net/keys/other-key'],
    ['keys', 'a key of another HSM', 'https://hsm-other.managedhsm.azure.net/keys/cosmos-key']
  ])(
    'with role-scope %s, removes a grant that an account on %s does not use',
    async (roleScope, _where, keyVaultKeyUri) => {
      const azure = new FakeAzure()
      verifiedAccount(azure)
      azure.otherAccounts = [other('cosmos-other', { keyVaultKeyUri })]
      await removal(azure, inputs(roleScope))
      expect(azure.writes()).toEqual(['rbac.delete'])
    }
  )

  it('with role-scope keys, keeps it for an account on another key of the same HSM, saying why', async () => {
    const azure = new FakeAzure()
    verifiedAccount(azure)
    const otherKey = 'https://HSM-CMK.managedhsm.azure.net/keys/other-key'
    azure.otherAccounts = [other('cosmos-other', { keyVaultKeyUri: otherKey })]
    const { ctx, runner, name } = await removal(azure, inputs('keys'))
    expect(azure.writes()).toEqual([])
    expect(runner.logs).toContain(
      `warning: Keeping role assignment ${name}: Cosmos DB account(s) cosmos-other still use FirstPartyIdentity with a key under /keys.`
    )
    expectRow(
      ctx.records,
      'Bootstrap assignment',
      `${name} present, still used by cosmos-other`,
      'keep it',
      'skipped'
    )
  })

  it('keeps a user-assigned bootstrap grant that another account uses with that identity, naming it', async () => {
    const azure = new FakeAzure()
    verifiedAccount(azure)
    azure.otherAccounts = [
      other('cosmos-other', { defaultIdentity: `UserAssignedIdentity=${uaiId}` }),
      other('cosmos-first-party')
    ]
    const { runner, name } = await removal(
      azure,
      inputs('key', 'user-assigned'),
      ids.uaiPrincipal,
      { id: uaiId, principalId: ids.uaiPrincipal }
    )
    expect(azure.writes()).toEqual([])
    expect(runner.logs).toContain(
      `warning: Keeping role assignment ${name}: Cosmos DB account(s) cosmos-other still use ` +
        `UserAssignedIdentity=${uaiId} with a key under /keys/cosmos-key.`
    )
  })

  it('names every account that still uses the grant', async () => {
    const azure = new FakeAzure()
    verifiedAccount(azure)
    azure.otherAccounts = [other('cosmos-a'), other('cosmos-b')]
    const { ctx, runner, name } = await removal(azure, inputs('key'))
    expect(azure.writes()).toEqual([])
    expect(runner.logs).toContain(
      `warning: Keeping role assignment ${name}: Cosmos DB account(s) cosmos-a, cosmos-b still use ` +
        'FirstPartyIdentity with a key under /keys/cosmos-key.'
    )
    expectRow(
      ctx.records,
      'Bootstrap assignment',
      `${name} present, still used by cosmos-a, cosmos-b`,
      'keep it',
      'skipped'
    )
  })

  it('keeps it when the accounts cannot be listed, saying why', async () => {
    const azure = new FakeAzure()
    verifiedAccount(azure)
    azure.failAlways('account.list', () => restError(403, 'AuthorizationFailed', 'no list'))
    const { ctx, runner, name } = await removal(azure, inputs())
    expect(azure.writes()).toEqual([])
    expect(runner.logs).toContain(
      `warning: Keeping role assignment ${name}: the accounts of the subscription could not be listed to make ` +
        'sure no other account still needs it (AuthorizationFailed (HTTP 403): no list).'
    )
    expectRow(
      ctx.records,
      'Bootstrap assignment',
      `${name} present; other accounts could not be checked`,
      'keep it',
      'skipped'
    )
  })
})
