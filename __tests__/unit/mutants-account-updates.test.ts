/** Repeated writes and account updates: when they look before repeating, and what they say. */
import { describe, expect, it } from '@jest/globals'
import { RestError } from '@azure/core-rest-pipeline'
import type { CosmosAccountState } from '../../src/azure/api.js'
import type { Inputs } from '../../src/inputs/settings.js'
import { EarlySystemGrant } from '../../src/steps/system-identity.js'
import { FakeAzure, baseInputs, ids, restError, uaiId, withUserAssigned } from './fakes.js'
import { harness } from './helpers.js'
import { bootstrapKeptUntilSwitch, expectRow, failure, rowOf } from './outcomes.js'
import { stepContext } from './step-context.js'

const keyUri = 'https://hsm-cmk.managedhsm.azure.net/keys/cosmos-key'
const afterElapsed = (message: string) => message.replace(/^Gave up after .+? waiting for /, '')
const locked = () => restError(412, 'PreconditionFailed', 'another operation is in progress')
const keyUnreachable = () =>
  restError(400, 'BadRequest', 'KeyVaultAuthenticationFailure: the key cannot be reached')
const ready = () => new FakeAzure().withActiveHsm().withKey()
const after = (calls: string[], call: string) => calls.slice(calls.indexOf(call) + 1)

const systemAssigned = (overrides: Partial<Inputs['identity']> = {}): Inputs =>
  baseInputs({
    identity: {
      mode: 'system-assigned',
      bootstrap: 'first-party',
      removeBootstrapAssignment: false,
      ...overrides
    }
  })
const systemEnabled = (overrides: Partial<CosmosAccountState> = {}) =>
  ready().withAccount({
    identity: {
      type: 'SystemAssigned',
      principalId: ids.systemPrincipal,
      userAssignedIdentities: {}
    },
    ...overrides
  })

describe('a repeated creation', () => {
  it('after a refusal that wrote nothing, tries again without reading first, waiting on the grant', async () => {
    const azure = ready()
    azure.failNext('account.create', keyUnreachable)
    const result = await harness(azure).run()
    expect(after(azure.calls, 'write account.create').slice(0, 1)).toEqual(['write account.create'])
    const wait = result.timeline.find(
      s => s.label === `Azure Cosmos DB to accept key ${keyUri} for FirstPartyIdentity`
    )
    expect(wait?.kind).toBe('propagation')
  })

  it('after a lock another operation held, reads first, waiting on an operation', async () => {
    const azure = ready()
    azure.failNext('account.create', locked)
    const result = await harness(azure).run()
    expect(after(azure.calls, 'write account.create').slice(0, 2)).toEqual([
      'read account.get',
      'write account.create'
    ])
    const wait = result.timeline.find(
      s => s.label === `Azure Cosmos DB to accept key ${keyUri} for FirstPartyIdentity`
    )
    expect(wait?.kind).toBe('operation')
  })

  it('after a cut-off attempt, waits on an operation', async () => {
    const azure = ready()
    azure.failNext('account.create', () => new RestError('reset', { code: 'OutcomeUnknown' }))
    const result = await harness(azure).run()
    const wait = result.timeline.find(
      s => s.label === `Azure Cosmos DB to accept key ${keyUri} for FirstPartyIdentity`
    )
    expect(wait?.kind).toBe('operation')
  })
})

describe('account updates', () => {
  it('logs the identity update as it starts, and gives up on a lock that is never released', async () => {
    const azure = ready().withUai().withAccount()
    azure.failAlways('account.update identity', locked)
    const h = harness(azure)
    const error = await failure(h.run(withUserAssigned('user-assigned')))
    expect(h.runner.logs).toContain(
      "info: Started: identity update of Cosmos DB account 'cosmos-cmk'."
    )
    expect(afterElapsed(error.message)).toBe(
      "Cosmos DB account 'cosmos-cmk' to accept an update. Last observation: another operation on the account " +
        'is in progress. Check what else changes the account: az cosmosdb show --name cosmos-cmk --resource-group rg-cmk'
    )
  })

  it('leaves a default identity that is already the one asked for', async () => {
    const azure = ready()
      .withUai()
      .withAccount({
        defaultIdentity: `UserAssignedIdentity=${uaiId}`,
        identity: { type: 'UserAssigned', userAssignedIdentities: { [uaiId]: {} } }
      })
    const result = await harness(azure).run(withUserAssigned('user-assigned'))
    expectRow(result.records, 'Default identity', `UserAssignedIdentity=${uaiId}`, 'none', 'ok')
  })

  it('takes an update answer that names the new default identity, without reading again', async () => {
    const azure = ready().withUai().withAccount()
    const h = harness(azure)
    await h.run(withUserAssigned('user-assigned'))
    expect(h.runner.logs).toContain(
      "info: Started: default identity update of Cosmos DB account 'cosmos-cmk'."
    )
    expect(after(azure.calls, 'write account.update defaultIdentity')[0]).not.toBe(
      'read account.get'
    )
  })

  it('reads back a default identity the update answer does not show yet, and does not update again', async () => {
    const azure = new FakeAzure().withActiveHsm().withKey().withUai().withAccount()
    azure.around('cosmos', 'update', update => async (...args) => {
      const before = azure.account?.defaultIdentity
      const updated = await update(...args)
      return 'defaultIdentity' in args[2] ? { ...updated, defaultIdentity: before } : updated
    })
    await harness(azure).run(withUserAssigned('user-assigned'))
    expect(azure.calls.filter(c => c === 'write account.update defaultIdentity')).toHaveLength(1)
    expect(azure.account?.defaultIdentity).toBe(`UserAssignedIdentity=${uaiId}`)
  })

  it('gives up on a default identity the account never reports, saying what it still reports', async () => {
    const azure = new FakeAzure().withActiveHsm().withKey().withUai()
    azure.withAccount({ defaultIdentity: undefined })
    azure.around('cosmos', 'update', update => async (...args) => {
      if (!('defaultIdentity' in args[2])) return update(...args)
      azure.calls.push('write account.update defaultIdentity')
      return { ...structuredClone(azure.account!), defaultIdentity: undefined }
    })
    const error = await failure(harness(azure).run(withUserAssigned('user-assigned')))
    // Each attempt reads the account once after its update, and is repeated without reading first.
    expect(after(azure.calls, 'write account.update defaultIdentity').slice(0, 3)).toEqual([
      'read account.get',
      'write account.update defaultIdentity',
      'read account.get'
    ])
    expect(afterElapsed(error.message)).toBe(
      `Cosmos DB account 'cosmos-cmk' to use UserAssignedIdentity=${uaiId}. Last observation: the account ` +
        'still reports none. The identity was granted the key a while ago but Azure Cosmos DB still cannot use ' +
        "it: check the HSM role assignment ('Managed HSM Crypto Service Encryption User' for that principal) and " +
        'that the key is enabled.'
    )
  })
})

