import { describe, expect, it } from '@jest/globals'
import type { SecurityDomainCertificate } from '../../src/certificates.js'
import { ProvisioningError } from '../../src/provisioning-error.js'
import { hsmRoles, roleAssignmentName } from '../../src/roles.js'
import {
  FakeAzure,
  baseInputs,
  fakeSecurityDomainKey,
  ids,
  restError,
  uaiId,
  withUserAssigned
} from './fakes.js'
import { harness } from './helpers.js'

const certs = [1, 2, 3].map((n): SecurityDomainCertificate => ({
  path: `sd${n}.pem`,
  subject: `CN=sd${n}`,
  jwk: fakeSecurityDomainKey(`k${n}`, ['MII='])
}))

const newHsmInputs = () =>
  baseInputs({
    hsm: { ...baseInputs().hsm, create: true },
    securityDomain: { certificates: certs, quorum: 2, file: '/work/sd.json' }
  })

const keyScope = '/keys/cosmos-key'

describe('runProvisioning: a first run from nothing', () => {
  it('registers, creates, activates, grants both principals, creates the key and the account', async () => {
    const h = harness(new FakeAzure())
    h.azure.providerStates['Microsoft.DocumentDB'] = 'NotRegistered'
    const result = await h.run(newHsmInputs())

    // The Cosmos DB principal's grant does not wait for the key: both grants propagate together.
    expect(h.azure.writes()).toEqual([
      'providers.register Microsoft.DocumentDB',
      'hsm.create',
      'hsm.tags',
      'sd.download',
      'hsm.tags',
      'rbac.create',
      'rbac.create',
      'armKey.create',
      'account.create'
    ])
    expect(result.changed).toBe(true)
    expect(result.outputs['key-uri']).toBe('https://hsm-cmk.managedhsm.azure.net/keys/cosmos-key')
    expect(result.outputs['key-id']).toMatch(/\/keys\/cosmos-key\/f+0$/)
    expect(result.outputs['cosmos-principal-id']).toBe(ids.cosmosSp)
    expect(result.outputs['admin-principal-id']).toBe(ids.signedIn)
    expect(result.outputs['default-identity']).toBe('FirstPartyIdentity')
    expect(JSON.parse(result.outputs['role-assignment-ids']!)).toHaveLength(2)
    expect(h.files['/work/sd.json'].content).toBe('{"EncData":"opaque"}')
    // The signed-in principal is always an administrator of the new HSM.
    expect(h.azure.hsmState?.initialAdminObjectIds).toEqual([ids.signedIn])
    // The account gets the versionless key URI.
    expect(h.azure.account?.keyVaultKeyUri).toBe(
      'https://hsm-cmk.managedhsm.azure.net/keys/cosmos-key'
    )
  })

  it('grants with deterministic names, so a re-run finds them', async () => {
    const h = harness(new FakeAzure())
    await h.run(newHsmInputs())
    const names = h.azure.assignments.map(a => a.name)
    expect(names).toContain(
      roleAssignmentName('hsm-cmk', '/keys', hsmRoles.cryptoUser.id, ids.signedIn)
    )
    expect(names).toContain(
      roleAssignmentName('hsm-cmk', keyScope, hsmRoles.cryptoServiceEncryptionUser.id, ids.cosmosSp)
    )
  })

  it('a second run only reads and changes nothing', async () => {
    const h = harness(new FakeAzure())
    await h.run(newHsmInputs())
    h.azure.calls = []
    const again = await h.run(newHsmInputs())
    expect(h.azure.writes()).toEqual([])
    expect(again.changed).toBe(false)
    expect(again.outputs.changed).toBe('false')
    // The permissions of the scopes where a run creates things are read before it knows.
    expect(h.azure.calls).toEqual([
      'read permissions',
      'read permissions',
      'read graph.servicePrincipal',
      'read providers.get Microsoft.DocumentDB',
      'read providers.get Microsoft.KeyVault',
      'read hsm.get',
      'read account.get',
      'read key.get',
      'read rbac.list',
      'read rbac.list'
    ])
    expect(again.records.every(r => r.result === 'ok')).toBe(true)
  })
})

describe('runProvisioning: plan mode', () => {
  it('warns with create-hsm that apply would start billing for an HSM', async () => {
    const h = harness(new FakeAzure())
    await h.run({ ...newHsmInputs(), mode: 'plan' })
    expect(h.runner.logs).toContainEqual(
      expect.stringMatching(
        /^warning: Apply would create Managed HSM 'hsm-cmk': billing starts at creation/
      )
    )
    expect(h.azure.writes()).toEqual([])
  })

  it('reads everything, writes nothing and lists what apply would do', async () => {
    const h = harness(new FakeAzure())
    h.azure.providerStates['Microsoft.KeyVault'] = 'NotRegistered'
    const result = await h.run({ ...newHsmInputs(), mode: 'plan' })
    expect(h.azure.writes()).toEqual([])
    expect(Object.keys(h.files)).toEqual([])
    expect(result.changed).toBe(true)
    const wouldChange = result.records.filter(r => r.result === 'would-change').map(r => r.step)
    expect(wouldChange).toEqual(
      expect.arrayContaining([
        'Resource providers',
        'Managed HSM',
        'HSM activation',
        'Key',
        'Cosmos DB account'
      ])
    )
  })

  it('on an existing HSM it observes the data plane and reports missing grants and key', async () => {
    const h = harness(new FakeAzure().withActiveHsm())
    const result = await h.run({ ...baseInputs(), mode: 'plan' })
    expect(h.azure.writes()).toEqual([])
    expect(result.records.find(r => r.step === 'Admin key access')?.result).toBe('would-change')
    expect(result.records.find(r => r.step === 'Key')?.action).toContain('create RSA-HSM 3072')
  })
})

