/** What preflight refuses, warns about or lets through, read from what the run observed. */
import { describe, expect, it } from '@jest/globals'
import type { Inputs } from '../../src/inputs/settings.js'
import { hsmRoles } from '../../src/roles.js'
import { FakeAzure, baseInputs, ids } from './fakes.js'
import { harness } from './helpers.js'
import { failure } from './outcomes.js'

const keyUri = 'https://hsm-cmk.managedhsm.azure.net/keys/cosmos-key'

async function refusal(azure: FakeAzure, inputs: Inputs): Promise<string> {
  const error = await failure(harness(azure).run(inputs))
  expect(error.step).toBe('Observe')
  expect(azure.writes()).toEqual([])
  return error.message
}

const newHsm = (overrides: Partial<Inputs> = {}): Inputs =>
  baseInputs({ hsm: { ...baseInputs().hsm, create: true }, ...overrides })

describe('preflight refuses before any write', () => {
  it('an HSM to create without a location, and an account to create without one, together', async () => {
    const inputs = newHsm({
      location: undefined,
      account: { ...baseInputs().account, locations: [] }
    })
    const message = await refusal(new FakeAzure(), inputs)
    expect(message.split('\n')[0]).toBe('Nothing was changed, because:')
    expect(message).toContain("- Input 'location' is required to create Managed HSM 'hsm-cmk'.")
    expect(message).toContain(
      "- Input 'location' (or 'account-locations') is required to create Cosmos DB account 'cosmos-cmk'."
    )
    expect(message).toContain("- Managed HSM 'hsm-cmk' (resource group 'rg-cmk') is not activated")
  })

  it('one problem alone, as it is', async () => {
    const azure = new FakeAzure()
    const message = await refusal(azure, baseInputs())
    expect(message).toBe(
      "Managed HSM 'hsm-cmk' does not exist in resource group 'rg-cmk' of subscription " +
        `${ids.subscription}. Check hsm-name and hsm-resource-group, or set create-hsm: true to create ` +
        'it (billing starts at creation).'
    )
  })

  it('regions the subscription is not offered, naming the input they came from', async () => {
    const azure = new FakeAzure().withActiveHsm()
    azure.offered['Microsoft.DocumentDB'] = { databaseaccounts: ['northeurope'] }
    const fromLocation = await refusal(azure, baseInputs())
    expect(fromLocation).toBe(
      "Input 'location' is 'westeurope': Azure Cosmos DB is not offered in that region for subscription " +
        `${ids.subscription}. It is offered in: northeurope.`
    )
    const listed = await refusal(
      azure,
      baseInputs({ account: { ...baseInputs().account, locations: ['northeurope', 'eastus'] } })
    )
    expect(listed).toMatch(/^Input 'account-locations' is 'eastus': Azure Cosmos DB is not offered/)
  })

  it('nothing about regions for an account that exists', async () => {
    const azure = new FakeAzure().withActiveHsm().withKey().withAccount()
    azure.offered['Microsoft.DocumentDB'] = { databaseaccounts: ['northeurope'] }
    await expect(harness(azure).run()).resolves.toBeDefined()
  })

  it('an HSM region the subscription is not offered, only when the HSM is created', async () => {
    const azure = new FakeAzure()
    azure.offered['Microsoft.KeyVault'] = { managedhsms: ['eastus'] }
    const message = await refusal(
      azure,
      newHsm({
        securityDomain: { certificates: [], quorum: 2, file: '/work/sd.json' }
      })
    )
    expect(message).toBe(
      "Input 'location' is 'westeurope': Managed HSM is not offered in that region for subscription " +
        `${ids.subscription}. It is offered in: eastus.`
    )
    // An existing HSM is where it is.
    const existing = new FakeAzure().withActiveHsm().withKey().withAccount()
    existing.offered['Microsoft.KeyVault'] = { managedhsms: ['eastus'] }
    await expect(harness(existing).run()).resolves.toBeDefined()
  })
})

describe('preflight lets through, with a warning', () => {
  it('an account that pins a version of the right key', async () => {
    const azure = new FakeAzure()
      .withActiveHsm()
      .withKey()
      .withAccount({ keyVaultKeyUri: `${keyUri}/0123456789abcdef0123456789abcdef` })
    const h = harness(azure)
    await h.run()
    expect(h.runner.logs).toContainEqual(
      `warning: Cosmos DB account 'cosmos-cmk' pins a key version (${keyUri}/0123456789abcdef0123456789abcdef); new key versions will not be used.`
    )
  })

  it('an account of another kind than the api implies, left as it is', async () => {
    const azure = new FakeAzure().withActiveHsm().withKey().withAccount({ kind: 'MongoDB' })
    const h = harness(azure)
    await h.run()
    expect(h.runner.logs).toContainEqual(
      "warning: Cosmos DB account 'cosmos-cmk' is of kind MongoDB, not GlobalDocumentDB as api 'nosql' implies; it is left as it is."
    )
    expect(azure.writes().filter(w => w.startsWith('account.'))).toEqual([])
  })

  it('a mongodb account for api mongodb, and a versionless key, without a word', async () => {
    const azure = new FakeAzure().withActiveHsm().withKey().withAccount({ kind: 'MongoDB' })
    const h = harness(azure)
    await h.run(baseInputs({ account: { ...baseInputs().account, api: 'mongodb' } }))
    expect(h.runner.logs.filter(l => l.startsWith('warning:'))).toEqual([])
  })
})

describe("preflight on the signed-in principal's HSM roles", () => {
  const withRole = (role: string, scope = '/keys') =>
    new FakeAzure().withActiveHsm({ initialAdminObjectIds: [] }).grant(role, ids.signedIn, scope)

  it('refuses a principal holding only roles that may not assign, naming them', async () => {
    const azure = withRole(hsmRoles.cryptoServiceEncryptionUser.id)
    const message = await refusal(azure, baseInputs())
    expect(message).toContain(
      `holds no role on Managed HSM 'hsm-cmk' that may create the role assignments this run needs (it holds: ${hsmRoles.cryptoServiceEncryptionUser.id})`
    )
  })

  it('lets through a principal that holds Crypto User already, or a role it cannot judge', async () => {
    await expect(harness(withRole(hsmRoles.cryptoUser.id)).run()).resolves.toBeDefined()
    const custom = withRole('99999999-aaaa-4bbb-8ccc-dddddddddddd')
    await expect(harness(custom).run()).resolves.toBeDefined()
  })

  it('lets through an initial administrator whatever the case of its id', async () => {
    const azure = new FakeAzure()
      .withActiveHsm({ initialAdminObjectIds: [ids.signedIn.toUpperCase()] })
      .grant(hsmRoles.cryptoServiceEncryptionUser.id, ids.signedIn, '/keys')
    await expect(harness(azure).run()).resolves.toBeDefined()
  })

  it('counts only roles held at /keys or above', async () => {
    const azure = withRole(hsmRoles.cryptoServiceEncryptionUser.id, '/')
    expect(await refusal(azure, baseInputs())).toContain('(it holds: ')
    const narrow = withRole(hsmRoles.cryptoServiceEncryptionUser.id, '/keys/other')
    await expect(harness(narrow).run()).resolves.toBeDefined()
  })

  it('checks nothing in plan mode', async () => {
    const azure = withRole(hsmRoles.cryptoServiceEncryptionUser.id)
    await expect(harness(azure).run({ ...baseInputs(), mode: 'plan' })).resolves.toBeDefined()
  })
})
