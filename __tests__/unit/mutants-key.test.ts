/** The key step's refusals and read-backs, and the rotation policy step, beyond the main paths. */
import { describe, expect, it } from '@jest/globals'
import type { Inputs } from '../../src/inputs/settings.js'

import { ActionError } from '../../src/errors.js'
import { keyMismatches } from '../../src/steps/key.js'
import { FakeAzure, baseInputs, restError } from './fakes.js'
import { expectRow, failure } from './outcomes.js'
import { harness } from './helpers.js'

const hsmDenied = () =>
  restError(403, 'Forbidden', 'Caller is not authorized to perform action.', 'ForbiddenByRbac')
const armDenied = () =>
  restError(403, 'AuthorizationFailed', "no authorization to perform 'keys/write'")

const withKeyInputs = (key: Partial<Inputs['key']>, overrides: Partial<Inputs> = {}): Inputs => ({
  ...baseInputs(overrides),
  key: { ...baseInputs().key, ...key }
})

describe('keyMismatches', () => {
  const now = new Date('2026-11-28T12:00:00Z')
  const fit = {
    id: 'https://h/keys/k/1',
    name: 'k',
    version: '1',
    kty: 'RSA-HSM',
    keySize: 3072,
    keyOps: ['wrapKey', 'unwrapKey'],
    enabled: true
  }

  it('finds nothing wrong with a fit key, an RSA key of unknown size, or one valid from now', () => {
    expect(keyMismatches(fit, 3072, now)).toEqual([])
    expect(keyMismatches({ ...fit, kty: 'RSA', keySize: undefined }, 3072, now)).toEqual([])
    expect(keyMismatches({ ...fit, notBefore: now }, 3072, now)).toEqual([])
  })

  it('names a key of another type, one without either operation, and one valid only later', () => {
    expect(keyMismatches({ ...fit, kty: 'EC-HSM' }, 3072, now)).toEqual([
      'its type is EC-HSM, not RSA-HSM'
    ])
    expect(keyMismatches({ ...fit, kty: 'oct-RSA' }, 3072, now)).toEqual([
      'its type is oct-RSA, not RSA-HSM'
    ])
    expect(keyMismatches({ ...fit, keyOps: ['encrypt'] }, 3072, now)).toEqual([
      'its allowed operations lack wrapKey and unwrapKey'
    ])
    const later = new Date(now.getTime() + 1)
    expect(keyMismatches({ ...fit, notBefore: later }, 3072, now)).toEqual([
      `it is not valid before ${later.toISOString()}`
    ])
  })

  it('counts a key expiring at this very moment as expired', () => {
    expect(keyMismatches({ ...fit, expiresOn: now }, 3072, now)).toEqual([
      `it expired on ${now.toISOString()}`
    ])
    expect(keyMismatches({ ...fit, expiresOn: new Date(now.getTime() + 1) }, 3072, now)).toEqual([])
  })
})

