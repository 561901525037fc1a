/** Creating the Cosmos DB account: what each api creates, the row, and a failed or raced creation. */
import { describe, expect, it } from '@jest/globals'
import type { Inputs } from '../../src/inputs/settings.js'
import { FakeAzure, baseInputs, ids, restError } from './fakes.js'
import { harness } from './helpers.js'
import { expectRow, failure } from './outcomes.js'

const keyUri = 'https://hsm-cmk.managedhsm.azure.net/keys/cosmos-key'
const withApi = (api: Inputs['account']['api']): Inputs =>
  baseInputs({ account: { ...baseInputs().account, api } })
const systemAssigned = (): Inputs =>
  baseInputs({
    identity: {
      mode: 'system-assigned',
      bootstrap: 'first-party',
      removeBootstrapAssignment: false
    }
  })

const ready = () => new FakeAzure().withActiveHsm().withKey()
const afterElapsed = (message: string) => message.replace(/^Gave up after .+? waiting for /, '')

describe('what each api creates', () => {
  it.each([
    ['nosql', 'GlobalDocumentDB', [], 'nosql (GlobalDocumentDB)'],
    ['mongodb', 'MongoDB', [], 'mongodb (MongoDB)'],
    ['table', 'GlobalDocumentDB', ['EnableTable'], 'table (GlobalDocumentDB + EnableTable)'],
    [
      'cassandra',
      'GlobalDocumentDB',
      ['EnableCassandra'],
      'cassandra (GlobalDocumentDB + EnableCassandra)'
    ]
  ] as const)('%s: a %s account with %j', async (api, kind, capabilities, described) => {
    const azure = ready()
    const result = await harness(azure).run(withApi(api))
    expect(azure.account).toMatchObject({ kind, capabilities })
    expectRow(
      result.records,
      'Cosmos DB account',
      'absent',
      `create ${described} in westeurope with key ${keyUri} and default identity FirstPartyIdentity`,
      'changed'
    )
  })

  it('says the system-assigned identity is enabled with the creation', async () => {
    const result = await harness(ready()).run(systemAssigned())
    expectRow(
      result.records,
      'Cosmos DB account',
      'absent',
      `create nosql (GlobalDocumentDB) in westeurope with key ${keyUri} and default identity ` +
        'FirstPartyIdentity, system-assigned identity enabled',
      'changed'
    )
  })

  it('logs the creation as it starts', async () => {
    const h = harness(ready())
    await h.run()
    expect(h.runner.logs).toContain("info: Started: creation of Cosmos DB account 'cosmos-cmk'.")
  })
})

describe('a creation that fails', () => {
  it('fails at once on a refusal other than a held lock or a key Cosmos DB cannot reach yet', async () => {
    const azure = ready()
    azure.failAlways('account.create', () => restError(400, 'BadRequest', 'bad location'))
    const error = await failure(harness(azure).run())
    expect(error.message).toBe(
      "Creating Cosmos DB account 'cosmos-cmk' failed: BadRequest (HTTP 400): bad location"
    )
    expect(azure.calls.filter(c => c === 'write account.create')).toHaveLength(1)
  })

  it('does not read back after a failure other than a conflict, even if an account appeared', async () => {
    const azure = ready()
    azure.failNext('account.create', () => {
      azure.withAccount()
      return restError(400, 'BadRequest', 'bad location')
    })
    const error = await failure(harness(azure).run())
    expect(error.message).toBe(
      "Creating Cosmos DB account 'cosmos-cmk' failed: BadRequest (HTTP 400): bad location"
    )
  })

  it('reads back the account a concurrent run created when the creation conflicts', async () => {
    const azure = ready()
    const raced = { documentEndpoint: 'https://raced.documents.azure.com:443/' }
    azure.loseRace('account.create', () => azure.withAccount(raced), 'the account exists')
    const result = await harness(azure).run()
    expect(result.outputs['account-endpoint']).toBe('https://raced.documents.azure.com:443/')
  })

  it('waits out a lock another operation holds, and says so when it gives up', async () => {
    const azure = ready()
    azure.failAlways('account.create', () =>
      restError(412, 'PreconditionFailed', 'another operation is in progress')
    )
    const error = await failure(harness(azure).run())
    expect(error.message).toMatch(/^Creating Cosmos DB account 'cosmos-cmk' failed: Gave up after /)
    expect(afterElapsed(error.message.replace(/^Creating .+? failed: /, ''))).toBe(
      `Azure Cosmos DB to accept key ${keyUri} for FirstPartyIdentity. Last observation: another ` +
        'operation on the account is in progress. The identity was granted the key a while ago but Azure ' +
        "Cosmos DB still cannot use it: check the HSM role assignment ('Managed HSM Crypto Service Encryption " +
        "User' for that principal) and that the key is enabled."
    )
  })
})

describe('the system-assigned identity of an account being created', () => {
  it('is granted the key as soon as the creation is accepted, while the creation still runs', async () => {
    let release = () => {}
    const held = new Promise<void>(resolve => (release = resolve))
    const azure = new FakeAzure().withActiveHsm().withKey()
    azure.around('cosmos', 'create', create => async (...args) => {
      const account = await create(...args)
      await held
      return account
    })
    const run = harness(azure).run(systemAssigned())
    try {
      for (let i = 0; i < 20; i++) await new Promise(resolve => setImmediate(resolve))
      expect(azure.assignments.map(a => a.principalId)).toContain(ids.systemPrincipal)
    } finally {
      release()
    }
    await run
  })
})