describe('runProvisioning: refuses before any write', () => {
  it('when create-hsm would write the security domain over an existing file', async () => {
    const h = harness(new FakeAzure())
    h.files['/work/sd.json'] = { content: '{"another":"security domain"}' }
    const error = (await h.run(newHsmInputs()).catch(e => e)) as ProvisioningError
    expect(error.step).toBe('Observe')
    expect(error.message).toMatch(/security-domain-file \/work\/sd.json already exists/)
    expect(h.azure.writes()).toEqual([])
    expect(h.files['/work/sd.json'].content).toBe('{"another":"security domain"}')
  })

  it('when a region does not offer the HSM or the account, with every region it names', async () => {
    const h = harness(new FakeAzure())
    h.azure.offered = {
      'Microsoft.KeyVault': { managedhsms: ['northeurope', 'eastus'] },
      'Microsoft.DocumentDB': { databaseaccounts: ['northeurope', 'westeurope'] }
    }
    const inputs = newHsmInputs()
    const error = (await h
      .run({ ...inputs, account: { ...inputs.account, locations: ['westeurope', 'mars'] } })
      .catch(e => e)) as ProvisioningError
    expect(error.message).toContain(
      "Input 'location' is 'westeurope': Managed HSM is not offered in that region for subscription " +
        `${ids.subscription}. It is offered in: northeurope, eastus.`
    )
    expect(error.message).toContain(
      "Input 'account-locations' is 'mars': Azure Cosmos DB is not offered in that region"
    )
    expect(error.message).not.toContain("'westeurope': Azure Cosmos DB")
    expect(h.azure.writes()).toEqual([])
  })

  it('when ARM permissions the writes need are missing, naming each with a role that grants it', async () => {
    const azure = new FakeAzure().withActiveHsm()
    azure.providerStates['Microsoft.DocumentDB'] = 'NotRegistered'
    const subscription = `/subscriptions/${ids.subscription}`
    azure.permissionsAt[subscription] = [{ actions: ['*/read'], notActions: [] }]
    azure.permissionsAt[`${subscription}/resourceGroups/rg-cmk`] = [
      { actions: ['*'], notActions: ['Microsoft.DocumentDB/databaseAccounts/write'] }
    ]
    const error = (await harness(azure)
      .run()
      .catch(e => e)) as ProvisioningError
    expect(error.step).toBe('Observe')
    expect(error.message).toContain(
      `may not perform Microsoft.DocumentDB/register/action on subscription ${ids.subscription}, which it ` +
        'needs to register the Microsoft.DocumentDB resource provider. A role that grants it: Contributor on the subscription.'
    )
    expect(error.message).toContain(
      "may not perform Microsoft.DocumentDB/databaseAccounts/write on resource group 'rg-cmk', which it needs " +
        'to create the Cosmos DB account. A role that grants it: DocumentDB Account Contributor.'
    )
    expect(azure.writes()).toEqual([])
  })

  it('but leaves a write to itself when the permissions cannot be read', async () => {
    const azure = new FakeAzure().withActiveHsm()
    azure.failAlways('permissions', () => restError(403, 'AuthorizationFailed', 'no'))
    await harness(azure).run()
    expect(azure.writes()).toContain('account.create')
  })

  it('reads no permissions in plan mode', async () => {
    const azure = new FakeAzure().withActiveHsm()
    await harness(azure).run({ ...baseInputs(), mode: 'plan' })
    expect(azure.calls.length).toBeGreaterThan(0)
    expect(azure.calls).not.toContain('read permissions')
  })

  it('when the signed-in principal holds only HSM roles that may not assign roles', async () => {
    const azure = new FakeAzure()
      .withActiveHsm({ initialAdminObjectIds: [] })
      .grant('2c18b078-7c48-4d3a-af88-5a3a1b3f82b3', ids.signedIn, '/')
    const error = (await harness(azure)
      .run()
      .catch(e => e)) as ProvisioningError
    expect(error.message).toMatch(
      /holds no role on Managed HSM 'hsm-cmk' that may create the role assignments/
    )
    expect(error.message).toContain('--role "Managed HSM Administrator"')
    expect(azure.writes()).toEqual([])
  })

  it('when the signed-in principal may not even read the HSM role assignments', async () => {
    const azure = new FakeAzure().withActiveHsm()
    azure.failAlways('rbac.list', () =>
      restError(403, 'Forbidden', 'Caller is not authorized.', 'ForbiddenByRbac')
    )
    const error = (await harness(azure)
      .run()
      .catch(e => e)) as ProvisioningError
    expect(error.message).toMatch(/may not read the role assignments of Managed HSM 'hsm-cmk'/)
    expect(azure.writes()).toEqual([])
  })

  it('but takes over the empty file an interrupted run reserved', async () => {
    const h = harness(new FakeAzure())
    h.files['/work/sd.json'] = { content: '' }
    await h.run(newHsmInputs())
    expect(h.files['/work/sd.json'].content).toBe('{"EncData":"opaque"}')
    expect(h.azure.hsmState?.tags['cmk-security-domain']).toMatch(/^saved /)
  })

  it('when an existing HSM lacks purge protection and enabling it was not allowed', async () => {
    const h = harness(new FakeAzure().withActiveHsm({ enablePurgeProtection: false }))
    h.azure.providerStates['Microsoft.DocumentDB'] = 'NotRegistered'
    const error = (await h.run().catch(e => e)) as ProvisioningError
    expect(error).toBeInstanceOf(ProvisioningError)
    expect(error.message).toMatch(/does not have purge protection/)
    expect(error.message).toMatch(/enable-purge-protection: true/)
    expect(h.azure.writes()).toEqual([])
  })

  it('when the account uses another key, naming both keys', async () => {
    const h = harness(
      new FakeAzure()
        .withActiveHsm()
        .withAccount({ keyVaultKeyUri: 'https://other.managedhsm.azure.net/keys/k' })
    )
    const error = (await h.run().catch(e => e)) as ProvisioningError
    expect(error.message).toContain('https://other.managedhsm.azure.net/keys/k')
    expect(error.message).toContain('https://hsm-cmk.managedhsm.azure.net/keys/cosmos-key')
    expect(h.azure.writes()).toEqual([])
  })

  it('when the account has no customer-managed key', async () => {
    const h = harness(new FakeAzure().withActiveHsm().withAccount({ keyVaultKeyUri: undefined }))
    const error = (await h.run().catch(e => e)) as ProvisioningError
    expect(error.message).toMatch(/exists without a customer-managed key/)
    expect(h.azure.writes()).toEqual([])
  })

  it('when the HSM is absent and create-hsm is false', async () => {
    const h = harness(new FakeAzure())
    const error = (await h.run().catch(e => e)) as ProvisioningError
    expect(error.message).toMatch(/does not exist .* create-hsm: true/)
    expect(error.records.at(-1)).toMatchObject({ step: 'Observe', result: 'failed' })
  })

  it('when the HSM is not activated and no certificates are given, with the exact steps', async () => {
    const h = harness(new FakeAzure().withActiveHsm({ activationStatus: 'NotActivated' }))
    const error = (await h.run().catch(e => e)) as ProvisioningError
    expect(error.message).toContain('az keyvault security-domain download --hsm-name hsm-cmk')
    expect(error.message).toContain('security-domain-certificates')
    expect(h.azure.writes()).toEqual([])
  })

  it('when the user-assigned identity does not exist, and reports every problem together', async () => {
    const h = harness(new FakeAzure().withActiveHsm({ enablePurgeProtection: false }))
    const inputs = withUserAssigned('user-assigned', 'first-party')
    const error = (await h.run(inputs).catch(e => e)) as ProvisioningError
    expect(error.message).toMatch(/User-assigned identity .* was not found/)
    expect(error.message).toMatch(/purge protection/)
    expect(h.azure.writes()).toEqual([])
  })
})

