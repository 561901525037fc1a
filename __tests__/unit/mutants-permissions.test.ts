/** Which ARM permissions preflight reads, when, and what it says about each one that is missing. */
import { describe, expect, it } from '@jest/globals'
import type { Inputs } from '../../src/inputs/settings.js'
import {
  FakeAzure,
  baseInputs,
  ids,
  uaiId,
  withUserAssigned,
  onSystemIdentity,
  onUserAssignedIdentity,
  systemAssignedInputs
} from './fakes.js'
import { harness } from './helpers.js'
import { failure } from './outcomes.js'

const subscription = `/subscriptions/${ids.subscription}`
const group = (name: string) => `${subscription}/resourceGroups/${name}`
const readOnly = [{ actions: ['*/read'], notActions: [] }]
const hsmId = `${group('rg-cmk')}/providers/Microsoft.KeyVault/managedHSMs/hsm-cmk`
const accountId = `${group('rg-cmk')}/providers/Microsoft.DocumentDB/databaseAccounts/cosmos-cmk`

const missing = (action: string, where: string, why: string, role: string) =>
  `The signed-in principal ${ids.signedIn} may not perform ${action} on ${where}, which it needs to ` +
  `${why}. A role that grants it: ${role}.`

const refusal = (...problems: string[]) =>
  `Nothing was changed, because:\n${problems.map(p => `- ${p}`).join('\n')}`

const hsmCreation = missing(
  'Microsoft.KeyVault/managedHSMs/write',
  "resource group 'rg-hsm'",
  'create the Managed HSM',
  'Managed HSM Contributor'
)
const tagWrite = (where: string) =>
  missing(
    'Microsoft.Resources/tags/write',
    where,
    'record on the HSM whether its security domain was saved',
    'Tag Contributor'
  )
const accountWrite = (where: string, why: string) =>
  missing(
    'Microsoft.DocumentDB/databaseAccounts/write',
    where,
    why,
    'DocumentDB Account Contributor'
  )
const accountUpdate = accountWrite("Cosmos DB account 'cosmos-cmk'", 'update the Cosmos DB account')

const securityDomain: Inputs['securityDomain'] = {
  certificates: [],
  quorum: 2,
  file: '/work/sd.json'
}

/** A FakeAzure that tells which scopes were read, and can hold back the account and HSM reads. */
class WatchedAzure extends FakeAzure {
  scopes: string[] = []
  private held: Partial<Record<'account' | 'hsm', Promise<void>>> = {}

  constructor() {
    super()
    this.around('permissions', 'at', at => async scope => {
      this.scopes.push(scope)
      return at(scope)
    })
    this.around('cosmos', 'get', get => async () => {
      await this.held.account
      return get()
    })
    this.around('managedHsms', 'get', get => async () => {
      await this.held.hsm
      return get()
    })
  }

  hold(read: 'account' | 'hsm'): () => void {
    let release = () => {}
    this.held[read] = new Promise(resolve => (release = resolve))
    return () => release()
  }
}

/** Lets every pending promise callback and I/O callback run (no timer, no wall-clock wait). */
const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise(resolve => setImmediate(resolve))
}

describe('the ARM permissions a new HSM needs', () => {
  it('names the HSM creation and its tag at the HSM resource group, and the account at its own', async () => {
    const azure = new FakeAzure()
    azure.permissionsAt[group('rg-hsm')] = readOnly
    azure.permissionsAt[group('rg-cmk')] = readOnly
    const inputs = baseInputs({
      hsm: { ...baseInputs().hsm, create: true, resourceGroup: 'rg-hsm' },
      securityDomain
    })
    const error = await failure(harness(azure).run(inputs))
    expect(error.message).toBe(
      refusal(
        hsmCreation,
        tagWrite("resource group 'rg-hsm'"),
        accountWrite("resource group 'rg-cmk'", 'create the Cosmos DB account')
      )
    )
    expect(azure.writes()).toEqual([])
  })
})

describe('the ARM permissions an existing HSM needs', () => {
  it('names purge protection and the tag at the HSM itself when it is neither protected nor active', async () => {
    const azure = new FakeAzure().withActiveHsm({
      enablePurgeProtection: false,
      activationStatus: 'NotActivated'
    })
    azure.permissionsAt[hsmId] = readOnly
    const inputs = baseInputs({
      hsm: { ...baseInputs().hsm, enablePurgeProtection: true },
      securityDomain
    })
    const error = await failure(harness(azure).run(inputs))
    const purgeProtection = missing(
      'Microsoft.KeyVault/managedHSMs/write',
      "Managed HSM 'hsm-cmk'",
      'turn purge protection on',
      'Managed HSM Contributor'
    )
    expect(error.message).toBe(refusal(purgeProtection, tagWrite("Managed HSM 'hsm-cmk'")))
    expect(azure.writes()).toEqual([])
  })

  it('needs nothing on an HSM that is protected and active', async () => {
    const azure = new FakeAzure().withActiveHsm().withKey().withAccount()
    azure.permissionsAt[hsmId] = readOnly
    await expect(harness(azure).run()).resolves.toMatchObject({ mode: 'apply' })
  })
})

