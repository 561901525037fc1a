/**
 * Creations of several accounts at once, seen through one list of their resource group per
 * interval (AccountWatch), and handed back to their own operation when the list cannot tell.
 */
import { describe, expect, it } from '@jest/globals'
import { AccountWatch, type ListedAccount } from '../../src/azure/account-watch.js'
import { FakeClock } from './fakes.js'

/** A resource group whose accounts move through the given states, one per list. */
function listing(states: Record<string, (string | undefined)[]>) {
  const lists: string[] = []
  const list = async (resourceGroup: string): Promise<ListedAccount[]> => {
    lists.push(resourceGroup)
    const round = lists.filter(g => g === resourceGroup).length - 1
    return Object.entries(states)
      .filter(([key]) => key.startsWith(`${resourceGroup}/`))
      .map(([key, seq]) => ({
        name: key.split('/')[1],
        provisioningState: seq[Math.min(round, seq.length - 1)]
      }))
      .filter(a => a.provisioningState !== undefined)
  }
  return { lists, list }
}

describe('AccountWatch', () => {
  it('sees three creations with one list per interval, each when it has Succeeded', async () => {
    const { lists, list } = listing({
      'rg/a': ['Succeeded'],
      'rg/b': ['Creating', 'Succeeded'],
      'rg/c': ['Creating', 'Creating', 'Succeeded']
    })
    const watch = new AccountWatch(list, () => 1_000, undefined, new FakeClock())
    const seen = await Promise.all(['a', 'B', 'c'].map(name => watch.until('rg', name)))
    expect(seen.map(a => a?.name)).toEqual(['a', 'b', 'c'])
    expect(seen.every(a => a?.provisioningState === 'Succeeded')).toBe(true)
    expect(lists).toEqual(['rg', 'rg', 'rg'])
  })

  it('lists each resource group once per interval', async () => {
    const { lists, list } = listing({
      'one/a': ['Creating', 'Succeeded'],
      'one/b': ['Creating', 'Succeeded'],
      'two/c': ['Succeeded']
    })
    const watch = new AccountWatch(list, () => 1_000, undefined, new FakeClock())
    await Promise.all([watch.until('one', 'a'), watch.until('one', 'b'), watch.until('two', 'c')])
    expect(lists.sort()).toEqual(['one', 'one', 'two'])
  })

  it('hands a failed creation back to its operation, and goes on with the others', async () => {
    const { list } = listing({
      'rg/bad': ['Creating', 'Failed'],
      'rg/good': ['Creating', 'Creating', 'Succeeded']
    })
    const watch = new AccountWatch(list, () => 1_000, undefined, new FakeClock())
    const [bad, good] = await Promise.all([watch.until('rg', 'bad'), watch.until('rg', 'good')])
    expect(bad).toBeUndefined()
    expect(good).toMatchObject({ name: 'good', provisioningState: 'Succeeded' })
  })

  it('hands back an account the list keeps missing, after three lists', async () => {
    const { lists, list } = listing({ 'rg/other': ['Creating'] })
    const watch = new AccountWatch(list, () => 1_000, undefined, new FakeClock())
    await expect(watch.until('rg', 'missing')).resolves.toBeUndefined()
    expect(lists).toHaveLength(3)
  })

  it('hands every waiter of a resource group back when its list fails', async () => {
    const watch = new AccountWatch(
      async () => {
        throw Object.assign(new Error('AuthorizationFailed'), { statusCode: 403 })
      },
      () => 1_000,
      undefined,
      new FakeClock()
    )
    await expect(Promise.all([watch.until('rg', 'a'), watch.until('rg', 'b')])).resolves.toEqual([
      undefined,
      undefined
    ])
  })

  it('waits for the Retry-After of the starting request before the first look', async () => {
    const clock = new FakeClock()
    const started = clock.now()
    const lookedAt: number[] = []
    const watch = new AccountWatch(
      async () => {
        lookedAt.push(clock.now() - started)
        return [{ name: 'a', provisioningState: lookedAt.length > 1 ? 'Succeeded' : 'Creating' }]
      },
      () => 1_000,
      undefined,
      clock
    )
    await watch.until('rg', 'a', 7_000)
    expect(lookedAt).toEqual([7_000, 8_000])
  })

  it('looks again after a pause that follows the time each creation has waited', async () => {
    const clock = new FakeClock()
    const started = clock.now()
    const lookedAt: number[] = []
    const waited: number[] = []
    const watch = new AccountWatch(
      async () => {
        lookedAt.push(clock.now() - started)
        return [{ name: 'a', provisioningState: lookedAt.length > 3 ? 'Succeeded' : 'Creating' }]
      },
      waitedMs => {
        waited.push(waitedMs)
        return 100 + waitedMs
      },
      undefined,
      clock
    )
    await watch.until('rg', 'a')
    expect(waited).toEqual([0, 100, 300, 700])
    expect(lookedAt).toEqual([100, 300, 700, 1_500])
  })

  it('watches again for a creation that comes after the others were seen', async () => {
    const { lists, list } = listing({ 'rg/a': ['Succeeded'], 'rg/b': ['Succeeded'] })
    const watch = new AccountWatch(list, () => 1_000, undefined, new FakeClock())
    await watch.until('rg', 'a')
    await expect(watch.until('rg', 'b')).resolves.toMatchObject({ name: 'b' })
    expect(lists).toHaveLength(2)
  })

  it('starts watching again for a creation that comes once the watch has ended', async () => {
    const { lists, list } = listing({ 'rg/a': ['Succeeded'], 'rg/b': ['Succeeded'] })
    const watch = new AccountWatch(list, () => 1_000, undefined, new FakeClock())
    await watch.until('rg', 'a')
    await new Promise(resolve => setImmediate(resolve))
    const b = watch.until('rg', 'b')
    await new Promise(resolve => setImmediate(resolve))
    expect(lists).toHaveLength(2)
    await expect(b).resolves.toMatchObject({ name: 'b' })
  })

  it('looks for each creation when it is due, not before and not at the latest', async () => {
    const clock = new FakeClock()
    const started = clock.now()
    const lookedAt: string[] = []
    const watch = new AccountWatch(
      async (resourceGroup: string) => {
        lookedAt.push(`${resourceGroup} ${clock.now() - started}`)
        const early = resourceGroup === 'early'
        const seen = lookedAt.filter(l => l.startsWith(resourceGroup)).length
        return [
          {
            name: early ? 'a' : 'b',
            provisioningState: early && seen === 1 ? 'Creating' : 'Succeeded'
          }
        ]
      },
      waitedMs => (waitedMs ? 2_000 : 50),
      undefined,
      clock
    )
    // The fake clock moves on as soon as the watch sleeps: b starts at 100 and asks for 1000 more.
    await Promise.all([watch.until('early', 'a', 100), watch.until('late', 'b', 1_000)])
    expect(lookedAt).toEqual(['early 100', 'late 1100', 'early 2100'])
  })

  it('hands a canceled creation back to its operation', async () => {
    const { list } = listing({ 'rg/a': ['Creating', 'Canceled', 'Succeeded'] })
    const watch = new AccountWatch(list, () => 1_000, undefined, new FakeClock())
    await expect(watch.until('rg', 'a')).resolves.toBeUndefined()
  })

  it('stops every wait when the run is cancelled', async () => {
    const controller = new AbortController()
    const { list } = listing({ 'rg/a': ['Creating'], 'rg/b': ['Creating'] })
    const watch = new AccountWatch(list, () => 5, controller.signal)
    const waits = [watch.until('rg', 'a'), watch.until('rg', 'b')]
    const reason = Object.assign(new Error('timeout-minutes (1) reached'), { name: 'AbortError' })
    setTimeout(() => controller.abort(reason), 20)
    const outcomes = await Promise.allSettled(waits)
    expect(outcomes).toEqual([
      { status: 'rejected', reason: reason },
      { status: 'rejected', reason: reason }
    ])
    await expect(watch.until('rg', 'a')).rejects.toThrow('timeout-minutes (1) reached')
  })
})
