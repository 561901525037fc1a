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
 * Starts `work` for every case at once and answers each case's outcome by its key. A failure is
 * left for the case's own test to report, not raised as an unhandled rejection meanwhile.
 */
export function startEach<T, R>(
  cases: readonly T[],
  keyOf: (c: T) => string,
  work: (c: T) => Promise<R>
): Map<string, Promise<R>> {
  const outcomes = new Map<string, Promise<R>>()
  for (const c of cases) {
    const outcome = work(c)
    outcome.catch(() => {})
    outcomes.set(keyOf(c), outcome)
  }
  return outcomes
}
