import { describe, expect, it } from '@jest/globals'
import type { Inputs } from '../../src/inputs/settings.js'
import { ProvisioningError } from '../../src/provisioning-error.js'
import { hsmRoles, roleAssignmentName } from '../../src/roles.js'
import { FakeAzure, baseInputs, ids, withUserAssigned } from './fakes.js'
import { harness } from './helpers.js'

const keyUri = 'https://hsm-cmk.managedhsm.azure.net/keys/cosmos-key'

function inputs(account: Partial<Inputs['account']> = {}, key: Partial<Inputs['key']> = {}) {
  const base = baseInputs()
  return {
    ...base,
    account: { ...base.account, ...account },
    key: { ...base.key, ...key }
  }
}

const failure = async (run: Promise<unknown>) => (await run.catch(e => e)) as ProvisioningError

describe('an existing account without customer-managed keys', () => {
  const plainAccount = (azure: FakeAzure, overrides = {}) =>
    azure
      .withActiveHsm()
      .withKey()
      .withAccount({ keyVaultKeyUri: undefined, ...overrides })

  it('is refused before any write unless enable-on-existing says so, with what it means', async () => {
    const azure = plainAccount(new FakeAzure())
    const error = await failure(harness(azure).run(inputs()))
    expect(error.step).toBe('Observe')
    expect(error.message).toMatch(/exists without a customer-managed key/)
    expect(error.message).toMatch(/Set enable-on-existing: true/)
    expect(error.message).toMatch(/990 bytes/)
    expect(azure.writes()).toEqual([])
  })

  it('gets the key in an update that carries the key alone, after its identity holds the grant', async () => {
    const azure = plainAccount(new FakeAzure())
    const h = harness(azure)
    const result = await h.run(inputs({ enableOnExisting: true }))
    const writes = azure.writes()
    expect(writes).toContain('account.update keyVaultKeyUri')
    expect(writes.indexOf('rbac.create')).toBeLessThan(
      writes.indexOf('account.update keyVaultKeyUri')
    )
    expect(azure.account?.keyVaultKeyUri).toBe(keyUri)
    expect(result.records).toContainEqual(
      expect.objectContaining({ step: 'Customer-managed key', result: 'changed' })
    )
    expect(
      h.runner.logs.some(l => /^warning: Turning customer-managed keys on .*irreversible/.test(l))
    ).toBe(true)
    // A re-run finds the account on the key and sends nothing.
    azure.calls = []
    await h.run(inputs({ enableOnExisting: true }))
    expect(azure.writes()).toEqual([])
  })

  it('in plan mode says that the change is irreversible and what it blocks, and writes nothing', async () => {
    const azure = plainAccount(new FakeAzure())
    const result = await harness(azure).run({ ...inputs({ enableOnExisting: true }), mode: 'plan' })
    const row = result.records.find(r => r.step === 'Customer-managed key')
    expect(row?.result).toBe('would-change')
    expect(row?.action).toMatch(/irreversible.*adding regions.*990 bytes.*throughput/)
    expect(azure.writes()).toEqual([])
  })

  it.each([
    ['EnableCassandra', 'the Cassandra API'],
    ['EnableNoSQLVectorSearch', 'vector search'],
    ['EnableMaterializedViews', 'materialized views'],
    ['EnableAllVersionsAndDeletesChangeFeed', 'the all-versions-and-deletes change feed']
  ])('is refused before any write with the capability %s', async (capability, what) => {
    const azure = plainAccount(new FakeAzure(), { capabilities: [capability] })
    const error = await failure(harness(azure).run(inputs({ enableOnExisting: true })))
    expect(error.message).toContain(`uses ${what}, with which Azure Cosmos DB does not support`)
    expect(azure.writes()).toEqual([])
  })

  it('with continuous backup and FirstPartyIdentity is refused, naming the identity modes that fix it', async () => {
    const azure = plainAccount(new FakeAzure(), { backupPolicyType: 'Continuous' })
    const error = await failure(harness(azure).run(inputs({ enableOnExisting: true })))
    expect(error.message).toMatch(
      /has continuous backup, and its default identity is FirstPartyIdentity/
    )
    expect(error.message).toMatch(/identity-mode 'system-assigned' or 'user-assigned'/)
    expect(azure.writes()).toEqual([])
  })

  it('with an analytical store switches to the user-assigned identity first, then turns the key on', async () => {
    const azure = plainAccount(new FakeAzure(), { enableAnalyticalStorage: true }).withUai()
    const uai = withUserAssigned('user-assigned')
    await harness(azure).run({ ...uai, account: { ...uai.account, enableOnExisting: true } })
    const writes = azure.writes()
    expect(writes.indexOf('account.update defaultIdentity')).toBeLessThan(
      writes.indexOf('account.update keyVaultKeyUri')
    )
    expect(azure.account?.keyVaultKeyUri).toBe(keyUri)
  })
})

describe('an existing account on another key', () => {
  const otherKey = 'https://hsm-cmk.managedhsm.azure.net/keys/old-key'

  it('is refused unless key-switch says so', async () => {
    const azure = new FakeAzure()
      .withActiveHsm()
      .withKey()
      .withAccount({ keyVaultKeyUri: otherKey })
    const error = await failure(harness(azure).run(inputs()))
    expect(error.message).toMatch(/set key-switch: true/)
    expect(azure.writes()).toEqual([])
  })

  it('moves to this key with key-switch', async () => {
    const azure = new FakeAzure()
      .withActiveHsm()
      .withKey()
      .withAccount({ keyVaultKeyUri: otherKey })
    await harness(azure).run(inputs({ keySwitch: true }))
    expect(azure.account?.keyVaultKeyUri).toBe(keyUri)
  })
})

