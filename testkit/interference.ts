/**
 * What the local Azure does to the action's requests beyond its fault rules: kill the action at a
 * chosen write, cut chosen writes off, or hold requests so that parallel runs really collide.
 */
import type { ChildProcess } from 'node:child_process'
import type { Emulator, PendingRequest, RequestLogEntry } from './emulator.js'
import { describeRequest, type RequestLine } from './requests.js'

export type CrashVariant = 'lands' | 'cut-off'

export interface Crash {
  /** Pass to the run as `onSpawn`. */
  onSpawn(child: ChildProcess): void
  /** The write the action was killed at, once it was. */
  readonly at: string | undefined
  /**
   * Resolves once that write has been served (at once for a cut-off one): a re-run on a real
   * runner starts long after the service finished, never while it still works on the request.
   */
  settled(): Promise<void>
  dispose(): void
}

/**
 * SIGKILLs the action at its `n`th write: as the write reaches its service (`lands`: it is carried
 * out, the action never learns the outcome) or instead of it (`cut-off`: the connection is reset).
 */
export function crashAtWrite(emulator: Emulator, n: number, variant: CrashVariant): Crash {
  let seen = 0
  return crashAtRequest(emulator, request => request.kind === 'write' && ++seen === n, variant)
}

/**
 * SIGKILLs the action at the first request that reaches its service and `pick`s (called once for
 * each such request, in the order they come): as it is served (`lands`) or instead of it
 * (`cut-off`). Requests refused before they reach a service (a token challenge) are not offered.
 */
export function crashAtRequest(
  emulator: Emulator,
  pick: (request: PendingRequest) => boolean,
  variant: CrashVariant
): Crash {
  let child: ChildProcess | undefined
  let hit: PendingRequest | undefined
  let landed = () => {}
  const served = new Promise<void>(resolve => (landed = resolve))
  const killAtPick = (request: PendingRequest): boolean => {
    if (hit || !pick(request)) return false
    hit = request
    child?.kill('SIGKILL')
    return true
  }
  const before = (request: PendingRequest) => void killAtPick(request)
  const logged = (entry: RequestLogEntry) => {
    if (hit && entry.method === hit.method && entry.host === hit.host && entry.path === hit.path) {
      landed()
    }
  }
  if (variant === 'lands') {
    emulator.on('before-request', before)
    emulator.on('request', logged)
  } else {
    emulator.intercept(request => (killAtPick(request) ? 'reset' : 'continue'))
  }
  return {
    onSpawn: c => (child = c),
    get at() {
      return hit && describeRequest(hit)
    },
    settled: () => (variant === 'lands' && hit ? served : Promise.resolve()),
    dispose: () => {
      emulator.off('before-request', before as (arg: never) => void)
      emulator.off('request', logged as (arg: never) => void)
      emulator.intercept(undefined)
    }
  }
}

export interface CutOffs {
  /** The requests cut off so far, in order. */
  readonly cut: string[]
  dispose(): void
}

/**
 * Resets the connection of the first `count` requests that `match`, once each has reached the
 * local Azure in full and before its service runs: the client cannot tell whether it was carried
 * out (it was not). Later matching requests are served.
 */
export function cutOff(
  emulator: Emulator,
  match: (request: RequestLine) => boolean,
  count: number
): CutOffs {
  const cut: string[] = []
  emulator.intercept(request => {
    if (cut.length >= count || !match(request)) return 'continue'
    cut.push(describeRequest(request))
    return 'reset'
  })
  return { cut, dispose: () => emulator.intercept(undefined) }
}

export interface Race {
  /** The groups all of whose parties arrived and were let go together. */
  readonly raced: Set<string>
  dispose(): void
}

/**
 * Holds the first request of each group (by `groupOf`; undefined: not held) until `parties`
 * requests of that group have arrived, then lets them all go at once, so that runs started side
 * by side really collide there however far apart their processes started. A group whose partners
 * do not come within `giveUpMs` is let go as it is.
 */
export function raceRequests(
  emulator: Emulator,
  groupOf: (request: PendingRequest) => string | undefined,
  parties: number,
  giveUpMs = 30_000
): Race {
  const waiting = new Map<string, (() => void)[]>()
  const raced = new Set<string>()
  const released = new Set<string>()
  const timers = new Set<NodeJS.Timeout>()
  const release = (group: string) => {
    released.add(group)
    for (const go of waiting.get(group) ?? []) go()
    waiting.delete(group)
  }
  emulator.intercept(async (request): Promise<'continue'> => {
    const group = groupOf(request)
    if (group === undefined || released.has(group)) return 'continue'
    const held = waiting.get(group) ?? []
    waiting.set(group, held)
    if (held.length + 1 >= parties) {
      raced.add(group)
      release(group)
      return 'continue'
    }
    await new Promise<void>(resolve => {
      const giveUp = setTimeout(() => release(group), giveUpMs)
      timers.add(giveUp)
      held.push(() => {
        clearTimeout(giveUp)
        timers.delete(giveUp)
        resolve()
      })
    })
    return 'continue'
  })
  return {
    raced,
    dispose: () => {
      for (const timer of timers) clearTimeout(timer)
      for (const group of [...waiting.keys()]) release(group)
      emulator.intercept(undefined)
    }
  }
}

