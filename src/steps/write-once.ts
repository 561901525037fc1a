import { isOperationInProgress, isOutcomeUnknown, isRefusal } from '../errors.js'
import type { WaitKind } from '../wait.js'
import { retryIn, type StepContext } from './context.js'

/** The write's own read-back shows it has not taken effect yet: nothing to look for before the next try. */
export class NotYetVisible extends Error {
  constructor(readonly observed: string) {
    super(`not visible yet: ${observed}`)
    this.name = 'NotYetVisible'
  }
}

export interface RepeatableWrite<T> {
  /** What is awaited, e.g. "Cosmos DB account 'x' to accept an update". */
  what: string
  timeoutMs: number
  hint: string
  /**
   * The state once the write is there (an attempt of ours whose answer was lost, or a parallel
   * run's write); undefined while it is not.
   */
  landed(): Promise<T | undefined>
  write(): Promise<T>
  /**
   * Why a failed attempt may be repeated, as a status text; undefined for a real failure. An
   * attempt whose outcome is unknown (cut off, timed out) is always repeated.
   */
  retryable(error: unknown): string | undefined
}

/**
 * Writes until the change has taken effect, backing off between tries, until the step's deadline
 * (and never past the run's). Before a repetition the state is read again, because a failed
 * attempt may have landed all the same; the write is then not sent again. Only an attempt refused
 * outright (a 4xx answer other than a lock held by another operation) or one whose own read-back
 * came up empty is repeated without looking first.
 */
export function writeOnce<T>(ctx: StepContext, write: RepeatableWrite<T>): Promise<T> {
  let lookFirst = false
  return retryIn(
    ctx,
    async () => {
      if (lookFirst) {
        const there = await write.landed()
        if (there !== undefined) return there
      }
      lookFirst = true
      return write.write()
    },
    error => {
      const status = isOutcomeUnknown(error)
        ? 'the outcome of the last attempt is unknown'
        : write.retryable(error)
      const nothingWritten =
        error instanceof NotYetVisible || (isRefusal(error) && !isOperationInProgress(error))
      if (status !== undefined && nothingWritten) lookFirst = false
      return status === undefined ? undefined : { status, kind: waitKindOf(error) }
    },
    { what: write.what, kind: 'propagation', timeoutMs: write.timeoutMs, hint: write.hint }
  )
}

/**
 * A repetition waits for an operation when Azure is busy with one (a held lock) or the last attempt
 * may still be under way; otherwise for the write to be accepted once a grant or a principal has
 * propagated.
 */
function waitKindOf(error: unknown): WaitKind {
  return isOperationInProgress(error) || isOutcomeUnknown(error) ? 'operation' : 'propagation'
}
