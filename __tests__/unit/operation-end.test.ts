import { describe, expect, it } from '@jest/globals'
import { operationEnd, type OperationPoller } from '../../src/azure/operation-end.js'
import { FakeClock } from './fakes.js'

/** An operation that ends after `pollsToEnd` polls, each answering the Retry-After `asks` gives. */
function operation(
  pollsToEnd: number,
  outcome: () => string,
  asks: (poll: number) => number | undefined = () => undefined
) {
  const clock = new FakeClock()
  const started = clock.now()
  const polledAt: number[] = []
  const poller: OperationPoller<string> = {
    get isDone() {
      return polledAt.length >= pollsToEnd
    },
    pollUntilDone: async () => outcome()
  }
  const poll = async () => {
    polledAt.push(clock.now() - started)
    return asks(polledAt.length)
  }
  return { clock, polledAt, poller, poll }
}

describe('the end of a long-running operation', () => {
  it('pauses for a share of the time waited where Azure asks for no pause', async () => {
    const op = operation(4, () => 'created')
    const waited: number[] = []
    const pace = (waitedMs: number) => {
      waited.push(waitedMs)
      return 100 + waitedMs
    }
    await expect(operationEnd(op.poller, { poll: op.poll, pace, clock: op.clock })).resolves.toBe(
      'created'
    )
    expect(waited).toEqual([0, 100, 300, 700])
    expect(op.polledAt).toEqual([100, 300, 700, 1_500])
  })

  it('waits for the Retry-After of the starting request, then of each poll, before polling', async () => {
    const op = operation(
      3,
      () => 'created',
      poll => (poll === 1 ? 2_000 : 0)
    )
    await operationEnd(op.poller, {
      poll: op.poll,
      firstPollAfterMs: 5_000,
      pace: () => 50,
      clock: op.clock
    })
    // Retry-After: 0 is no pause asked for: the pace applies.
    expect(op.polledAt).toEqual([5_000, 7_000, 7_050])
  })

  it('counts the pace from when the last poll was sent', async () => {
    const op = operation(3, () => 'created')
    const slowPoll = async () => {
      await op.clock.sleep(30)
      return op.poll()
    }
    await operationEnd(op.poller, { poll: slowPoll, pace: () => 100, clock: op.clock })
    expect(op.polledAt).toEqual([130, 230, 330])
  })

  it('answers what another watch saw first, without polling', async () => {
    const op = operation(1, () => 'polled')
    const firstAfter: (number | undefined)[] = []
    const seen = await operationEnd(op.poller, {
      poll: op.poll,
      firstPollAfterMs: 3_000,
      pace: () => 50,
      clock: op.clock,
      seenElsewhere: async after => {
        firstAfter.push(after)
        return 'listed'
      }
    })
    expect(seen).toBe('listed')
    expect(firstAfter).toEqual([3_000])
    expect(op.polledAt).toEqual([])
  })

  it('polls at once when the other watch hands the operation back', async () => {
    const op = operation(2, () => 'polled')
    await expect(
      operationEnd(op.poller, {
        poll: op.poll,
        pace: () => 50,
        clock: op.clock,
        seenElsewhere: async () => {
          await op.clock.sleep(1_000)
          return undefined
        }
      })
    ).resolves.toBe('polled')
    expect(op.polledAt).toEqual([1_000, 1_050])
  })

  it('polls at once when the other watch hands back an operation that asked for a pause', async () => {
    const op = operation(1, () => 'polled')
    await operationEnd(op.poller, {
      poll: op.poll,
      firstPollAfterMs: 3_000,
      pace: () => 5_000,
      clock: op.clock,
      seenElsewhere: async () => {
        await op.clock.sleep(1_000)
        return undefined
      }
    })
    expect(op.polledAt).toEqual([1_000])
  })

  it("reads the operation's outcome on the run's signal", async () => {
    const op = operation(1, () => 'created')
    const signals: (AbortSignal | undefined)[] = []
    const poller: OperationPoller<string> = {
      get isDone() {
        return op.poller.isDone
      },
      pollUntilDone: async options => {
        signals.push(options.abortSignal)
        return 'created'
      }
    }
    const { signal } = new AbortController()
    await operationEnd(poller, { poll: op.poll, pace: () => 10, signal, clock: op.clock })
    expect(signals).toEqual([signal])
  })

  it('throws what the operation failed with', async () => {
    const failure = Object.assign(new Error('account creation failed'), { code: 'BadRequest' })
    const op = operation(1, () => {
      throw failure
    })
    await expect(
      operationEnd(op.poller, { poll: op.poll, pace: () => 10, clock: op.clock })
    ).rejects.toBe(failure)
  })

  it('stops waiting when the run is cancelled', async () => {
    const op = operation(5, () => 'created')
    const controller = new AbortController()
    controller.abort()
    await expect(
      operationEnd(op.poller, {
        poll: op.poll,
        pace: () => 10,
        signal: controller.signal,
        clock: op.clock
      })
    ).rejects.toMatchObject({ name: 'AbortError' })
    expect(op.polledAt).toEqual([])
  })
})
