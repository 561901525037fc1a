/** The key step's summary rows, and what it says when a wait for the key gives up. */
import { describe, expect, it } from '@jest/globals'
import { RestError } from '@azure/core-rest-pipeline'
import { WaitTimeoutError } from '../../src/wait.js'
import { FakeAzure, baseInputs, ids, restError } from './fakes.js'
import { harness } from './helpers.js'
import { expectRow, failure } from './outcomes.js'

/** A refusal by the HSM's RBAC that carries no error code, only its words. */
const codelessDenial = () =>
  new RestError('Caller is not authorized to perform action on resource.', { statusCode: 403 })
const armDenied = () =>
  restError(403, 'AuthorizationFailed', "no authorization to perform 'keys/write'")
const cutOff = () => new RestError('the connection was reset', { code: 'OutcomeUnknown' })

/** A give-up message without its first words, which tell how long the wait took. */
const afterElapsed = (message: string) => message.replace(/^Gave up after .+? waiting for /, '')

/** The last observation of a wait on the HSM's 403, and how to check the grants it waits for. */
const hsmRefused =
  'HSM answered 403 (Forbidden). Check the assignments: ' +
  `az keyvault role assignment list --hsm-name hsm-cmk --assignee ${ids.signedIn}`

describe('the key row', () => {
  it('describes an existing key of unknown size with its operations, state and version', async () => {
    const azure = new FakeAzure().withActiveHsm().withKey({ keySize: undefined }).withAccount()
    const result = await harness(azure).run()
    expectRow(
      result.records,
      'Key',
      'RSA-HSM ? bits, ops wrapKey/unwrapKey, enabled, version 0123456789abcdef0123456789abcdef',
      'none',
      'ok'
    )
  })

  it('in plan mode, says an absent key would be created with the operations Cosmos DB needs', async () => {
    const azure = new FakeAzure().withActiveHsm()
    const result = await harness(azure).run({ ...baseInputs(), mode: 'plan' })
    expectRow(
      result.records,
      'Key',
      'absent',
      'create RSA-HSM 3072 with wrapKey, unwrapKey',
      'would-change'
    )
  })

  it('refuses an unfit key naming every shortcoming, and says it is never modified', async () => {
    const azure = new FakeAzure().withActiveHsm().withKey({ kty: 'EC-HSM', enabled: false })
    const error = await failure(harness(azure).run())
    expect(error.message).toBe(
      "Key 'cosmos-key' on Managed HSM 'hsm-cmk' cannot be used: its type is EC-HSM, not RSA-HSM; it is disabled. " +
        'This action never modifies an existing key or adds a version to it: choose another key-name, or fix ' +
        'the key yourself.'
    )
  })
})

describe('giving up on the key', () => {
  it('while the HSM keeps refusing to show the key, names the grant awaited and how to check it', async () => {
    const azure = new FakeAzure().withActiveHsm()
    azure.failAlways('key.get', codelessDenial)
    const error = await failure(harness(azure).run())
    expect(error.step).toBe('Key')
    expect(error.cause).toBeInstanceOf(WaitTimeoutError)
    expect(afterElapsed(error.message)).toBe(
      `'Managed HSM Crypto User' on /keys to take effect for ${ids.signedIn}. Last observation: ${hsmRefused}`
    )
    expect(azure.writes()).not.toContain('key.create')
  })

  it('while the HSM keeps refusing ARM the creation, names the grant awaited and how to check it', async () => {
    const azure = new FakeAzure().withActiveHsm()
    azure.failAlways('armKey.create', codelessDenial)
    const error = await failure(harness(azure).run())
    expect(error.cause).toBeInstanceOf(WaitTimeoutError)
    expect(afterElapsed(error.message)).toBe(
      `Managed HSM 'hsm-cmk' to let ${ids.signedIn} create key 'cosmos-key'. Last observation: ${hsmRefused}`
    )
    expect(azure.writes()).not.toContain('key.create')
  })

  it('while every data-plane creation is cut off, watches for the key each time, then names the key', async () => {
    const azure = new FakeAzure().withActiveHsm()
    azure.failAlways('armKey.create', armDenied)
    azure.failAlways('key.create', cutOff)
    const h = harness(azure)
    const error = await failure(h.run())
    expect(error.cause).toBeInstanceOf(WaitTimeoutError)
    expect(afterElapsed(error.message)).toBe(
      "key 'cosmos-key' to be created. Last observation: the outcome of the last attempt is unknown. " +
        'Check the key: az keyvault key show --hsm-name hsm-cmk --name cosmos-key'
    )
    expect(h.runner.logs).toContain(
      "info: Waiting for key 'cosmos-key' from a creation whose answer was lost: absent"
    )
    expect(h.runner.logs).toContain(
      "info: The key creation's outcome was unknown and the key did not appear; creating it again."
    )
  })

  it.each([3_000, 30_000])(
    'watches for a cut-off creation for the lost-answer wait of the transport (%p ms), then creates again',
    async lostAnswerWaitMs => {
      const azure = new FakeAzure().withActiveHsm()
      azure.failAlways('armKey.create', armDenied)
      azure.failNext('key.create', cutOff)
      const h = harness(azure, { transport: { lostAnswerWaitMs } })
      const started = h.clock.now()
      await h.run()
      const elapsed = h.clock.now() - started
      expect(elapsed).toBeGreaterThanOrEqual(lostAnswerWaitMs)
      expect(elapsed).toBeLessThan(lostAnswerWaitMs * 1.5)
      expect(azure.writes().filter(w => w === 'key.create')).toHaveLength(2)
    }
  )

  it('fails at once when watching for a cut-off creation fails otherwise, without creating again', async () => {
    const azure = new FakeAzure().withActiveHsm()
    azure.failAlways('armKey.create', armDenied)
    azure.failNext('key.create', () => {
      azure.failNext('key.get', () => restError(500, 'InternalError', 'the HSM broke'))
      return cutOff()
    })
    const error = await failure(harness(azure).run())
    expect(error.cause).toMatchObject({ statusCode: 500, code: 'InternalError' })
    expect(azure.calls.filter(c => c === 'write key.create')).toHaveLength(1)
  })

  it('explains a conflict with no key to read, word for word', async () => {
    const azure = new FakeAzure().withActiveHsm()
    azure.failAlways('armKey.create', armDenied)
    azure.failAlways('key.create', () => restError(409, 'Conflict', 'a deleted key exists'))
    const error = await failure(harness(azure).run())
    expect(error.message).toBe(
      "Key 'cosmos-key' cannot be created: Conflict (HTTP 409): a deleted key exists. If a deleted key of " +
        'that name is kept by soft delete, recover it (az keyvault key recover --hsm-name hsm-cmk --name ' +
        'cosmos-key) or choose another key-name.'
    )
  })
})
