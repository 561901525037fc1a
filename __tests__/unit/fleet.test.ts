/**
 * A fleet (several names in `account-name`) in-process on the fake Azure, whose `fleet` holds each
 * account by name: every account on the one key, `account-concurrency` at a time; one account that
 * fails is recorded and the others finish; the shared bootstrap grant is removed only once every
 * account reads back its own identity; plan mode writes nothing.
 */
import { describe, expect, it } from '@jest/globals'
import { ProvisioningError } from '../../src/provisioning-error.js'
import type { Inputs } from '../../src/inputs/settings.js'
import { hsmRoles } from '../../src/roles.js'
import {
  FakeAzure,
  baseInputs,
  ids,
  restError,
  systemAssignedInputs,
  systemPrincipalOf
} from './fakes.js'
import { harness } from './helpers.js'

const KEY_URI = 'https://hsm-cmk.managedhsm.azure.net/keys/cosmos-key'

function fleetInputs(
  names: string[],
  base: Inputs = baseInputs(),
  overrides: Partial<Inputs['account']> = {}
): Inputs {
  return {
    ...base,
    account: { ...base.account, name: names[0]!, others: names.slice(1), ...overrides }
  }
}

function fleetAzure(): FakeAzure {
  const azure = new FakeAzure().withActiveHsm()
  azure.fleet = {}
  return azure
}

const accountsOf = (outputs: Record<string, string | undefined>) =>
  JSON.parse(outputs.accounts!) as Record<string, Record<string, unknown>>

describe('a fleet in apply mode', () => {
  it('creates every account on the one key, and answers each in the accounts output', async () => {
    const h = harness(fleetAzure())
    const result = await h.run(
      fleetInputs(['fleet-a', 'fleet-b', 'fleet-c'], baseInputs(), { concurrency: 2 })
    )
    expect(Object.keys(h.azure.fleet!).sort()).toEqual(['fleet-a', 'fleet-b', 'fleet-c'])
    for (const account of Object.values(h.azure.fleet!)) {
      expect(account!.keyVaultKeyUri).toBe(KEY_URI)
      expect(account!.defaultIdentity).toBe('FirstPartyIdentity')
    }
    expect(h.azure.writes().filter(w => w === 'account.create')).toHaveLength(3)
    const accounts = accountsOf(result.outputs)
    expect(Object.keys(accounts)).toEqual(['fleet-a', 'fleet-b', 'fleet-c'])
    expect(accounts['fleet-b']).toEqual({
      id: h.azure.fleet!['fleet-b']!.id,
      endpoint: 'https://fleet-b.documents.azure.com:443/',
      defaultIdentity: 'FirstPartyIdentity',
      principalId: ids.cosmosSp,
      changed: true
    })
    // The fleet's own fields stay empty: no one account is "the" account.
    expect(result.outputs['account-id']).toBeUndefined()
    expect(result.outputs['cosmos-principal-id']).toBe(ids.cosmosSp)
    expect(result.outputs['key-uri']).toBe(KEY_URI)
    expect(result.changed).toBe(true)
    expect(h.runner.logs).toContain(`info: 3 accounts on key ${KEY_URI}, 2 at a time.`)
  })

  it('changes nothing on a second run, and says so per account', async () => {
    const h = harness(fleetAzure())
    const inputs = fleetInputs(['fleet-a', 'fleet-b'])
    await h.run(inputs)
    h.azure.calls = []
    const again = await h.run(inputs)
    expect(h.azure.writes()).toEqual([])
    expect(again.changed).toBe(false)
    expect(Object.values(accountsOf(again.outputs)).map(a => a.changed)).toEqual([false, false])
  })

  it('leaves an account that is on the key already as it is, and creates the missing one', async () => {
    const h = harness(fleetAzure().withFleetAccount('fleet-a'))
    const result = await h.run(fleetInputs(['fleet-a', 'fleet-b']))
    expect(h.azure.writes().filter(w => w.startsWith('account.'))).toEqual(['account.create'])
    const accounts = accountsOf(result.outputs)
    expect(accounts['fleet-a']).toEqual(expect.objectContaining({ changed: false }))
    expect(accounts['fleet-b']).toEqual(expect.objectContaining({ changed: true }))
    expect(result.changed).toBe(true)
  })

  it('finishes the others when one account fails, then fails naming it', async () => {
    const h = harness(fleetAzure())
    let creations = 0
    h.azure.failNext('account.create', () => {
      creations++
      return restError(400, 'BadRequest', 'The location is out of capacity.')
    })
    const failure = await h
      .run(fleetInputs(['fleet-a', 'fleet-b'], baseInputs(), { concurrency: 1 }))
      .then(
        () => undefined,
        (e: unknown) => e
      )
    expect(creations).toBe(1)
    expect(failure).toBeInstanceOf(ProvisioningError)
    const error = failure as ProvisioningError
    expect(error.message).toMatch(
      /^1 of 2 accounts failed \(the others are done; a re-run finishes only what is missing\):\n- fleet-a: Cosmos DB account: .*out of capacity/
    )
    expect(Object.keys(h.azure.fleet!)).toEqual(['fleet-b'])
    const accounts = accountsOf(error.outputs!)
    expect(accounts['fleet-a']).toEqual(
      expect.objectContaining({
        changed: false,
        error: expect.stringMatching(/^Cosmos DB account: /)
      })
    )
    expect(accounts['fleet-b']).toEqual(expect.objectContaining({ changed: true }))
    expect(accounts['fleet-b']).not.toHaveProperty('error')
  })
})

