/** Running many cases side by side. */

/** Runs `work` over `items` with at most `limit` at a time, keeping the order of results. */
export async function inBatches<T, R>(
  items: T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>
): Promise<R[]> {
  const results: R[] = new Array(items.length)
  let next = 0
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++
      results[i] = await work(items[i], i)
    }
  })
  await Promise.all(lanes)
  return results
}

/**
 * Starts `work` for the cases in their order, at most `limit` at a time (default: all at once), and
 * answers each case's outcome by its key. A failure is left for the case's own test to report, not
 * raised as an unhandled rejection meanwhile.
 */
export function startEach<T, R>(
  cases: readonly T[],
  keyOf: (c: T) => string,
  work: (c: T) => Promise<R>,
  limit = cases.length
): Map<string, Promise<R>> {
  const outcomes = new Map<string, Promise<R>>()
  const starters: (() => void)[] = []
  let running = 0
  const startNext = () => {
    while (running < limit && starters.length) starters.shift()!()
  }
  for (const c of cases) {
    const outcome = new Promise<R>((resolve, reject) => {
      starters.push(() => {
        running++
        work(c)
          .then(resolve, reject)
          .finally(() => {
            running--
            startNext()
          })
      })
    })
    outcome.catch(() => {})
    outcomes.set(keyOf(c), outcome)
  }
  startNext()
  return outcomes
}
