/** Mode verify: one finding per check, for each way the account, key, HSM or grant can fall short. */
import { describe, expect, it } from '@jest/globals'
import type { Inputs } from '../../src/inputs/settings.js'
import type { StepRecord } from '../../src/steps/context.js'
import { hsmRoles, roleAssignmentName, type HsmRole } from '../../src/roles.js'
import { FakeAzure, baseInputs, ids, restError, uaiId, withUserAssigned } from './fakes.js'
import { harness } from './helpers.js'

const keyUri = 'https://hsm-cmk.managedhsm.azure.net/keys/cosmos-key'
const DAY = 24 * 3600_000

const verify = (overrides: Partial<Inputs> = {}): Inputs => ({
  ...baseInputs(),
  ...overrides,
  mode: 'verify'
})

function grantTo(
  azure: FakeAzure,
  principal: string,
  scope = '/keys/cosmos-key',
  role: HsmRole = hsmRoles.cryptoServiceEncryptionUser
): FakeAzure {
  return azure.grant(
    role.id,
    principal,
    scope,
    roleAssignmentName('hsm-cmk', scope, role.id, principal)
  )
}

function healthy(azure = new FakeAzure()): FakeAzure {
  azure.withActiveHsm().withKey().withAccount({
    customerManagedKeyStatus: 'Access to the configured customer managed key confirmed.'
  })
  azure.account!.keyVaultKeyUriVersion = azure.keys['cosmos-key'].version
  return grantTo(azure, ids.cosmosSp)
}

/** The records of one verify run against `azure`. */
async function verifyRecords(azure: FakeAzure, overrides: Partial<Inputs> = {}) {
  return (await harness(azure).run(verify(overrides))).records
}

/** The finding of one check, by the start of its name. */
function finding(records: StepRecord[], check: string): StepRecord | undefined {
  return records.find(r => r.action.startsWith(`check: ${check}`))
}

/** A key input that asks for a rotation policy. */
const keyWithRotation = {
  ...baseInputs().key,
  rotation: { rotateAfter: 'P90D', expireAfter: 'P2Y' }
}

/** A healthy setup changed by `arrange`, and what one check of a verify run on it finds. */
interface OneFinding {
  title: string
  arrange: (azure: FakeAzure) => void
  inputs?: Partial<Inputs>
  check: string
  expected: Record<string, unknown>
}

async function expectOneFinding({ arrange, inputs, check, expected }: OneFinding): Promise<void> {
  const azure = healthy()
  arrange(azure)
  expect(finding(await verifyRecords(azure, inputs), check)).toMatchObject(expected)
}

