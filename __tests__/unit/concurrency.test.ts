import { describe, expect, it } from '@jest/globals'
import { inTurn, mapLimited, settleLimited, Slots, whileWaiting } from '../../src/concurrency.js'

/** Work that resolves when told to, counting how many run at once. */
function gatedWork() {
  let running = 0
  let most = 0
  const gates: (() => void)[] = []
  const work = async (item: number) => {
    running++
    most = Math.max(most, running)
    await new Promise<void>(resolve => gates.push(resolve))
    running--
    if (item === 3) throw new Error(`item ${item} failed`)
    return item * 10
  }
  const releaseAll = async () => {
    while (gates.length || running) {
      gates.splice(0).forEach(open => open())
      await new Promise(resolve => setImmediate(resolve))
    }
  }
  return { work, releaseAll, most: () => most }
}

describe('settleLimited', () => {
  it('runs at most `limit` at a time and answers every outcome in the order of the items', async () => {
    const gated = gatedWork()
    const settled = settleLimited([1, 2, 3, 4, 5], 2, gated.work)
    await gated.releaseAll()
    expect(await settled).toEqual([
      { status: 'fulfilled', value: 10 },
      { status: 'fulfilled', value: 20 },
      { status: 'rejected', reason: new Error('item 3 failed') },
      { status: 'fulfilled', value: 40 },
      { status: 'fulfilled', value: 50 }
    ])
    expect(gated.most()).toBe(2)
  })

  it('answers nothing for no items', async () => {
    expect(await settleLimited([], 4, async () => 1)).toEqual([])
  })
})

describe('mapLimited', () => {
  it('rejects with the first failure once every started item has settled', async () => {
    const gated = gatedWork()
    const mapped = mapLimited([1, 2, 3, 4], 3, gated.work)
    const outcome = mapped.then(
      () => 'resolved',
      (error: Error) => error.message
    )
    await gated.releaseAll()
    expect(await outcome).toBe('item 3 failed')
    expect(gated.most()).toBe(3)
  })

  it('answers the values in the order of the items', async () => {
    expect(await mapLimited([3, 1, 2], 8, async n => n * 2)).toEqual([6, 2, 4])
  })
})

describe('Slots and Turn', () => {
  const tick = () => new Promise(resolve => setImmediate(resolve))

  it('gives places in the order they were asked for', async () => {
    const slots = new Slots(1)
    const order: string[] = []
    await slots.take()
    const b = slots.take().then(() => order.push('b'))
    const c = slots.take().then(() => order.push('c'))
    slots.give()
    await b
    slots.give()
    await c
    expect(order).toEqual(['b', 'c'])
  })

  it('gives the place up while its holder waits, and takes it again before going on', async () => {
    const slots = new Slots(1)
    const waiter = slots.turn()
    await waiter.take()
    let release!: () => void
    const waiting = waiter.during(new Promise<string>(resolve => (release = () => resolve('done'))))
    // The place is free while the holder waits: another worker takes it at once.
    const other = slots.turn()
    await other.take()
    release()
    let back = false
    const returned = waiting.then(value => {
      back = true
      return value
    })
    await tick()
    expect(back).toBe(false) // the waiter needs the place again first
    other.give()
    expect(await returned).toBe('done')
    // A wait within a wait has nothing to give, and the holder keeps exactly one place.
    expect(await waiter.during(inTurn(waiter, () => whileWaiting(async () => 'inner')))).toBe(
      'inner'
    )
    const third = slots.turn()
    let thirdGotIt = false
    void third.take().then(() => (thirdGotIt = true))
    await tick()
    expect(thirdGotIt).toBe(false)
    waiter.give()
    await tick()
    expect(thirdGotIt).toBe(true)
  })

  it('waits outside any turn just wait', async () => {
    expect(await whileWaiting(async () => 42)).toBe(42)
  })
})
