/**
 * What a step's context tells the log: each record's line, a long operation's start, progress and
 * end, every level cleaned of tokens, and a fleet account's lines and records under its name.
 */
import { afterEach, describe, expect, it, jest } from '@jest/globals'
import { accountContext, logFor, record, withHeartbeat } from '../../src/steps/context.js'
import { Step } from '../../src/steps/names.js'
import { FakeRunner, baseInputs } from './fakes.js'
import { stepContext } from './step-context.js'

const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl'

describe('record', () => {
  it.each([
    ['changed', 'changed', true],
    ['would-change', 'would', true],
    ['ok', 'ok', false],
    ['skipped', 'skipped', false]
  ] as const)('logs a %s step as [%s]; the run changed: %s', (result, verb, changed) => {
    const { ctx, runner } = stepContext()
    const entry = { step: Step.Key, observed: 'absent', action: 'create RSA-HSM 3072', result }
    expect(record(ctx, entry)).toBe(entry)
    expect(runner.logs).toEqual([`info: Key: absent -> create RSA-HSM 3072 [${verb}]`])
    expect(ctx.records).toEqual([entry])
    expect(ctx.changed).toBe(changed)
  })
})

describe('withHeartbeat', () => {
  afterEach(() => {
    jest.useRealTimers()
  })

  it('says when the operation starts, while it runs, and after how long it finished', async () => {
    jest.useFakeTimers()
    const { ctx, runner, clock } = stepContext(undefined, {
      waits: { ...stepContext().ctx.waits, progressEveryMs: 30_000 }
    })
    let finish: (value: string) => void = () => {}
    const work = new Promise<string>(resolve => (finish = resolve))
    const watched = withHeartbeat(ctx, 'creation of X', work)
    expect(runner.logs).toEqual(['info: Started: creation of X.'])

    clock.time += 31_000
    await jest.advanceTimersByTimeAsync(30_000)
    clock.time += 150_000
    await jest.advanceTimersByTimeAsync(30_000)
    finish('done')
    await expect(watched).resolves.toBe('done')
    expect(runner.logs).toEqual([
      'info: Started: creation of X.',
      'info: Still waiting for creation of X (31 s so far).',
      'info: Still waiting for creation of X (3 min 1 s so far).',
      'info: Finished after 3 min 1 s: creation of X.'
    ])
    await jest.advanceTimersByTimeAsync(120_000)
    expect(runner.logs).toHaveLength(4)
    expect(jest.getTimerCount()).toBe(0)
  })

  it('stops its progress lines when the operation fails, and says nothing of finishing', async () => {
    jest.useFakeTimers()
    const { ctx, runner } = stepContext()
    const failure = new Error('Conflict')
    await expect(withHeartbeat(ctx, 'deletion of Y', Promise.reject(failure))).rejects.toBe(failure)
    expect(runner.logs).toEqual(['info: Started: deletion of Y.'])
    expect(jest.getTimerCount()).toBe(0)
  })
})

describe('logFor', () => {
  it('removes tokens from the lines of every level', () => {
    const runner = new FakeRunner()
    const log = logFor(runner)
    log.info(`token ${JWT}`)
    log.warning('Authorization: Bearer abcdefghijklmnop')
    log.debug('client_assertion=abcdefgh&x=1')
    expect(runner.logs).toEqual([
      'info: token [redacted token]',
      'warning: Authorization: Bearer [redacted]',
      'debug: client_assertion=[redacted]&x=1'
    ])
  })
})

describe('accountContext', () => {
  it('names one account of the fleet in its inputs, its log lines and its records', () => {
    const inputs = baseInputs()
    const fleet = { ...inputs, account: { ...inputs.account, others: ['cosmos-b', 'cosmos-c'] } }
    const { ctx, runner } = stepContext(fleet)
    ctx.changed = true
    const account = accountContext(ctx, 'cosmos-b')

    expect(account.inputs.account).toEqual({ ...inputs.account, name: 'cosmos-b', others: [] })
    expect(account.inputs.hsm).toBe(inputs.hsm)
    expect(account.account).toBe('cosmos-b')
    expect(account.changed).toBe(false)

    account.log.info('one')
    account.log.warning('two')
    account.log.debug(`three ${JWT}`)
    record(account, { step: Step.Account, observed: 'absent', action: 'create', result: 'changed' })
    expect(runner.logs).toEqual([
      'info: [cosmos-b] one',
      'warning: [cosmos-b] two',
      'debug: [cosmos-b] three [redacted token]',
      'info: [cosmos-b] Cosmos DB account: absent -> create [changed]'
    ])
    expect(ctx.records).toEqual([
      {
        step: Step.Account,
        observed: 'absent',
        action: 'create',
        result: 'changed',
        account: 'cosmos-b'
      }
    ])
    expect(account.changed).toBe(true)
  })
})
