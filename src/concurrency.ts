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