describe('mode verify finds', () => {
  it('no HSM, no readable key and no account, and checks nothing that needs them', async () => {
    const azure = new FakeAzure()
    const result = await harness(azure).run(verify())
    expect(result.outputs.healthy).toBe('false')
    expect(finding(result.records, 'the HSM exists')).toMatchObject({
      step: 'Managed HSM',
      result: 'failed',
      observed: "no Managed HSM 'hsm-cmk'"
    })
    expect(finding(result.records, 'the key is readable')).toMatchObject({ result: 'failed' })
    expect(finding(result.records, 'the account exists')).toMatchObject({
      step: 'Cosmos DB account',
      result: 'failed',
      observed: "no Cosmos DB account 'cosmos-cmk'"
    })
    expect(finding(result.records, 'default identity')).toBeUndefined()
    expect(result.outputs['hsm-uri']).toBe('https://hsm-cmk.managedhsm.azure.net')
    expect(result.outputs['key-uri']).toBe(keyUri)
    expect(azure.writes()).toEqual([])
  })

  it('an HSM without soft delete or purge protection, and one not active', async () => {
    const azure = healthy()
    azure.hsmState!.enableSoftDelete = false
    azure.hsmState!.enablePurgeProtection = false
    const result = await harness(azure).run(verify())
    expect(finding(result.records, 'soft delete on')).toMatchObject({
      result: 'failed',
      observed: 'soft delete off'
    })
    expect(finding(result.records, 'purge protection on')).toMatchObject({
      result: 'failed',
      observed: 'purge protection off'
    })
    expect(finding(result.records, 'the HSM is active')).toMatchObject({ result: 'ok' })

    const inactive = healthy()
    inactive.hsmState!.activationStatus = 'NotActivated'
    const records = await verifyRecords(inactive)
    expect(finding(records, 'the HSM is active')).toMatchObject({
      step: 'HSM activation',
      result: 'failed',
      observed: 'activationStatus NotActivated'
    })
    expect(finding(records, 'soft delete on')).toMatchObject({
      result: 'ok',
      observed: 'soft delete on'
    })
  })

  it('a key it may not read, and a key that is absent', async () => {
    const unreadable = healthy()
    unreadable.failAlways('key.get', () => restError(403, 'Forbidden', 'Caller is not authorized'))
    const denied = await harness(unreadable).run(verify())
    expect(finding(denied.records, 'the key is readable')).toMatchObject({
      step: 'Key',
      result: 'failed',
      observed: expect.stringMatching(/may not read the key/)
    })

    const absent = healthy()
    delete absent.keys['cosmos-key']
    const records = await verifyRecords(absent)
    expect(finding(records, 'the key exists')).toMatchObject({
      result: 'failed',
      observed: "no key 'cosmos-key'"
    })
    expect(finding(records, 'uses the current key version')).toBeUndefined()
  })

  it('every way the key falls short, and no expiry warning for a key expiring later', async () => {
    const azure = healthy()
    azure.keys['cosmos-key'].keySize = 2048
    const result = await harness(azure).run(verify())
    expect(finding(result.records, 'RSA-HSM with wrapKey')).toMatchObject({
      result: 'failed',
      observed: 'it is 2048 bits, but key-size is 3072'
    })

    const later = healthy()
    const h = harness(later)
    later.keys['cosmos-key'].expiresOn = new Date(h.clock.now() + 31 * DAY)
    const records = (await h.run(verify())).records
    expect(finding(records, 'not expiring within 30 days')).toMatchObject({
      result: 'ok',
      observed: `expires ${new Date(h.clock.now() + 31 * DAY).toISOString()}`
    })
    expect(finding(records, 'RSA-HSM with wrapKey')).toMatchObject({
      result: 'ok',
      observed: `RSA-HSM 3072 bits, ops wrapKey/unwrapKey, version ${later.keys['cosmos-key'].version}`
    })
  })

  it('an expired key without an expiry warning on top', async () => {
    const azure = healthy()
    const h = harness(azure)
    azure.keys['cosmos-key'].expiresOn = new Date(h.clock.now() - DAY)
    const records = (await h.run(verify())).records
    expect(finding(records, 'RSA-HSM with wrapKey')).toMatchObject({ result: 'failed' })
    expect(finding(records, 'not expiring within 30 days')).toBeUndefined()
  })
})