describe('runProvisioning: an existing HSM', () => {
  it('turns purge protection on when allowed and warns that it is irreversible', async () => {
    const h = harness(new FakeAzure().withActiveHsm({ enablePurgeProtection: false }))
    const inputs = baseInputs({ hsm: { ...baseInputs().hsm, enablePurgeProtection: true } })
    await h.run(inputs)
    expect(h.azure.writes()[0]).toBe('hsm.enablePurgeProtection')
    expect(h.runner.logs.some(l => l.startsWith('warning:') && /irreversible/.test(l))).toBe(true)
  })

  it('reads back an HSM a concurrent run created (409) instead of failing', async () => {
    const azure = new FakeAzure()
    azure.failNext('hsm.create', () => {
      azure.withActiveHsm({ activationStatus: 'NotActivated' })
      return restError(409, 'Conflict', 'The name is already in use.')
    })
    const h = harness(azure)
    await h.run(newHsmInputs())
    expect(azure.writes().filter(w => w === 'hsm.create')).toHaveLength(1)
    expect(azure.writes()).toContain('sd.download')
  })

  it('waits for a still-provisioning HSM (an interrupted earlier run) instead of creating it', async () => {
    const azure = new FakeAzure().withActiveHsm({ provisioningState: 'Provisioning' })
    let gets = 0
    azure.before['hsm.get'] = () => {
      if (++gets === 3) azure.hsmState!.provisioningState = 'Succeeded'
    }
    const h = harness(azure)
    await h.run(newHsmInputs())
    expect(azure.writes()).not.toContain('hsm.create')
    expect(
      h.runner.logs.some(l => /Waiting for Managed HSM 'hsm-cmk' to finish provisioning/.test(l))
    ).toBe(true)
  })

  it('waits for a security domain download begun by an earlier run instead of starting another', async () => {
    const azure = new FakeAzure().withDownloadUnderWay()
    const h = harness(azure)
    h.files['/work/sd.json'] = { content: 'from the earlier run' }
    await h.run(newHsmInputs())
    expect(azure.writes()).not.toContain('sd.download')
    expect(h.files['/work/sd.json'].content).toBe('from the earlier run')
  })

  it('never overwrites an existing security domain file', async () => {
    const h = harness(new FakeAzure().withActiveHsm({ activationStatus: 'NotActivated' }))
    h.files['/work/sd.json'] = { content: 'precious' }
    const error = (await h.run(newHsmInputs()).catch(e => e)) as ProvisioningError
    expect(error.message).toMatch(/already exists/)
    expect(h.azure.writes()).not.toContain('sd.download')
    expect(h.files['/work/sd.json'].content).toBe('precious')
  })
})

