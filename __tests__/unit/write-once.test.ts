/**
 * writeOnce: which failed attempts are looked at before they are repeated (a write that may have
 * landed all the same) and which are repeated at once (refused outright, or not visible in their
 * own read-back), what the wait says, and what it waits for.
 */
import { describe, expect, it } from '@jest/globals'
import { RestError } from '@azure/core-rest-pipeline'
import { NotYetVisible, writeOnce, type RepeatableWrite } from '../../src/steps/write-once.js'
import { WaitTimeoutError } from '../../src/wait.js'
import { stepContext } from './step-context.js'

const refused = (status: number, message = 'refused') =>
  new RestError(message, { statusCode: status, code: 'Refused' })
const outcomeUnknown = () => new RestError('cut off', { code: 'OutcomeUnknown' })
const lockHeld = () => refused(409, 'There is already an operation in progress')

/**
 * A write whose attempts fail with `failures` in turn and then succeed, and whose read finds it
 * there once `landedAfter` reads have been made (never, by default); `calls` is what it was asked.
 */
function scriptedWrite(failures: unknown[], options: { landedAfter?: number } = {}) {
  const calls: string[] = []
  let reads = 0
  const write: RepeatableWrite<string> = {
    what: "Cosmos DB account 'a' to accept an update",
    timeoutMs: 60_000,
    hint: 'the hint',
    async landed() {
      calls.push('read')
      reads++
      return options.landedAfter !== undefined && reads >= options.landedAfter ? 'found' : undefined
    },
    async write() {
      calls.push('write')
      const failure = failures.shift()
      if (failure !== undefined) throw failure
      return 'written'
    },
    retryable: error =>
      error instanceof NotYetVisible
        ? 'not visible yet'
        : error instanceof RestError && error.statusCode !== undefined
          ? `HTTP ${error.statusCode}`
          : undefined
  }
  return { write, calls }
}

describe('writeOnce', () => {
  it('writes once when the first attempt succeeds, without reading first', async () => {
    const { ctx } = stepContext()
    const { write, calls } = scriptedWrite([])
    await expect(writeOnce(ctx, write)).resolves.toBe('written')
    expect(calls).toEqual(['write'])
  })

  it.each([
    ['refused outright (403)', () => refused(403)],
    ['refused outright (400)', () => refused(400)],
    ['not visible in its own read-back', () => new NotYetVisible('no key yet')]
  ])('repeats an attempt %s without reading first', async (_, failure) => {
    const { ctx } = stepContext()
    const { write, calls } = scriptedWrite([failure(), failure()])
    await expect(writeOnce(ctx, write)).resolves.toBe('written')
    expect(calls).toEqual(['write', 'write', 'write'])
  })

  it.each([
    ['whose outcome is unknown', outcomeUnknown],
    ['refused while another operation holds the lock (409)', lockHeld],
    ['refused by a precondition (412)', () => refused(412)],
    ['failed on the server (503)', () => refused(503)]
  ])('reads before repeating an attempt %s', async (_, failure) => {
    const { ctx } = stepContext()
    const { write, calls } = scriptedWrite([failure()])
    await expect(writeOnce(ctx, write)).resolves.toBe('written')
    expect(calls).toEqual(['write', 'read', 'write'])
  })

  it('does not write again when the read finds the attempt landed after all', async () => {
    const { ctx } = stepContext()
    const { write, calls } = scriptedWrite([outcomeUnknown()], { landedAfter: 1 })
    await expect(writeOnce(ctx, write)).resolves.toBe('found')
    expect(calls).toEqual(['write', 'read'])
  })

  it('reads again before each repetition after an outcome was unknown, then writes at once after a refusal', async () => {
    const { ctx } = stepContext()
    const { write, calls } = scriptedWrite([outcomeUnknown(), refused(403), outcomeUnknown()])
    await expect(writeOnce(ctx, write)).resolves.toBe('written')
    expect(calls).toEqual(['write', 'read', 'write', 'write', 'read', 'write'])
  })

  it('fails at once, with the error itself, on a failure that is not retryable', async () => {
    const { ctx } = stepContext()
    const failure = new Error('a bug')
    const { write, calls } = scriptedWrite([failure])
    await expect(writeOnce(ctx, write)).rejects.toBe(failure)
    expect(calls).toEqual(['write'])
  })

  it.each([
    ['HTTP 403', () => refused(403)],
    ['the outcome of the last attempt is unknown', outcomeUnknown]
  ])('says why it waits: %s', async (status, failure) => {
    const { ctx, runner } = stepContext()
    const { write } = scriptedWrite([failure()])
    await writeOnce(ctx, write)
    expect(runner.logs[0]).toBe(
      `info: Waiting for Cosmos DB account 'a' to accept an update: ${status}`
    )
  })

  it('gives up at the deadline with what it waited for, the last status and the hint', async () => {
    const { ctx } = stepContext()
    const failures = Array.from({ length: 1000 }, () => refused(403, 'not yet'))
    const { write } = scriptedWrite(failures)
    const error: Error = await writeOnce(ctx, { ...write, timeoutMs: 5_000 }).then(
      () => new Error('it did not give up'),
      (e: Error) => e
    )
    expect(error).toBeInstanceOf(WaitTimeoutError)
    expect(error.message).toContain("Cosmos DB account 'a' to accept an update")
    expect(error.message).toContain('HTTP 403')
    expect(error.message).toContain('the hint')
  })
})