describe('mode verify on a healthy setup changed in one way', () => {
  it.each<OneFinding>([
    {
      title: 'passes a rotation policy that matches, in any case of letters',
      arrange: azure => {
        azure.rotationPolicies['cosmos-key'] = { rotateAfter: 'p90d', expireAfter: 'p2y' }
      },
      inputs: { key: keyWithRotation },
      check: 'rotate P90D after creation, expire after P2Y',
      expected: {
        step: 'Key rotation policy',
        result: 'ok',
        observed: 'rotate p90d, expire after p2y'
      }
    },
    {
      title: 'names a rotation policy without expiry as such',
      arrange: azure => {
        azure.rotationPolicies['cosmos-key'] = { rotateAfter: 'P90D' }
      },
      inputs: { key: { ...baseInputs().key, rotation: { rotateAfter: 'P90D' } } },
      check: 'rotate P90D after creation',
      expected: { action: 'check: rotate P90D after creation', result: 'ok' }
    },
    {
      title: 'fails an account whose provisioning did not succeed',
      arrange: azure => {
        azure.account!.provisioningState = 'Failed'
      },
      check: 'provisioning succeeded',
      expected: { result: 'failed', observed: 'provisioningState Failed' }
    },
    {
      title: 'matches the key version in use without case',
      arrange: azure => {
        azure.account!.keyVaultKeyUriVersion = azure.keys['cosmos-key'].version.toUpperCase()
      },
      check: 'uses the current key version',
      expected: { result: 'ok' }
    },
    {
      title: 'fails another default identity than identity-mode asks for',
      arrange: azure => {
        azure.account!.defaultIdentity = 'SystemAssignedIdentity'
      },
      check: 'default identity FirstPartyIdentity',
      expected: { step: 'Default identity', result: 'failed', observed: 'SystemAssignedIdentity' }
    },
    {
      title: 'fails when the first-party principal cannot be looked up',
      arrange: azure => {
        azure.failAlways('graph.servicePrincipal', () =>
          restError(403, 'Authorization_RequestDenied', 'denied')
        )
      },
      check: 'the default identity holds the key',
      expected: { result: 'failed', observed: expect.stringMatching(/Graph|denied/) }
    }
  ])('$title', expectOneFinding)
})

describe('mode verify with a rotation policy to keep', () => {
  it('fails a policy that differs, one that is missing, and one that cannot be read', async () => {
    const differs = healthy()
    differs.rotationPolicies['cosmos-key'] = { rotateBeforeExpiry: 'P30D' }
    const records = await verifyRecords(differs, { key: keyWithRotation })
    expect(finding(records, 'rotate P90D')).toMatchObject({
      result: 'failed',
      observed: 'rotate P30D before expiry, expire after never'
    })

    const missing = healthy()
    const none = await verifyRecords(missing, { key: keyWithRotation })
    expect(finding(none, 'rotate P90D')).toMatchObject({
      result: 'failed',
      observed: 'no rotation policy'
    })

    const other = healthy()
    other.rotationPolicies['cosmos-key'] = { rotateAfter: 'P90D', expireAfter: 'P1Y' }
    const expiry = await verifyRecords(other, { key: keyWithRotation })
    expect(finding(expiry, 'rotate P90D')).toMatchObject({ result: 'failed' })

    const unreadable = healthy()
    unreadable.failAlways('key.rotationPolicy', () => restError(403, 'Forbidden', 'no'))
    const denied = await verifyRecords(unreadable, { key: keyWithRotation })
    expect(finding(denied, 'the rotation policy is readable')).toMatchObject({
      result: 'failed',
      observed: 'Forbidden (HTTP 403): no'
    })
  })
})