describe('a default identity update that fails', () => {
  it('fails at once on a refusal other than a lock or a key Cosmos DB cannot reach yet', async () => {
    const azure = ready().withUai().withAccount()
    azure.failAlways('account.update defaultIdentity', () =>
      restError(400, 'BadRequest', 'the identity is not attached')
    )
    const error = await failure(harness(azure).run(withUserAssigned('user-assigned')))
    expect(error.cause).toMatchObject({ statusCode: 400, message: 'the identity is not attached' })
    expect(azure.calls.filter(c => c === 'write account.update defaultIdentity')).toHaveLength(1)
  })
})

describe('the system-assigned identity', () => {
  it('is reused from the creation for the same principal, whatever the case of its id', () => {
    const { ctx, azure } = stepContext(systemAssigned())
    const early = new EarlySystemGrant(ctx, azure.hsm().rbac, work => work())
    const lettered = 'abcdefab-cdef-4abc-8def-abcdefabcdef'
    early.created(lettered.toUpperCase())
    const started = early.for(lettered)
    expect(started).toBeInstanceOf(Promise)
    expect(early.for(lettered.toUpperCase())).toBe(started)
    expect(early.for(ids.systemPrincipal)).toBeUndefined()
  })

  it('records an enabled identity with its principal', async () => {
    const result = await harness(systemEnabled()).run(systemAssigned())
    expectRow(
      result.records,
      'System-assigned identity',
      `enabled, principal ${ids.systemPrincipal}`,
      'none',
      'ok'
    )
  })

  it('enables an identity the account lists without a principal yet, logging the update', async () => {
    const azure = systemEnabled({
      identity: { type: 'SystemAssigned', userAssignedIdentities: {} }
    })
    const h = harness(azure)
    await h.run(systemAssigned())
    expect(azure.writes()).toContain('account.update identity')
    expect(h.runner.logs).toContain(
      "info: Started: enabling the system-assigned identity of Cosmos DB account 'cosmos-cmk'."
    )
    // The update's answer names the principal: no need to read the account again.
    expect(after(azure.calls, 'write account.update identity')[0]).not.toBe('read account.get')
  })

  it('does not enable it again when a locked attempt went through after all', async () => {
    const azure = ready().withAccount()
    azure.failNext('account.update identity', () => {
      azure.account!.identity = {
        type: 'SystemAssigned',
        principalId: ids.systemPrincipal,
        userAssignedIdentities: {}
      }
      return locked()
    })
    await harness(azure).run(systemAssigned())
    expect(azure.calls.filter(c => c === 'write account.update identity')).toHaveLength(1)
  })

  it('enables it again when a locked attempt left the identity without its principal', async () => {
    const azure = ready().withAccount()
    azure.failNext('account.update identity', () => {
      azure.account!.identity = { type: 'SystemAssigned', userAssignedIdentities: {} }
      return locked()
    })
    await harness(azure).run(systemAssigned())
    expect(azure.calls.filter(c => c === 'write account.update identity')).toHaveLength(2)
    expect(azure.account?.identity.principalId).toBe(ids.systemPrincipal)
  })

  describe('in plan mode', () => {
    const plan = (overrides: Partial<Inputs['identity']> = {}): Inputs => ({
      ...systemAssigned(overrides),
      mode: 'plan'
    })

    it('with the identity enabled but not granted yet, says the default identity would be set', async () => {
      const result = await harness(systemEnabled({ defaultIdentity: undefined })).run(plan())
      expectRow(
        result.records,
        'Default identity',
        'none',
        'set to SystemAssignedIdentity',
        'would-change'
      )
    })

    it('with the default identity set already but no grant, says so without an action to take', async () => {
      const azure = systemEnabled({ defaultIdentity: 'SystemAssignedIdentity' })
      const result = await harness(azure).run(plan())
      expectRow(result.records, 'Default identity', 'SystemAssignedIdentity', 'none', 'ok')
    })

    it('keeps the bootstrap grant until the account is verified on its identity', async () => {
      const azure = systemEnabled()
      const result = await harness(azure).run(plan({ removeBootstrapAssignment: true }))
      expect(rowOf(result.records, 'Bootstrap assignment')).toEqual(bootstrapKeptUntilSwitch)
    })

    it('with the identity not enabled, says none for a missing default identity', async () => {
      const result = await harness(ready().withAccount({ defaultIdentity: undefined })).run(plan())
      expect(rowOf(result.records, 'Default identity')).toMatchObject({
        observed: 'none',
        result: 'would-change'
      })
    })
  })
})