describe('the key step', () => {
  it('in plan mode, with the key not readable yet, says it would create it if absent', async () => {
    const azure = new FakeAzure().withActiveHsm()
    azure.failAlways('key.get', hsmDenied)
    const result = await harness(azure).run({ ...baseInputs(), mode: 'plan' })
    expectRow(
      result.records,
      'Key',
      'unreadable until the admin grant takes effect',
      "create RSA-HSM 3072 'cosmos-key' if absent",
      'would-change'
    )
    expect(azure.writes()).toEqual([])
  })

  it('fails at once on another refusal to read the key', async () => {
    const azure = new FakeAzure().withActiveHsm()
    azure.failNext('key.get', hsmDenied)
    azure.failAlways('key.get', () => restError(500, 'InternalError', 'the HSM broke'))
    const error = await failure(harness(azure).run({ ...baseInputs(), mode: 'plan' }))
    expect(error.cause).toMatchObject({
      statusCode: 500,
      code: 'InternalError',
      message: 'the HSM broke'
    })
  })

  it('refuses a key that becomes unfit between observing and creating', async () => {
    const azure = new FakeAzure().withActiveHsm()
    azure.failNext('key.get', hsmDenied)
    azure.before['key.get'] = () => azure.withKey({ enabled: false })
    const error = await failure(harness(azure).run())
    expect(error.cause).toBeInstanceOf(ActionError)
    expect(error.message).toMatch(
      /^Key 'cosmos-key' on Managed HSM 'hsm-cmk' cannot be used: it is disabled\./
    )
    expect(azure.writes()).not.toContain('key.create')
  })

  it('with allow-arm-key-management, fails when the HSM setting cannot be read', async () => {
    const azure = new FakeAzure().withActiveHsm()
    azure.failAlways('settings.get', () => restError(403, 'Forbidden', 'not an administrator'))
    const error = await failure(
      harness(azure).run(baseInputs({ hsm: { ...baseInputs().hsm, allowArmKeyManagement: true } }))
    )
    expect(error.message).toBe(
      "allow-arm-key-management is true, but the HSM setting AllowKeyManagementOperationsThroughARM of 'hsm-cmk' " +
        "cannot be read (Forbidden (HTTP 403): not an administrator); changing it takes 'Managed HSM Administrator' at '/'."
    )
  })

  it('with allow-arm-key-management, leaves a setting that is true already, in any case', async () => {
    const azure = new FakeAzure().withActiveHsm()
    azure.hsmSettings.AllowKeyManagementOperationsThroughARM = 'True'
    const result = await harness(azure).run(
      baseInputs({ hsm: { ...baseInputs().hsm, allowArmKeyManagement: true } })
    )
    expectRow(
      result.records,
      'Key management through ARM',
      'AllowKeyManagementOperationsThroughARM True',
      'none',
      'ok'
    )
    expect(azure.writes()).not.toContain('settings.update AllowKeyManagementOperationsThroughARM')
  })

  it('calls an unset HSM setting unset', async () => {
    const azure = new FakeAzure().withActiveHsm()
    delete azure.hsmSettings.AllowKeyManagementOperationsThroughARM
    const result = await harness(azure).run({
      ...baseInputs({ hsm: { ...baseInputs().hsm, allowArmKeyManagement: true } }),
      mode: 'plan'
    })
    expect(result.records.find(r => r.step === 'Key management through ARM')?.observed).toBe(
      'AllowKeyManagementOperationsThroughARM unset'
    )
  })

  it('fails at once when ARM refuses for another reason than a missing grant or trust', async () => {
    const azure = new FakeAzure().withActiveHsm()
    const cause = { statusCode: 500, code: 'InternalServerError', message: 'ARM broke' }
    azure.failAlways('armKey.create', () => restError(cause.statusCode, cause.code, cause.message))
    const error = await failure(harness(azure).run())
    expect(error.cause).toMatchObject(cause)
    expect(azure.writes()).not.toContain('key.create')
  })

  it('on the data plane, says so when the principal may read keys but not create them', async () => {
    const azure = new FakeAzure().withActiveHsm()
    azure.failAlways('armKey.create', armDenied)
    azure.failAlways('key.create', hsmDenied)
    const error = await failure(harness(azure).run())
    expect(error.message).toMatch(
      /^The signed-in principal may read but not create keys on 'hsm-cmk': Forbidden \(HTTP 403\)/
    )
  })

  it('on the data plane, reads back a key a conflict says exists', async () => {
    const azure = new FakeAzure().withActiveHsm()
    azure.failAlways('armKey.create', armDenied)
    const raced = { version: 'cccccccccccccccccccccccccccccccc' }
    azure.loseRace('key.create', () => azure.withKey(raced), 'the key exists')
    const result = await harness(azure).run()
    expect(result.outputs['key-version']).toBe('cccccccccccccccccccccccccccccccc')
  })

  it('on the data plane, explains a conflict with no key to read: a deleted key kept by soft delete', async () => {
    const azure = new FakeAzure().withActiveHsm()
    azure.failAlways('armKey.create', armDenied)
    azure.failAlways('key.create', () =>
      restError(409, 'Conflict', 'a deleted key of that name exists')
    )
    const error = await failure(harness(azure).run())
    expect(error.message).toMatch(
      /^Key 'cosmos-key' cannot be created: Conflict \(HTTP 409\): a deleted key of that name exists\. If a deleted key/
    )
    expect(error.message).toContain('az keyvault key recover --hsm-name hsm-cmk --name cosmos-key')
  })

  it('on the data plane, fails at once on another failure of the creation', async () => {
    const azure = new FakeAzure().withActiveHsm()
    azure.failAlways('armKey.create', armDenied)
    const cause = { statusCode: 400, code: 'BadParameter', message: 'bad size' }
    azure.failAlways('key.create', () => restError(cause.statusCode, cause.code, cause.message))
    const error = await failure(harness(azure).run())
    expect(error.cause).toMatchObject(cause)
    expect(azure.calls.filter(c => c === 'write key.create')).toHaveLength(1)
  })
})