describe('a fleet on system-assigned identities', () => {
  it('grants each account its own identity, and removes the shared bootstrap grant once all use theirs', async () => {
    const h = harness(fleetAzure())
    const result = await h.run(fleetInputs(['fleet-a', 'fleet-b'], systemAssignedInputs(true)))
    for (const name of ['fleet-a', 'fleet-b']) {
      const account = h.azure.fleet![name]!
      expect(account.defaultIdentity).toBe('SystemAssignedIdentity')
      expect(account.identity.principalId).toBe(systemPrincipalOf(name))
      expect(h.azure.assignments.map(a => a.principalId)).toContain(systemPrincipalOf(name))
    }
    // The first-party bootstrap grant is gone; the two identities' grants stay.
    const encryptionUsers = h.azure.assignments.filter(a =>
      a.roleDefinitionId.endsWith(hsmRoles.cryptoServiceEncryptionUser.id)
    )
    expect(encryptionUsers.map(a => a.principalId).sort()).toEqual(
      [systemPrincipalOf('fleet-a'), systemPrincipalOf('fleet-b')].sort()
    )
    expect(result.records.find(r => r.step === 'Bootstrap assignment')?.result).toBe('changed')
    const accounts = accountsOf(result.outputs)
    expect(accounts['fleet-a']!.systemAssignedPrincipalId).toBe(systemPrincipalOf('fleet-a'))
    expect(result.outputs['cosmos-principal-id']).toBeUndefined()
  })

  it('keeps the bootstrap grant while one account of the fleet failed', async () => {
    const h = harness(fleetAzure())
    h.azure.failNext('account.create', () => restError(400, 'BadRequest', 'No capacity.'))
    const failure = await h
      .run(fleetInputs(['fleet-a', 'fleet-b'], systemAssignedInputs(true), { concurrency: 1 }))
      .catch((e: unknown) => e)
    expect(failure).toBeInstanceOf(ProvisioningError)
    const bootstrap = (failure as ProvisioningError).records.find(
      r => r.step === 'Bootstrap assignment'
    )
    expect(bootstrap).toEqual(
      expect.objectContaining({
        observed: 'not every account of the fleet uses SystemAssignedIdentity yet',
        action: 'remove the bootstrap grant once they all do',
        result: 'skipped'
      })
    )
    expect(h.azure.assignments.map(a => a.principalId)).toContain(ids.cosmosSp)
  })

  it('leaves the bootstrap grant alone without remove-bootstrap-assignment', async () => {
    const h = harness(fleetAzure())
    const result = await h.run(fleetInputs(['fleet-a', 'fleet-b'], systemAssignedInputs(false)))
    expect(result.records.some(r => r.step === 'Bootstrap assignment')).toBe(false)
    expect(h.azure.assignments.map(a => a.principalId)).toContain(ids.cosmosSp)
  })
})

describe('a fleet in plan mode', () => {
  it('writes nothing, and says the bootstrap grant would go once every account uses its identity', async () => {
    const h = harness(fleetAzure())
    const inputs = {
      ...fleetInputs(['fleet-a', 'fleet-b'], systemAssignedInputs(true)),
      mode: 'plan' as const
    }
    const result = await h.run(inputs)
    expect(h.azure.writes()).toEqual([])
    expect(result.records.find(r => r.step === 'Bootstrap assignment')?.result).toBe('would-change')
  })
})