describe('key rotation', () => {
  const policy = { rotation: { rotateAfter: 'P90D', expireAfter: 'P2Y' } }

  it('sets the rotation policy, keeps it on re-runs, and creates no version doing so', async () => {
    const azure = new FakeAzure().withActiveHsm().withKey().withAccount()
    const h = harness(azure)
    const version = azure.keys['cosmos-key'].version
    await h.run(inputs({}, policy))
    expect(azure.rotationPolicies['cosmos-key']).toEqual({
      rotateAfter: 'P90D',
      expireAfter: 'P2Y'
    })
    expect(azure.keys['cosmos-key'].version).toBe(version)
    azure.calls = []
    const again = await h.run(inputs({}, policy))
    expect(azure.writes()).toEqual([])
    expect(again.records).toContainEqual(
      expect.objectContaining({ step: 'Key rotation policy', result: 'ok' })
    )
  })

  it('rotates on demand and reports the new version, leaving the old one alone', async () => {
    const azure = new FakeAzure().withActiveHsm().withKey().withAccount()
    const old = azure.keys['cosmos-key'].version
    const result = await harness(azure).run(inputs({}, { ...policy, rotateNow: true }))
    expect(azure.writes().filter(w => w.startsWith('key.'))).toEqual([
      'key.setRotationPolicy',
      'key.rotate'
    ])
    expect(result.outputs['key-version']).not.toBe(old)
    expect(result.outputs['key-version']).toBe(azure.keys['cosmos-key'].version)
  })

  it('refuses to rotate a key without a policy, saying how to give it one', async () => {
    const azure = new FakeAzure().withActiveHsm().withKey().withAccount()
    const error = await failure(harness(azure).run(inputs({}, { rotateNow: true })))
    expect(error.message).toMatch(/has no rotation policy.*Set key-rotate-after/)
    expect(azure.writes()).not.toContain('key.rotate')
  })
})

describe('mode verify', () => {
  const verify = (): Inputs => ({ ...baseInputs(), mode: 'verify' })
  const healthy = (azure: FakeAzure) => {
    azure.withActiveHsm().withKey().withAccount({
      customerManagedKeyStatus: 'Access to the configured customer managed key confirmed.'
    })
    azure.account!.keyVaultKeyUriVersion = azure.keys['cosmos-key'].version
    azure.grant(
      hsmRoles.cryptoServiceEncryptionUser.id,
      ids.cosmosSp,
      '/keys/cosmos-key',
      roleAssignmentName(
        'hsm-cmk',
        '/keys/cosmos-key',
        hsmRoles.cryptoServiceEncryptionUser.id,
        ids.cosmosSp
      )
    )
    return azure
  }

  it('passes a healthy account, writes nothing, and reports the version in use', async () => {
    const azure = healthy(new FakeAzure())
    const result = await harness(azure).run(verify())
    expect(azure.writes()).toEqual([])
    expect(result.outputs.healthy).toBe('true')
    expect(result.outputs['key-version-in-use']).toBe(azure.keys['cosmos-key'].version)
    expect(result.outputs['key-status-code']).toBeUndefined()
    const findings = JSON.parse(result.outputs.findings!) as { result: string }[]
    expect(findings.length).toBeGreaterThan(8)
    expect(findings.every(f => f.result === 'ok')).toBe(true)
  })

  it('fails with the revocation code named and explained', async () => {
    const azure = healthy(new FakeAzure())
    azure.account!.customerManagedKeyStatus =
      'Access to your account is currently revoked because the key is disabled (4002).'
    const result = await harness(azure).run(verify())
    expect(result.outputs.healthy).toBe('false')
    expect(result.outputs['key-status-code']).toBe('4002')
    expect(result.records).toContainEqual(
      expect.objectContaining({
        step: 'Customer-managed key',
        result: 'failed',
        observed: expect.stringMatching(
          /revoked with code 4002: the default identity may not use the key/
        )
      })
    )
  })

  it('warns while the account catches up with a rotation, and fails after 24 hours', async () => {
    const azure = healthy(new FakeAzure())
    const h = harness(azure)
    azure.account!.keyVaultKeyUriVersion = 'old-version'
    azure.keys['cosmos-key'].createdOn = new Date(h.clock.now() - 3600_000)
    const fresh = await h.run(verify())
    expect(fresh.outputs.healthy).toBe('true')
    expect(fresh.records).toContainEqual(
      expect.objectContaining({
        result: 'warning',
        observed: expect.stringMatching(
          /uses version old-version; the current version .* is 1 h old/
        )
      })
    )
    azure.keys['cosmos-key'].createdOn = new Date(h.clock.now() - 25 * 3600_000)
    const late = await h.run(verify())
    expect(late.outputs.healthy).toBe('false')
  })

  it("fails when the default identity's grant is gone", async () => {
    const azure = healthy(new FakeAzure())
    azure.assignments = []
    const result = await harness(azure).run(verify())
    expect(result.outputs.healthy).toBe('false')
    expect(result.records).toContainEqual(
      expect.objectContaining({ step: 'Cosmos DB key access', result: 'failed' })
    )
  })

  it('fails on a disabled key and warns on one expiring within 30 days', async () => {
    const azure = healthy(new FakeAzure())
    const h = harness(azure)
    azure.keys['cosmos-key'].expiresOn = new Date(h.clock.now() + 10 * 24 * 3600_000)
    const soon = await h.run(verify())
    expect(soon.outputs.healthy).toBe('true')
    expect(soon.records).toContainEqual(
      expect.objectContaining({ action: 'check: not expiring within 30 days', result: 'warning' })
    )
    azure.keys['cosmos-key'].enabled = false
    expect((await h.run(verify())).outputs.healthy).toBe('false')
  })
})