describe('the rotation policy step', () => {
  const rotation = { rotateAfter: 'P90D', expireAfter: 'P2Y' }

  it('sets a policy where there is none and says which', async () => {
    const azure = new FakeAzure().withActiveHsm().withKey()
    const result = await harness(azure).run(withKeyInputs({ rotation }))
    expect(azure.rotationPolicies['cosmos-key']).toEqual(rotation)
    expectRow(
      result.records,
      'Key rotation policy',
      'no rotation policy',
      'set: rotate P90D after creation, versions expire after P2Y',
      'changed'
    )
  })

  it('replaces a policy that rotates before expiry, naming it as it is', async () => {
    const azure = new FakeAzure().withActiveHsm().withKey()
    azure.rotationPolicies['cosmos-key'] = { rotateBeforeExpiry: 'P30D', expireAfter: 'P1Y' }
    const result = await harness(azure).run(withKeyInputs({ rotation }))
    expect(result.records.find(r => r.step === 'Key rotation policy')?.observed).toBe(
      'rotate P30D before expiry, versions expire after P1Y'
    )
    expect(azure.rotationPolicies['cosmos-key']).toEqual(rotation)
  })

  it('names a policy that does not rotate, and keeps one that matches in any case', async () => {
    const azure = new FakeAzure().withActiveHsm().withKey()
    azure.rotationPolicies['cosmos-key'] = {}
    const planned = await harness(azure).run({ ...withKeyInputs({ rotation }), mode: 'plan' })
    expect(planned.records.find(r => r.step === 'Key rotation policy')).toMatchObject({
      observed: 'no rotation, versions expire never',
      result: 'would-change'
    })
    expect(azure.writes()).toEqual([])

    azure.rotationPolicies['cosmos-key'] = { rotateAfter: 'p90d', expireAfter: 'p2y' }
    const kept = await harness(azure).run(withKeyInputs({ rotation }))
    expect(kept.records.find(r => r.step === 'Key rotation policy')?.result).toBe('ok')
    expect(azure.writes()).not.toContain('key.setRotationPolicy')
  })

  it('rotates with the policy it has just set, in the same run', async () => {
    const azure = new FakeAzure().withActiveHsm().withKey()
    const before = azure.keys['cosmos-key'].version
    const result = await harness(azure).run(withKeyInputs({ rotation, rotateNow: true }))
    expect(azure.writes().filter(w => w.startsWith('key.'))).toEqual([
      'key.setRotationPolicy',
      'key.rotate'
    ])
    expect(result.outputs['key-version']).not.toBe(before)
    expect(result.records.find(r => r.step === 'Key rotation')).toMatchObject({
      observed: `version ${before}`,
      result: 'changed'
    })
  })

  it('in plan mode says it would rotate, and rotates nothing', async () => {
    const azure = new FakeAzure().withActiveHsm().withKey()
    azure.rotationPolicies['cosmos-key'] = rotation
    const result = await harness(azure).run({ ...withKeyInputs({ rotateNow: true }), mode: 'plan' })
    expect(azure.writes()).toEqual([])
    expectRow(
      result.records,
      'Key rotation',
      `version ${azure.keys['cosmos-key'].version}`,
      'rotate now: a new version; the old ones stay enabled',
      'would-change'
    )
  })

  it('reads no policy when neither a policy nor a rotation is asked for', async () => {
    const azure = new FakeAzure().withActiveHsm().withKey()
    await harness(azure).run()
    expect(azure.calls).not.toContain('read key.rotationPolicy')
  })
})