describe('the ARM permissions an existing account needs', () => {
  it('names the account update and the identity assignment for an account to move to a user-assigned identity', async () => {
    const azure = new FakeAzure().withActiveHsm().withKey().withUai().withAccount()
    azure.permissionsAt[accountId] = readOnly
    azure.permissionsAt[uaiId] = readOnly
    const error = await failure(harness(azure).run(withUserAssigned('user-assigned')))
    const identityAssignment = missing(
      'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action',
      "user-assigned identity 'id-cmk'",
      'give the identity to the Cosmos DB account',
      'Managed Identity Operator on the identity'
    )
    expect(error.message).toBe(refusal(accountUpdate, identityAssignment))
    expect(azure.writes()).toEqual([])
  })

  it('needs nothing on an account that uses the user-assigned identity already, whatever its case', async () => {
    const account = onUserAssignedIdentity(uaiId, { principalId: ids.uaiPrincipal })
    const azure = new FakeAzure().withActiveHsm().withKey().withUai().withAccount(account)
    azure.permissionsAt[accountId] = readOnly
    azure.permissionsAt[uaiId] = readOnly
    await harness(azure).run(withUserAssigned('user-assigned'))
    expect(azure.writes().filter(w => w.startsWith('account.'))).toEqual([])
  })

  it('needs nothing on an account that uses its system-assigned identity already', async () => {
    const azure = new FakeAzure().withActiveHsm().withKey().withAccount(onSystemIdentity())
    azure.permissionsAt[accountId] = readOnly
    await harness(azure).run(systemAssignedInputs())
    expect(azure.writes().filter(w => w.startsWith('account.'))).toEqual([])
  })

  it('names the account update for an account to move to its system-assigned identity', async () => {
    const azure = new FakeAzure().withActiveHsm().withKey().withAccount()
    azure.permissionsAt[accountId] = readOnly
    const error = await failure(harness(azure).run(systemAssignedInputs()))
    expect(error.message).toBe(accountUpdate)
  })
})

describe('permission reads start with the observation, before any of its answers', () => {
  it("reads the subscription's and the resource group's permissions while providers, HSM and account are still being read", async () => {
    const azure = new WatchedAzure().withActiveHsm()
    azure.providerStates['Microsoft.DocumentDB'] = 'NotRegistered'
    const releases = [azure.hold('account'), azure.hold('hsm')]
    const run = harness(azure).run()
    try {
      await settle()
      expect(azure.scopes).toEqual([subscription, group('rg-cmk')])
    } finally {
      for (const release of releases) release()
    }
    await run
    expect(azure.scopes).toEqual([subscription, group('rg-cmk')])
  })

  it("reads the user-assigned identity's permissions with them", async () => {
    const azure = new WatchedAzure().withActiveHsm().withUai()
    const release = azure.hold('hsm')
    const run = harness(azure).run(withUserAssigned('user-assigned'))
    try {
      await settle()
      expect(azure.scopes).toEqual([subscription, group('rg-cmk'), uaiId])
    } finally {
      release()
    }
    await run
    expect(azure.scopes).toEqual([subscription, group('rg-cmk'), uaiId])
  })

  it('reads no other scope on a re-run that finds everything in place', async () => {
    const azure = new WatchedAzure().withActiveHsm()
    const h = harness(azure)
    await h.run()
    azure.scopes.length = 0
    azure.calls = []
    const again = await h.run()
    expect(azure.writes()).toEqual([])
    expect(again.changed).toBe(false)
    expect(azure.scopes).toEqual([subscription, group('rg-cmk')])
  })

  it('reads each scope once, whatever the case in which it is asked for', async () => {
    const azure = new WatchedAzure().withActiveHsm()
    azure.providerStates['Microsoft.DocumentDB'] = 'NotRegistered'
    azure.providerStates['Microsoft.KeyVault'] = 'NotRegistered'
    await harness(azure).run()
    expect(azure.scopes).toEqual([subscription, group('rg-cmk')])
  })
})