describe('mode verify on the account', () => {
  it('fails a versioned key URI, even of the right key', async () => {
    const azure = healthy()
    azure.account!.keyVaultKeyUri = `${keyUri}/${azure.keys['cosmos-key'].version}`
    const records = await verifyRecords(azure)
    expect(finding(records, `uses ${keyUri}`)).toMatchObject({
      result: 'failed',
      observed: `key ${keyUri}/${azure.keys['cosmos-key'].version}`
    })
  })

  it('fails an account on no key or another key', async () => {
    const azure = healthy()
    azure.account!.keyVaultKeyUri = undefined
    const records = await verifyRecords(azure)
    expect(finding(records, `uses ${keyUri}`)).toMatchObject({
      result: 'failed',
      observed: 'key none'
    })
    azure.account!.keyVaultKeyUri = 'https://hsm-cmk.managedhsm.azure.net/keys/other'
    const other = await verifyRecords(azure)
    expect(finding(other, `uses ${keyUri}`)).toMatchObject({ result: 'failed' })
  })

  it('reads the key status: revoked without a code, an unknown code, or none reported', async () => {
    const azure = healthy()
    azure.account!.customerManagedKeyStatus = 'Access to the key is Revoked.'
    const revoked = await verifyRecords(azure)
    expect(finding(revoked, 'customer-managed key status is healthy')).toMatchObject({
      result: 'failed',
      observed: 'Access to the key is Revoked.'
    })
    azure.account!.customerManagedKeyStatus = 'Access revoked (4099).'
    const unknown = await verifyRecords(azure)
    expect(finding(unknown, 'customer-managed key status is healthy')?.observed).toBe(
      'revoked with code 4099: see the Azure Cosmos DB CMK troubleshooting guide (Access revoked (4099).)'
    )
    azure.account!.customerManagedKeyStatus = undefined
    const none = await verifyRecords(azure)
    expect(finding(none, 'customer-managed key status is healthy')).toMatchObject({
      result: 'ok',
      observed: 'no status reported'
    })
  })

  it('warns when the account reports no key version in use, fails one of unknown age', async () => {
    const azure = healthy()
    azure.account!.keyVaultKeyUriVersion = undefined
    const result = await harness(azure).run(verify())
    expect(finding(result.records, 'the key version in use is reported')).toMatchObject({
      result: 'warning',
      observed: 'the account reports no key version in use'
    })
    expect(result.outputs.healthy).toBe('true')

    azure.account!.keyVaultKeyUriVersion = 'older'
    const unknownAge = await harness(azure).run(verify())
    expect(finding(unknownAge.records, 'uses the current key version')).toMatchObject({
      result: 'failed',
      observed: `uses version older; the current version ${azure.keys['cosmos-key'].version} is an unknown time old`
    })
  })
})

describe('mode verify on the identity', () => {
  it('checks the user-assigned identity and its grant in user-assigned mode', async () => {
    const azure = healthy().withUai()
    azure.account!.defaultIdentity = `UserAssignedIdentity=${uaiId}`
    grantTo(azure, ids.uaiPrincipal)
    const result = await harness(azure).run(verify(withUserAssigned('user-assigned')))
    expect(finding(result.records, `default identity UserAssignedIdentity=${uaiId}`)).toMatchObject(
      {
        result: 'ok'
      }
    )
    expect(finding(result.records, `${ids.uaiPrincipal} holds`)).toMatchObject({
      result: 'ok',
      observed: 'assignment present'
    })
  })

  it("checks the account's own principal in system-assigned mode, and fails without one", async () => {
    const azure = healthy()
    azure.account!.defaultIdentity = 'SystemAssignedIdentity'
    azure.account!.identity = {
      type: 'SystemAssigned',
      principalId: ids.systemPrincipal,
      userAssignedIdentities: {}
    }
    grantTo(azure, ids.systemPrincipal, '/keys')
    const inputs = verify({ identity: { ...baseInputs().identity, mode: 'system-assigned' } })
    const records = (await harness(azure).run(inputs)).records
    expect(finding(records, `${ids.systemPrincipal} holds`)).toMatchObject({ result: 'ok' })

    azure.account!.identity = { type: 'None', userAssignedIdentities: {} }
    const without = (await harness(azure).run(inputs)).records
    expect(finding(without, 'the default identity holds the key')).toMatchObject({
      step: 'Cosmos DB key access',
      result: 'failed',
      observed: 'no principal for the default identity'
    })
  })

  it('fails when the grants cannot be read, or only another role is held', async () => {
    const unreadable = healthy()
    unreadable.failAlways('rbac.list', () => restError(403, 'Forbidden', 'not allowed'))
    const records = await verifyRecords(unreadable)
    expect(finding(records, 'the grants are readable')).toMatchObject({
      result: 'failed',
      observed: 'Forbidden (HTTP 403): not allowed'
    })

    const otherRole = healthy()
    otherRole.assignments = []
    grantTo(otherRole, ids.cosmosSp, '/keys/cosmos-key', hsmRoles.cryptoUser)
    const other = await verifyRecords(otherRole)
    expect(finding(other, `${ids.cosmosSp} holds`)).toMatchObject({
      result: 'failed',
      observed: 'no such assignment (1 other assignments)'
    })
  })
})
