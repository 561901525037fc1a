import { systemClock, type Clock } from '../clock.js'
import type { PollPace } from './transport.js'

/** What the end of a long-running operation needs of core-lro's poller. */
export interface OperationPoller<T> {
  readonly isDone: boolean
  /** Answers the result, or throws what the operation failed with; polls only while not done. */
  pollUntilDone(options: { abortSignal?: AbortSignal }): Promise<T>
}

export interface PollSchedule<T> {
  /** Sends one poll; answers the pause its response asked for (Retry-After), if any. */
  poll(): Promise<number | undefined>
  /** The starting request's Retry-After. */
  firstPollAfterMs?: number
  /** The pause where Azure asks for none (or for 0), from the time waited so far. */
  pace: PollPace
  /**
   * May see the end first (a fleet's list, see AccountWatch), waiting `firstPollAfterMs` itself;
   * when it answers nothing, the operation is polled at once.
   */
  seenElsewhere?: (firstAfterMs: number | undefined) => Promise<T | undefined>
  signal?: AbortSignal
  clock?: Clock
}

/**
 * The end of a started operation. Each poll waits for the Retry-After the previous answer asked
 * for (the first poll too, which core-lro would send at once), or for the pace's pause.
 */
export async function operationEnd<T>(
  poller: OperationPoller<T>,
  schedule: PollSchedule<T>
): Promise<T> {
  const { firstPollAfterMs, pace, seenElsewhere, signal, clock = systemClock } = schedule
  const started = clock.now()
  let asked = firstPollAfterMs
  let pollNow = false
  if (!poller.isDone && seenElsewhere) {
    const seen = await seenElsewhere(firstPollAfterMs)
    if (seen) return seen
    pollNow = true
  }
  let polledAt = started
  while (!poller.isDone) {
    // A Retry-After counts from the answer; the pace from when the last poll was sent.
    if (!pollNow) {
      const now = clock.now()
      await clock.sleep(Math.max(0, asked || pace(now - started) - (now - polledAt)), signal)
    }
    pollNow = false
    polledAt = clock.now()
    asked = await schedule.poll()
  }
  return poller.pollUntilDone({ abortSignal: signal })
}
