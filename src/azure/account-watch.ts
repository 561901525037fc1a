import { systemClock, type Clock } from '../clock.js'
import type { PollPace } from './transport.js'

/** What the watch needs of an account in its resource group's list. */
export interface ListedAccount {
  name?: string
  provisioningState?: string
}

interface Waiter<A> {
  resourceGroup: string
  name: string
  /** Epoch ms before which this creation is not looked for (its starting request's Retry-After). */
  notBefore: number
  since: number
  misses: number
  resolve: (account: A | undefined) => void
  reject: (error: unknown) => void
}

/** Lists in a row that may miss an account the creation of which was accepted, before it is handed back. */
const MISSES_BEFORE_HANDING_BACK = 3

/**
 * Creations of several Cosmos DB accounts at once, seen through one list of their resource group
 * per pause instead of one poll of each creation's operation. Azure Cosmos DB's operations send
 * no Retry-After, so each would be polled at the transport's pace: for a fleet of 50, 50
 * requests per pause where one list answers for all. ARM's outcome of a PUT is the resource's
 * provisioningState; a creation that failed, an account the list keeps missing, or a list that
 * fails is handed back (`undefined`) to be polled on its own operation, whose answer says why.
 */
export class AccountWatch<A extends ListedAccount> {
  private readonly waiters = new Set<Waiter<A>>()
  private running = false

  constructor(
    private readonly list: (resourceGroup: string) => Promise<A[]>,
    private readonly pace: PollPace,
    private readonly signal?: AbortSignal,
    private readonly clock: Clock = systemClock
  ) {}

  /** The account once its creation has Succeeded, or `undefined`: its operation will tell. */
  until(resourceGroup: string, name: string, firstAfterMs = 0): Promise<A | undefined> {
    return new Promise<A | undefined>((resolve, reject) => {
      if (this.signal?.aborted) return reject(this.signal.reason)
      const now = this.clock.now()
      this.waiters.add({
        resourceGroup,
        name,
        notBefore: now + Math.max(firstAfterMs, this.pace(0)),
        since: now,
        misses: 0,
        resolve,
        reject
      })
      if (this.running) return
      this.running = true
      this.watch().catch((error: unknown) => {
        const reason: unknown = this.signal?.aborted ? this.signal.reason : error
        for (const waiter of this.waiters) waiter.reject(reason)
        this.waiters.clear()
      })
    })
  }

  private async watch(): Promise<void> {
    try {
      await this.lookUntilNoneWait()
    } finally {
      this.running = false
    }
  }

  private async lookUntilNoneWait(): Promise<void> {
    while (this.waiters.size) {
      const due = Math.min(...[...this.waiters].map(w => w.notBefore))
      const pause = Math.max(0, due - this.clock.now())
      if (pause) await this.clock.sleep(pause, this.signal)
      const now = this.clock.now()
      const ready = [...this.waiters].filter(w => w.notBefore <= now)
      const groups = new Set(ready.map(w => w.resourceGroup.toLowerCase()))
      await Promise.all([...groups].map(group => this.look(group, ready)))
    }
  }

  private async look(group: string, ready: Waiter<A>[]): Promise<void> {
    const waiting = ready.filter(w => w.resourceGroup.toLowerCase() === group)
    let listed: A[]
    try {
      listed = await this.list(waiting[0]!.resourceGroup)
    } catch (error) {
      if (this.signal?.aborted) throw error
      for (const waiter of waiting) this.handBack(waiter)
      return
    }
    const byName = new Map(listed.map(a => [(a.name ?? '').toLowerCase(), a]))
    for (const waiter of waiting) {
      const account = byName.get(waiter.name.toLowerCase())
      const state = account?.provisioningState?.toLowerCase()
      if (account && state === 'succeeded') this.finish(waiter, account)
      else if (!account && ++waiter.misses >= MISSES_BEFORE_HANDING_BACK) this.handBack(waiter)
      else if (state === 'failed' || state === 'canceled') this.handBack(waiter)
      else waiter.notBefore = this.clock.now() + this.pace(this.clock.now() - waiter.since)
    }
  }

  private finish(waiter: Waiter<A>, account: A): void {
    this.waiters.delete(waiter)
    waiter.resolve(account)
  }

  private handBack(waiter: Waiter<A>): void {
    this.waiters.delete(waiter)
    waiter.resolve(undefined)
  }
}
