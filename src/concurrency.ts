import { AsyncLocalStorage } from 'node:async_hooks'

/**
 * `work` for every item, at most `limit` at a time, answers in the items' order. The first
 * failure rejects once every started item has settled (so none is left running unseen).
 */
export async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>
): Promise<R[]> {
  const settled = await settleLimited(items, limit, work)
  const failed = settled.find(s => s.status === 'rejected')
  if (failed) throw failed.reason
  return settled.map(s => (s as PromiseFulfilledResult<R>).value)
}

/** `work` for every item, at most `limit` at a time; every outcome, in the items' order. */
export async function settleLimited<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>
): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const index = next++
      try {
        results[index] = { status: 'fulfilled', value: await work(items[index], index) }
      } catch (reason) {
        results[index] = { status: 'rejected', reason }
      }
    }
  }
  const workers = Math.max(1, Math.min(limit, items.length))
  await Promise.all(Array.from({ length: workers }, worker))
  return results
}

/** Places for work, taken in the order asked for. */
export class Slots {
  private free: number
  private readonly waiting: (() => void)[] = []

  constructor(size: number) {
    this.free = Math.max(1, size)
  }

  async take(): Promise<void> {
    if (this.free > 0) {
      this.free--
      return
    }
    await new Promise<void>(resolve => this.waiting.push(resolve))
  }

  give(): void {
    const next = this.waiting.shift()
    if (next) next()
    else this.free++
  }

  /** A holder of one place, which it gives up while it waits (see Turn). */
  turn(): Turn {
    return new Turn(this)
  }
}

/**
 * One worker's place: taken before its work, given to the next worker while it only waits for
 * something else (a long-running operation, a propagation), taken again after.
 */
export class Turn {
  private held = false

  constructor(private readonly slots: Slots) {}

  async take(): Promise<void> {
    await this.slots.take()
    this.held = true
  }

  give(): void {
    if (!this.held) return
    this.held = false
    this.slots.give()
  }

  /** `waiting` with the place given up meanwhile; a wait within a wait keeps nothing to give. */
  async during<T>(waiting: Promise<T>): Promise<T> {
    if (!this.held) return waiting
    this.give()
    try {
      return await waiting
    } finally {
      await this.take()
    }
  }
}

const turns = new AsyncLocalStorage<Turn>()

/** Runs `work` as the holder of `turn`: waits within it (see whileWaiting) give the place up. */
export function inTurn<T>(turn: Turn, work: () => Promise<T>): Promise<T> {
  return turns.run(turn, work)
}

/**
 * A wait for Azure (a long-running operation after its starting request was answered, a
 * propagation): the work running it gives its place to the next worker meanwhile, if it holds one.
 */
export function whileWaiting<T>(waiting: () => Promise<T>): Promise<T> {
  const turn = turns.getStore()
  return turn ? turn.during(waiting()) : waiting()
}