export interface LateAnswers {
  /** The kinds of write held, in the order they came. */
  readonly held: string[]
  /** The kinds of write carried out after the client had moved on, in that order. */
  readonly landed: string[]
  dispose(): void
}

/** The resource a request is about: its path, without a trailing slash or a `POST .../create`. */
const resourceOf = (r: RequestLine) => r.path.replace(/\/$/, '').replace(/\/create$/i, '')

/**
 * Answers the first write of each kind (by `kindOf`; undefined: not held) only after the client
 * gave up on it: the write is held until the client sends another request about the same resource
 * (the same request again, or a read of the resource), which it does only once it stopped waiting
 * for the answer. The write is then carried out, before that request is served, and its answer
 * goes to a client that no longer listens.
 */
export function answerLate(
  emulator: Emulator,
  kindOf: (request: PendingRequest) => string | undefined
): LateAnswers {
  interface Held {
    kind: string
    request: PendingRequest
    release(): void
    served: Promise<void>
    markServed(): void
  }
  const held: string[] = []
  const landed: string[] = []
  const open: Held[] = []
  const releasing: Held[] = []
  const isFollowUp = (h: Held, r: PendingRequest) =>
    r.host === h.request.host &&
    ((r.method === h.request.method && r.path === h.request.path) ||
      (r.method === 'GET' && resourceOf(r) === resourceOf(h.request)))
  const logged = (entry: RequestLogEntry) => {
    const h = releasing.find(
      x =>
        x.request.method === entry.method &&
        x.request.host === entry.host &&
        x.request.path === entry.path
    )
    if (!h) return
    releasing.splice(releasing.indexOf(h), 1)
    landed.push(h.kind)
    h.markServed()
  }
  emulator.on('request', logged)
  emulator.intercept(async (request): Promise<'continue'> => {
    for (const h of open.filter(x => isFollowUp(x, request))) {
      open.splice(open.indexOf(h), 1)
      releasing.push(h)
      h.release()
      await h.served
    }
    const kind = kindOf(request)
    if (kind === undefined || held.includes(kind)) return 'continue'
    held.push(kind)
    await new Promise<void>(release => {
      let markServed = () => {}
      const served = new Promise<void>(resolve => (markServed = resolve))
      open.push({ kind, request, release, served, markServed })
    })
    return 'continue'
  })
  return {
    held,
    landed,
    dispose: () => {
      for (const h of open.splice(0)) h.release()
      emulator.off('request', logged as (arg: never) => void)
      emulator.intercept(undefined)
    }
  }
}

export interface SpentArmBudget {
  /** The ARM writes that met an empty budget on their first attempt, in order. */
  readonly drained: string[]
  dispose(): void
}

const isArmWrite = (r: PendingRequest | RequestLogEntry) =>
  r.host.startsWith('management.') && !['GET', 'HEAD'].includes(r.method)

/**
 * Before each Resource Manager write that is not the repetition of a throttled one, spends what is
 * left of the caller's write (or delete) budget, as a parallel job signed in as the same identity
 * would: every write the action makes meets a 429 first. Needs a timing that limits ARM requests.
 */
export function spendArmBudgetBeforeWrites(emulator: Emulator): SpentArmBudget {
  const drained: string[] = []
  /** Writes answered 429 whose repetition is still to come. */
  const throttled: string[] = []
  const before = (request: PendingRequest) => {
    if (!isArmWrite(request) || !request.principal) return
    const line = describeRequest(request)
    const repeated = throttled.indexOf(line)
    if (repeated >= 0) {
      throttled.splice(repeated, 1)
      return
    }
    if (emulator.drainArmBudget({ ...request, principal: request.principal })) drained.push(line)
  }
  const logged = (entry: RequestLogEntry) => {
    if (isArmWrite(entry) && entry.status === 429) throttled.push(describeRequest(entry))
  }
  emulator.on('before-request', before)
  emulator.on('request', logged)
  return {
    drained,
    dispose: () => {
      emulator.off('before-request', before as (arg: never) => void)
      emulator.off('request', logged as (arg: never) => void)
    }
  }
}