describe('runProvisioning: the key', () => {
  const hsmDenied = () =>
    restError(
      403,
      'Forbidden',
      'Caller is not authorized to perform action on resource.',
      'ForbiddenByRbac'
    )
  const armDenied = () =>
    restError(
      403,
      'AuthorizationFailed',
      "The client does not have authorization to perform action 'Microsoft.KeyVault/managedHSMs/keys/write'."
    )
  const landedKey = (azure: FakeAzure, version: string) => {
    azure.keys['cosmos-key'] = {
      id: `https://hsm-cmk.managedhsm.azure.net/keys/cosmos-key/${version}`,
      name: 'cosmos-key',
      version,
      kty: 'RSA-HSM',
      keySize: 3072,
      keyOps: ['wrapKey', 'unwrapKey'],
      enabled: true
    }
  }

  it('creates it through ARM, waiting out the HSM 403 while the admin grant propagates', async () => {
    const azure = new FakeAzure().withActiveHsm()
    // ARM passes the HSM's refusal on as a 400 with the HSM's code.
    const passedOn = () =>
      restError(
        400,
        'AccessDenied',
        '[AccessDenied (Forbidden)] Not authorized to access Microsoft.KeyVault/managedHsm/keys/create/action on /keys/cosmos-key'
      )
    azure.failTimes('armKey.create', 2, passedOn)
    const h = harness(azure)
    const result = await h.run()
    expect(azure.calls.filter(c => c === 'write armKey.create')).toHaveLength(3)
    expect(azure.writes()).not.toContain('key.create')
    expect(Object.keys(azure.keys)).toEqual(['cosmos-key'])
    expect(result.outputs['key-version']).toBe(azure.keys['cosmos-key'].version)
    expect(
      h.runner.logs.some(l => /Waiting for Managed HSM 'hsm-cmk' to let .* create key/.test(l))
    ).toBe(true)
  })

  it('repeats an ARM creation whose outcome stays unknown until it lands, with one version', async () => {
    const azure = new FakeAzure().withActiveHsm()
    const cutOff = () => restError(0, 'OutcomeUnknown', 'cut off')
    azure.failNext('armKey.create', cutOff, cutOff, cutOff, cutOff, cutOff)
    const result = await harness(azure).run()
    expect(azure.calls.filter(c => c === 'write armKey.create')).toHaveLength(6)
    expect(result.outputs['key-version']).toBe(azure.keys['cosmos-key'].version)
    expect(Object.keys(azure.keys)).toEqual(['cosmos-key'])
  })

  it('a run that meets a key a parallel run created reports that key, not a new version', async () => {
    const azure = new FakeAzure().withActiveHsm()
    // Absent when observed, present by the time this run creates it.
    azure.before['armKey.create'] = () => landedKey(azure, 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb')
    const result = await harness(azure).run()
    expect(result.outputs['key-version']).toBe('bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb')
    expect(azure.writes()).not.toContain('key.create')
  })

  it('falls back to the data plane when ARM may not write keys, waiting out the 403 there', async () => {
    const azure = new FakeAzure().withActiveHsm()
    azure.failAlways('armKey.create', armDenied)
    azure.failNext('key.get', hsmDenied, hsmDenied)
    const h = harness(azure)
    await h.run()
    // One read while observing, then one per try until the grant takes effect.
    expect(azure.calls.filter(c => c === 'read key.get').length).toBe(4)
    expect(azure.writes()).toContain('key.create')
    expect(h.runner.logs.some(l => /creating it on the HSM's data plane instead/.test(l))).toBe(
      true
    )
    expect(
      h.runner.logs.some(l =>
        /Waiting for 'Managed HSM Crypto User' on \/keys to take effect/.test(l)
      )
    ).toBe(true)
  })

  it('creates the key on the data plane at once when the HSM does not trust ARM with key management', async () => {
    const azure = new FakeAzure().withActiveHsm()
    azure.hsmSettings.AllowKeyManagementOperationsThroughARM = 'false'
    const h = harness(azure)
    const result = await h.run()
    expect(azure.calls).toContain('read settings.get')
    expect(azure.writes()).not.toContain('armKey.create')
    expect(azure.writes()).toContain('key.create')
    expect(result.outputs['key-version']).toBe(azure.keys['cosmos-key'].version)
    expect(h.runner.logs).toContain(
      "info: The HSM does not let ARM manage keys (AllowKeyManagementOperationsThroughARM false); creating key 'cosmos-key' on its data plane."
    )
  })

  it('tries ARM when the HSM setting cannot be read, and falls back to the data plane on its refusal', async () => {
    const azure = new FakeAzure().withActiveHsm()
    azure.hsmSettings.AllowKeyManagementOperationsThroughARM = 'false'
    azure.failAlways('settings.get', () => restError(403, 'Forbidden', 'not an administrator'))
    const result = await harness(azure).run()
    expect(azure.calls.filter(c => c === 'write armKey.create')).toHaveLength(1)
    expect(azure.writes()).toContain('key.create')
    expect(result.outputs['key-version']).toBe(azure.keys['cosmos-key'].version)
  })

  it('with allow-arm-key-management, lets the HSM accept key management through ARM first', async () => {
    const azure = new FakeAzure().withActiveHsm()
    azure.hsmSettings.AllowKeyManagementOperationsThroughARM = 'false'
    const inputs = baseInputs()
    const allow = { ...inputs, hsm: { ...inputs.hsm, allowArmKeyManagement: true } }
    const plan = await harness(azure).run({ ...allow, mode: 'plan' })
    expect(plan.records).toContainEqual({
      step: 'Key management through ARM',
      observed: 'AllowKeyManagementOperationsThroughARM false',
      action: 'set AllowKeyManagementOperationsThroughARM to true',
      result: 'would-change'
    })
    expect(azure.writes()).toEqual([])
    await harness(azure).run(allow)
    const writes = azure.writes()
    expect(writes.indexOf('settings.update AllowKeyManagementOperationsThroughARM')).toBeLessThan(
      writes.indexOf('armKey.create')
    )
    expect(azure.hsmSettings.AllowKeyManagementOperationsThroughARM).toBe('true')
  })

  it('leaves the HSM setting alone without allow-arm-key-management', async () => {
    const azure = new FakeAzure().withActiveHsm()
    azure.hsmSettings.AllowKeyManagementOperationsThroughARM = 'false'
    await harness(azure).run()
    expect(azure.writes().filter(w => w.startsWith('settings.update'))).toEqual([])
    expect(azure.hsmSettings.AllowKeyManagementOperationsThroughARM).toBe('false')
  })

  it('reads the HSM setting only when the key must be created', async () => {
    const azure = new FakeAzure().withActiveHsm().withKey()
    await harness(azure).run()
    expect(azure.calls).not.toContain('read settings.get')
  })

  it('names every difference of an unfit existing key and never touches it', async () => {
    const azure = new FakeAzure()
      .withActiveHsm()
      .withKey({ keySize: 2048, keyOps: ['wrapKey'], expiresOn: new Date('2020-01-01T00:00:00Z') })
    const h = harness(azure)
    const error = (await h.run().catch(e => e)) as ProvisioningError
    expect(error.message).toContain('it is 2048 bits, but key-size is 3072')
    expect(error.message).toContain('lack unwrapKey')
    expect(error.message).toContain('expired on 2020-01-01')
    // Readable already, so it is refused while observing, before any write.
    expect(azure.writes()).toEqual([])
    expect(error.step).toBe('Observe')
  })

  it('on the data plane, reads back after a creation whose outcome is unknown, and creates no second version', async () => {
    const azure = new FakeAzure().withActiveHsm()
    azure.failAlways('armKey.create', armDenied)
    azure.failNext('key.create', () => {
      // The request reached the HSM, but the answer was lost.
      landedKey(azure, 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')
      return restError(0, 'OutcomeUnknown', 'cut off')
    })
    const h = harness(azure)
    const result = await h.run()
    expect(azure.calls.filter(c => c === 'write key.create')).toHaveLength(1)
    expect(result.outputs['key-version']).toBe('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')
  })

  it('on the data plane, repeats a creation cut off five times until it lands, with one version', async () => {
    const azure = new FakeAzure().withActiveHsm()
    azure.failAlways('armKey.create', armDenied)
    const cutOff = () => restError(0, 'OutcomeUnknown', 'cut off')
    azure.failNext('key.create', cutOff, cutOff, cutOff, cutOff, cutOff)
    const result = await harness(azure).run()
    expect(azure.calls.filter(c => c === 'write key.create')).toHaveLength(6)
    expect(Object.keys(azure.keys)).toEqual(['cosmos-key'])
    expect(result.outputs['key-version']).toBe(azure.keys['cosmos-key'].version)
  })
})

describe('runProvisioning: role assignments', () => {
  it('counts an existing assignment of the same role under another name as present', async () => {
    const azure = new FakeAzure()
      .withActiveHsm()
      .withKey()
      .grant(hsmRoles.cryptoUser.id, ids.signedIn, '/keys', 'someone-elses')
      .grant(hsmRoles.cryptoServiceEncryptionUser.id, ids.cosmosSp, keyScope, 'also-not-ours')
      .withAccount()
    const h = harness(azure)
    const result = await h.run()
    expect(azure.writes()).toEqual([])
    expect(JSON.parse(result.outputs['role-assignment-ids']!)).toEqual([
      '/providers/Microsoft.Authorization/roleAssignments/someone-elses',
      '/providers/Microsoft.Authorization/roleAssignments/also-not-ours'
    ])
  })

  it('reads back a RoleAssignmentExists conflict from a concurrent run', async () => {
    const azure = new FakeAzure().withActiveHsm()
    azure.failNext('rbac.create', () => {
      azure.grant(
        hsmRoles.cryptoUser.id,
        ids.signedIn,
        '/keys',
        roleAssignmentName('hsm-cmk', '/keys', hsmRoles.cryptoUser.id, ids.signedIn)
      )
      return restError(409, 'RoleAssignmentExists', 'The role assignment already exists.')
    })
    const h = harness(azure)
    await h.run()
    expect(azure.writes().filter(w => w === 'rbac.create')).toHaveLength(2)
  })

  it('explains a 403 on role assignments with the command an HSM administrator can run', async () => {
    const azure = new FakeAzure().withActiveHsm()
    const denied = () => restError(403, 'Forbidden', 'denied')
    // Observed first (a refusal there is left to the step), then read again by the step.
    azure.failNext('rbac.list', denied, denied)
    const error = (await harness(azure)
      .run()
      .catch(e => e)) as ProvisioningError
    expect(error.message).toMatch(/needs 'Managed HSM Administrator'/)
    expect(error.message).toContain(`--assignee-object-id ${ids.signedIn}`)
  })

  it('grants at /keys with role-scope keys', async () => {
    const azure = new FakeAzure().withActiveHsm()
    await harness(azure).run({ ...baseInputs(), roleScope: 'keys' })
    const cosmosGrant = azure.assignments.find(a => a.principalId === ids.cosmosSp)
    expect(cosmosGrant?.scope).toBe('/keys')
  })
})

describe('runProvisioning: the Cosmos DB principal', () => {
  it('suggests cosmos-principal-id when Graph refuses the lookup', async () => {
    const azure = new FakeAzure().withActiveHsm()
    azure.failNext('graph.servicePrincipal', () =>
      restError(
        403,
        'Authorization_RequestDenied',
        'Insufficient privileges to complete the operation.'
      )
    )
    const error = (await harness(azure)
      .run()
      .catch(e => e)) as ProvisioningError
    expect(error.message).toContain('cosmos-principal-id')
    expect(error.message).toContain('az ad sp show --id a232010e-820c-4083-83bb-3ace5fc29d0b')
  })

  const givenPrincipal = (id: string) =>
    baseInputs({ identity: { ...baseInputs().identity, cosmosPrincipalId: id } })

  it('checks a given cosmos-principal-id by object id instead of looking the application up', async () => {
    const azure = new FakeAzure().withActiveHsm()
    const id = '99999999-9999-9999-9999-999999999999'
    azure.servicePrincipals[id] = {
      id,
      appId: 'a232010e-820c-4083-83bb-3ace5fc29d0b',
      displayName: 'Azure Cosmos DB'
    }
    await harness(azure).run(givenPrincipal(id))
    expect(azure.calls).not.toContain('read graph.servicePrincipal')
    expect(azure.calls).toContain('read graph.servicePrincipalById')
    expect(azure.assignments.some(a => a.principalId === id)).toBe(true)
  })

  it('refuses before any write a cosmos-principal-id that is no principal, naming the input', async () => {
    const azure = new FakeAzure().withActiveHsm()
    const error = (await harness(azure)
      .run(givenPrincipal('99999999-9999-9999-9999-999999999999'))
      .catch(e => e)) as ProvisioningError
    expect(error.step).toBe('Observe')
    expect(error.message).toMatch(
      /^Input 'cosmos-principal-id' is '9{8}-9{4}-9{4}-9{4}-9{12}': no service principal has that object id/
    )
    expect(error.message).toContain('az ad sp show --id a232010e-820c-4083-83bb-3ace5fc29d0b')
    expect(azure.writes()).toEqual([])
  })

  it("refuses before any write a cosmos-principal-id of another application's principal", async () => {
    const azure = new FakeAzure().withActiveHsm()
    const error = (await harness(azure)
      .run(givenPrincipal(ids.uaiPrincipal))
      .catch(e => e)) as ProvisioningError
    expect(error.message).toMatch(/it is the object id of 'id-cmk' \(application 8{8}-/)
    expect(azure.writes()).toEqual([])
  })

  it('when the directory may not be read, fails fast on an unknown principal, naming the input', async () => {
    const azure = new FakeAzure().withActiveHsm()
    azure.failAlways('graph.servicePrincipalById', () =>
      restError(403, 'Authorization_RequestDenied', 'Insufficient privileges.')
    )
    const unknown = '99999999-9999-9999-9999-999999999999'
    azure.unknownPrincipals.add(unknown)
    const h = harness(azure)
    const error = (await h.run(givenPrincipal(unknown)).catch(e => e)) as ProvisioningError
    expect(error.message).toMatch(
      /The directory does not know the Azure Cosmos DB service principal/
    )
    expect(error.message).toContain("(input 'cosmos-principal-id')")
    // One attempt, no wait for a replication that cannot come.
    expect(azure.calls.filter(c => c === 'write rbac.create')).toHaveLength(2)
    expect(h.runner.logs.some(l => /does not know the principal yet/.test(l))).toBe(false)
  })
})

describe('runProvisioning: the account', () => {
  const cannotWrapYet =
    'Database account creation failed: KeyVaultAuthenticationFailure: cannot wrap yet'

  it('retries the creation while the service reports KeyVaultAuthenticationFailure', async () => {
    const azure = new FakeAzure().withActiveHsm()
    azure.failTimes('account.create', 2, () => restError(400, 'BadRequest', cannotWrapYet))
    const h = harness(azure)
    await h.run()
    expect(azure.calls.filter(c => c === 'write account.create')).toHaveLength(3)
    expect(h.clock.sleeps.length).toBeGreaterThanOrEqual(2)
  })

  it('gives up at the deadline with what did not happen and what to check', async () => {
    const azure = new FakeAzure().withActiveHsm()
    const pending = () => restError(400, 'BadRequest', 'KeyVaultAuthenticationFailure')
    azure.failAlways('account.create', pending)
    const error = (await harness(azure)
      .run()
      .catch(e => e)) as ProvisioningError
    expect(error.message).toMatch(
      /Gave up after 20 min 0 s waiting for Azure Cosmos DB to accept key/
    )
    expect(error.message).toMatch(/Managed HSM Crypto Service Encryption User/)
  })

  it('creates a user-assigned account with the identity and its default identity', async () => {
    const azure = new FakeAzure().withActiveHsm().withUai()
    const inputs = withUserAssigned('user-assigned', 'first-party')
    const result = await harness(azure).run(inputs)
    expect(azure.account?.defaultIdentity).toBe(`UserAssignedIdentity=${uaiId}`)
    expect(Object.keys(azure.account!.identity.userAssignedIdentities)).toEqual([uaiId])
    expect(azure.assignments.some(a => a.principalId === ids.uaiPrincipal)).toBe(true)
    expect(azure.calls).not.toContain('read graph.servicePrincipal')
    expect(result.outputs['cosmos-principal-id']).toBe(ids.uaiPrincipal)
    expect(result.outputs['user-assigned-principal-id']).toBe(ids.uaiPrincipal)
  })

  it('maps each api to kind and capabilities', async () => {
    const azure = new FakeAzure().withActiveHsm()
    await harness(azure).run({
      ...baseInputs(),
      account: { ...baseInputs().account, api: 'cassandra' }
    })
    expect(azure.account).toMatchObject({
      kind: 'GlobalDocumentDB',
      capabilities: ['EnableCassandra']
    })
  })
})

describe('runProvisioning: system-assigned identity', () => {
  const systemInputs = (remove = false) =>
    baseInputs({
      identity: {
        mode: 'system-assigned',
        bootstrap: 'first-party',
        removeBootstrapAssignment: remove
      }
    })

  it('creates with the system identity and the bootstrap default identity, then grants and switches in a separate update', async () => {
    const azure = new FakeAzure().withActiveHsm()
    const result = await harness(azure).run(systemInputs())
    expect(azure.writes()).toEqual([
      'rbac.create',
      'rbac.create',
      'armKey.create',
      'account.create',
      'rbac.create',
      'account.update defaultIdentity'
    ])
    expect(azure.account?.defaultIdentity).toBe('SystemAssignedIdentity')
    expect(result.outputs['cosmos-principal-id']).toBe(ids.systemPrincipal)
    expect(result.outputs['system-assigned-principal-id']).toBe(ids.systemPrincipal)
  })

  it('waits for the new principal to replicate (PrincipalNotFound)', async () => {
    const azure = new FakeAzure().withActiveHsm().withKey().withAccount()
    const notYet = () =>
      restError(400, 'PrincipalNotFound', 'Principal does not exist in the directory.')
    let refusals = 2
    const plane = azure.hsm()
    const create = plane.rbac.create
    plane.rbac.create = async (scope, name, role, principalId) => {
      if (principalId === ids.systemPrincipal && refusals-- > 0) throw notYet()
      return create(scope, name, role, principalId)
    }
    azure.hsm = () => plane
    const h = harness(azure)
    await h.run(systemInputs())
    expect(refusals).toBe(-1)
    expect(azure.assignments.some(a => a.principalId === ids.systemPrincipal)).toBe(true)
    expect(h.runner.logs.some(l => /to be known to the directory/.test(l))).toBe(true)
  })

  it('re-sends the default identity when the service silently ignored it, until it reads back', async () => {
    const azure = new FakeAzure()
      .withActiveHsm()
      .withKey()
      .withAccount({
        identity: {
          type: 'SystemAssigned',
          principalId: ids.systemPrincipal,
          userAssignedIdentities: {}
        }
      })
    let ignored = 1
    const update = azure.cosmos.update
    Object.defineProperty(azure, 'cosmos', {
      value: {
        ...azure.cosmos,
        update: async (rg: string, name: string, patch: { defaultIdentity?: string }) => {
          if (patch.defaultIdentity && ignored-- > 0) {
            azure.calls.push('write account.update defaultIdentity (ignored)')
            return structuredClone(azure.account!)
          }
          return update(rg, name, patch)
        }
      }
    })
    await harness(azure).run(systemInputs())
    expect(azure.account?.defaultIdentity).toBe('SystemAssignedIdentity')
    expect(azure.calls).toContain('write account.update defaultIdentity (ignored)')
    expect(azure.calls).toContain('write account.update defaultIdentity')
  })

  it('removes only its own bootstrap assignment, and only after verification', async () => {
    const azure = new FakeAzure().withActiveHsm()
    const result = await harness(azure).run(systemInputs(true))
    expect(JSON.parse(result.outputs['role-assignment-ids']!)).toHaveLength(2)
    const bootstrapName = roleAssignmentName(
      'hsm-cmk',
      keyScope,
      hsmRoles.cryptoServiceEncryptionUser.id,
      ids.cosmosSp
    )
    expect(azure.assignments.some(a => a.name === bootstrapName)).toBe(false)
    const writes = azure.writes()
    expect(writes.indexOf('rbac.delete')).toBeGreaterThan(
      writes.indexOf('account.update defaultIdentity')
    )
  })

  it('keeps its bootstrap assignment while another account still reaches the key through it', async () => {
    const azure = new FakeAzure().withActiveHsm()
    azure.otherAccounts.push({
      id: '/subscriptions/x/resourceGroups/rg-other/providers/Microsoft.DocumentDB/databaseAccounts/older',
      name: 'older',
      location: 'westeurope',
      capabilities: [],
      keyVaultKeyUri: 'https://HSM-CMK.managedhsm.azure.net/keys/cosmos-key',
      defaultIdentity: 'FirstPartyIdentity',
      identity: { type: 'None', userAssignedIdentities: {} },
      tags: {}
    })
    const h = harness(azure)
    const result = await h.run(systemInputs(true))
    expect(azure.writes()).not.toContain('rbac.delete')
    expect(result.records.find(r => r.step === 'Bootstrap assignment')).toMatchObject({
      result: 'skipped',
      observed: expect.stringContaining('still used by older')
    })
    expect(h.runner.logs.some(l => l.startsWith('warning: Keeping role assignment'))).toBe(true)
  })

  it('keeps its bootstrap assignment when the other accounts cannot be listed', async () => {
    const azure = new FakeAzure().withActiveHsm()
    azure.failNext('account.list', () => restError(403, 'AuthorizationFailed', 'no list'))
    const h = harness(azure)
    const result = await h.run(systemInputs(true))
    expect(azure.writes()).not.toContain('rbac.delete')
    expect(result.records.find(r => r.step === 'Bootstrap assignment')?.result).toBe('skipped')
  })

  it('leaves a bootstrap assignment it did not create', async () => {
    const azure = new FakeAzure()
      .withActiveHsm()
      .withKey()
      .grant(hsmRoles.cryptoServiceEncryptionUser.id, ids.cosmosSp, keyScope, 'made-by-hand')
      .withAccount({
        identity: {
          type: 'SystemAssigned',
          principalId: ids.systemPrincipal,
          userAssignedIdentities: {}
        }
      })
    await harness(azure).run(systemInputs(true))
    expect(azure.assignments.some(a => a.name === 'made-by-hand')).toBe(true)
    expect(azure.writes()).not.toContain('rbac.delete')
  })

  it('keeps a user-assigned identity when enabling the system-assigned one', async () => {
    const azure = new FakeAzure().withActiveHsm().withUai()
    const inputs = withUserAssigned('system-assigned', 'user-assigned')
    await harness(azure).run(inputs)
    expect(azure.account?.identity.type).toBe('SystemAssigned,UserAssigned')
    expect(Object.keys(azure.account!.identity.userAssignedIdentities)).toEqual([uaiId])
    expect(azure.account?.defaultIdentity).toBe('SystemAssignedIdentity')
    // Both identities come with the creation; only the default identity changes afterwards.
    expect(azure.writes().filter(w => w.startsWith('account.'))).toEqual([
      'account.create',
      'account.update defaultIdentity'
    ])
  })

  it('enables the system identity of an existing account in an update of its own', async () => {
    const azure = new FakeAzure().withActiveHsm().withKey().withAccount()
    await harness(azure).run(systemInputs())
    expect(azure.writes().filter(w => w.startsWith('account.'))).toEqual([
      'account.update identity',
      'account.update defaultIdentity'
    ])
    expect(azure.account?.defaultIdentity).toBe('SystemAssignedIdentity')
  })
})

describe('runProvisioning: writes whose outcome is unknown', () => {
  const cutOff = () =>
    restError(0, 'OutcomeUnknown', 'The outcome of PUT is unknown: read ECONNRESET')
  const fiveCutOffs = [cutOff, cutOff, cutOff, cutOff, cutOff]

  it('repeats a role assignment cut off five times, observing first, and makes one', async () => {
    const azure = new FakeAzure().withActiveHsm()
    azure.failNext('rbac.create', ...fiveCutOffs)
    await harness(azure).run()
    // Two grants: five cut-offs, then one creation each, and a read before every repetition.
    expect(azure.calls.filter(c => c === 'write rbac.create')).toHaveLength(7)
    expect(azure.calls.filter(c => c === 'read rbac.get')).toHaveLength(5)
    const names = azure.assignments.map(a => a.name)
    expect(new Set(names).size).toBe(names.length)
    expect(names).toHaveLength(2)
  })

  it('does not repeat a role assignment that landed although its answer was lost', async () => {
    const azure = new FakeAzure().withActiveHsm()
    azure.loseAnswers('rbac.create', cutOff)
    await harness(azure).run()
    // The read after the lost answer finds the assignment: no second request for it.
    expect(azure.calls.filter(c => c === 'read rbac.get')).toHaveLength(1)
    expect(azure.calls.filter(c => c === 'write rbac.create')).toHaveLength(2)
    expect(azure.assignments).toHaveLength(2)
  })

  it('repeats an account creation cut off five times until it is created once', async () => {
    const azure = new FakeAzure().withActiveHsm()
    azure.failNext('account.create', ...fiveCutOffs)
    const result = await harness(azure).run()
    expect(azure.calls.filter(c => c === 'write account.create')).toHaveLength(6)
    expect(result.outputs['account-id']).toBe(azure.account?.id)
  })

  it('repeats a default identity update cut off five times until the account reports it', async () => {
    const azure = new FakeAzure().withActiveHsm().withKey().withAccount({
      defaultIdentity: 'SystemAssignedIdentity'
    })
    azure.failNext('account.update defaultIdentity', ...fiveCutOffs)
    const result = await harness(azure).run()
    expect(azure.calls.filter(c => c === 'write account.update defaultIdentity')).toHaveLength(6)
    expect(result.outputs['default-identity']).toBe('FirstPartyIdentity')
  })

  it('fails loudly when a security domain download started but its answer was lost', async () => {
    const azure = new FakeAzure()
    const h = harness(azure)
    azure.failNext('sd.download', () => {
      // The HSM started the download; its answer (the only copy) never arrived.
      azure.sdStatus = { status: 'InProgress' }
      return cutOff()
    })
    const error = (await h.run(newHsmInputs()).catch(e => e)) as ProvisioningError
    expect(error).toBeInstanceOf(ProvisioningError)
    expect(error.step).toBe('HSM activation')
    expect(error.message).toMatch(/its answer was lost on the way/)
    expect(error.message).toMatch(/az keyvault security-domain download --hsm-name hsm-cmk/)
    // The reserved file stays empty, and the HSM says that the download was never saved.
    expect(h.files['/work/sd.json']).toEqual({ content: '' })
    expect(azure.calls.filter(c => c === 'write sd.download')).toHaveLength(1)
    expect(azure.hsmState?.tags['cmk-security-domain']).toMatch(/^download started /)

    // Every later run stops before any write, even once the HSM is active, and says what to do.
    azure.hsmState!.activationStatus = 'Active'
    azure.calls = []
    const later = (await h.run(newHsmInputs()).catch(e => e)) as ProvisioningError
    expect(later.step).toBe('Observe')
    expect(later.message).toMatch(/a security domain download this action started was never saved/)
    expect(later.message).toMatch(/--operation Delete --tags cmk-security-domain/)
    expect(azure.writes()).toEqual([])
  })
})

describe('runProvisioning: resource providers', () => {
  it('registers what is missing and polls until Registered', async () => {
    const azure = new FakeAzure().withActiveHsm()
    azure.providerStates['Microsoft.DocumentDB'] = 'NotRegistered'
    azure.registeringPolls = 2
    const h = harness(azure)
    await h.run()
    expect(azure.writes()[0]).toBe('providers.register Microsoft.DocumentDB')
    expect(
      h.runner.logs.some(l =>
        /Waiting for resource provider Microsoft.DocumentDB to be registered/.test(l)
      )
    ).toBe(true)
  })

  it('says who can register a provider when the signed-in principal may not', async () => {
    const azure = new FakeAzure().withActiveHsm()
    azure.providerStates['Microsoft.DocumentDB'] = 'NotRegistered'
    azure.failNext('providers.register Microsoft.DocumentDB', () =>
      restError(403, 'AuthorizationFailed', 'denied')
    )
    const error = (await harness(azure)
      .run()
      .catch(e => e)) as ProvisioningError
    expect(error.message).toContain('az provider register --namespace Microsoft.DocumentDB')
    expect(error.step).toBe('Resource providers')
  })

  it('records a registration when it is sent, so that a run failing later still shows it', async () => {
    const azure = new FakeAzure().withActiveHsm()
    azure.providerStates['Microsoft.DocumentDB'] = 'NotRegistered'
    azure.failAlways('account.create', () => restError(400, 'BadRequest', 'Invalid location'))
    const error = (await harness(azure)
      .run()
      .catch(e => e)) as ProvisioningError
    expect(error).toBeInstanceOf(ProvisioningError)
    expect(error.step).toBe('Cosmos DB account')
    expect(error.records).toContainEqual({
      step: 'Resource providers',
      observed: 'Microsoft.DocumentDB NotRegistered',
      action: 'register Microsoft.DocumentDB',
      result: 'changed'
    })
  })

  it('checks Microsoft.ManagedIdentity only when a user-assigned identity is used', async () => {
    const azure = new FakeAzure().withActiveHsm()
    await harness(azure).run()
    expect(azure.calls).not.toContain('read providers.get Microsoft.ManagedIdentity')
  })
})
