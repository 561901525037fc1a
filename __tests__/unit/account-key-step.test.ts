/**
 * The customer-managed key step on an existing account, called alone: what it records and logs in
 * plan and apply, the warning only for turning keys on, and the look before repeating an update
 * whose answer was lost (an account already on the key, done or still re-encrypting).
 */
import { describe, expect, it } from '@jest/globals'
import { RestError } from '@azure/core-rest-pipeline'
import type { CosmosAccountState } from '../../src/azure/api.js'
import { enableConsequences, ensureAccountKey } from '../../src/steps/account-key.js'
import { describeAccount, isSucceeded, sameIdentity } from '../../src/steps/account-state.js'
import { FakeAzure, baseInputs, restError } from './fakes.js'
import { stepContext } from './step-context.js'

const oldKey = 'https://hsm-cmk.managedhsm.azure.net/keys/old-key'
const newKey = 'https://hsm-cmk.managedhsm.azure.net/keys/cosmos-key'
const cutOff = () => new RestError('the connection was reset', { code: 'OutcomeUnknown' })

/** The update takes effect, but its answer never comes. */
function landsThenCutOff(azure: FakeAzure): void {
  azure.failNext('account.update keyVaultKeyUri', () => {
    azure.account!.keyVaultKeyUri = newKey
    return cutOff()
  })
}

function onAccount(overrides: Partial<CosmosAccountState>) {
  const azure = new FakeAzure().withActiveHsm().withKey().withAccount(overrides)
  const inputs = baseInputs()
  const harness = stepContext(inputs, {}, azure)
  return { ...harness, account: structuredClone(azure.account!) }
}

describe('ensureAccountKey', () => {
  it('plans a move from another key as such', async () => {
    const { ctx, runner, account, azure } = onAccount({ keyVaultKeyUri: oldKey })
    ctx.plan = true
    await expect(ensureAccountKey(ctx, account, newKey)).resolves.toBe(account)
    expect(ctx.records).toEqual([
      {
        step: 'Customer-managed key',
        observed: `key ${oldKey}`,
        action: `move to ${newKey}`,
        result: 'would-change'
      }
    ])
    expect(runner.logs.filter(l => l.startsWith('warning'))).toEqual([])
    expect(azure.calls).toEqual([])
  })

  it('plans turning keys on with what that means', async () => {
    const { ctx, account } = onAccount({ keyVaultKeyUri: undefined })
    ctx.plan = true
    await ensureAccountKey(ctx, account, newKey)
    expect(ctx.records).toEqual([
      {
        step: 'Customer-managed key',
        observed: 'no customer-managed key',
        action: `turn customer-managed keys on with ${newKey} (${enableConsequences})`,
        result: 'would-change'
      }
    ])
  })

  it('moves to the key without the warning for turning keys on, and says how long it ran', async () => {
    const { ctx, runner, account, azure } = onAccount({ keyVaultKeyUri: oldKey })
    const updated = await ensureAccountKey(ctx, account, newKey)
    expect(updated.keyVaultKeyUri).toBe(newKey)
    expect(azure.calls).toEqual(['write account.update keyVaultKeyUri'])
    const what = `encryption of Cosmos DB account 'cosmos-cmk' with ${newKey} (it runs in Azure; a re-run resumes watching it)`
    expect(runner.logs).toEqual([
      `info: Started: ${what}.`,
      `info: Finished after 0 s: ${what}.`,
      `info: Customer-managed key: key ${oldKey} -> move to ${newKey} [changed]`
    ])
  })

  it('warns before turning keys on', async () => {
    const { ctx, runner, account } = onAccount({ keyVaultKeyUri: undefined })
    await ensureAccountKey(ctx, account, newKey)
    expect(runner.logs.filter(l => l.startsWith('warning'))).toEqual([
      `warning: Turning customer-managed keys on for Cosmos DB account 'cosmos-cmk': ${enableConsequences}.`
    ])
  })

  it('after a lost answer, finds the account on the key and does not ask again', async () => {
    const { ctx, account, azure } = onAccount({ keyVaultKeyUri: oldKey })
    landsThenCutOff(azure)
    const updated = await ensureAccountKey(ctx, account, newKey)
    expect(updated.keyVaultKeyUri).toBe(newKey)
    expect(azure.calls).toEqual(['write account.update keyVaultKeyUri', 'read account.get'])
  })

  it('after a lost answer, takes an account on the key only once its update has succeeded', async () => {
    const { ctx, account, azure } = onAccount({ keyVaultKeyUri: oldKey })
    landsThenCutOff(azure)
    azure.before['account.get'] = () => {
      azure.account!.provisioningState = 'Updating'
    }
    await ensureAccountKey(ctx, account, newKey)
    expect(azure.calls).toEqual([
      'write account.update keyVaultKeyUri',
      'read account.get',
      'write account.update keyVaultKeyUri'
    ])
  })

  it('after a lost answer on another key still, asks again', async () => {
    const { ctx, account, azure } = onAccount({ keyVaultKeyUri: oldKey })
    azure.failNext('account.update keyVaultKeyUri', cutOff)
    await ensureAccountKey(ctx, account, newKey)
    expect(azure.calls).toEqual([
      'write account.update keyVaultKeyUri',
      'read account.get',
      'write account.update keyVaultKeyUri'
    ])
  })

  it('asks again, without looking first, while the key is not reachable for the account yet', async () => {
    const { ctx, account, azure } = onAccount({ keyVaultKeyUri: oldKey })
    azure.failNext('account.update keyVaultKeyUri', () =>
      restError(400, 'BadRequest', 'KeyVaultAuthenticationFailure: the key cannot be reached')
    )
    await ensureAccountKey(ctx, account, newKey)
    expect(azure.calls).toEqual([
      'write account.update keyVaultKeyUri',
      'write account.update keyVaultKeyUri'
    ])
  })
})

describe('account state', () => {
  it.each([
    [undefined, '', true],
    [' UserAssignedIdentity=/X ', 'userassignedidentity=/x  ', true],
    ['FirstPartyIdentity', 'SystemAssignedIdentity', false]
  ])('sameIdentity(%j, %j) is %s', (a, b, same) => {
    expect(sameIdentity(a, b)).toBe(same)
  })

  it.each([
    [undefined, true],
    ['succeeded', true],
    ['NotSucceeded', false],
    ['Succeeded2', false],
    ['Updating', false]
  ])('an account in state %j has succeeded: %s', (provisioningState, succeeded) => {
    const account = new FakeAzure().withAccount({ provisioningState }).account!
    expect(isSucceeded(account)).toBe(succeeded)
  })

  it('describes an account with and without a key and a default identity', () => {
    const account = new FakeAzure().withAccount().account!
    expect(describeAccount(account)).toBe(
      `Succeeded, key ${newKey}, default identity FirstPartyIdentity`
    )
    expect(
      describeAccount({
        ...account,
        provisioningState: undefined,
        keyVaultKeyUri: undefined,
        defaultIdentity: undefined
      })
    ).toBe('?, key none, default identity none')
  })
})
