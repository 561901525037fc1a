import { AsyncLocalStorage } from 'node:async_hooks'
import type { Clock } from './clock.js'
import type { StepName } from './steps/names.js'

/**
 * What a stretch of a step's time went to: the action's own requests, or one of Azure's waits
 * (role and principal propagation or provider registration, a long-running operation, a 429 answer
 * until the retry).
 */
export type SpanKind = 'read' | 'write' | 'propagation' | 'operation' | 'throttling'

/** A stretch of one step's time, in milliseconds since the run started. */
export interface Span {
  step: StepName
  /** The account of a fleet the span's step worked on; none for the steps the accounts share. */
  lane?: string
  kind: SpanKind
  label: string
  startMs: number
  endMs: number
}

/** Ends a span at the current time; later calls do nothing. */
export type EndSpan = () => void

interface StepScope {
  timeline: Timeline
  step: StepName
  lane?: string
  /** Spans that outlive the code that began them, ended when the step ends. */
  lingering: Set<EndSpan>
}

const running = new AsyncLocalStorage<StepScope>()

/**
 * The run's spans on the run's clock. Steps are not passed it: `within` makes every span begun
 * inside a step's work (however deep, in an SDK pipeline or a wait) that step's.
 */
export class Timeline {
  private readonly origin: number
  private readonly ended: Span[] = []
  private readonly open = new Map<EndSpan, Omit<Span, 'endMs'>>()

  constructor(private readonly clock: Clock) {
    this.origin = clock.now()
  }

  /**
   * Runs `work` as `step` (of the account `lane`, or of the enclosing step's): a step within
   * another takes over until it returns.
   */
  within<T>(step: StepName, work: () => Promise<T>, lane?: string): Promise<T> {
    const scope: StepScope = {
      timeline: this,
      step,
      lane: lane ?? running.getStore()?.lane,
      lingering: new Set()
    }
    return running.run(scope, async () => {
      try {
        return await work()
      } finally {
        for (const end of scope.lingering) end()
      }
    })
  }

  begin(step: StepName, kind: SpanKind, label: string, lane?: string): EndSpan {
    const started = { step, ...(lane ? { lane } : {}), kind, label, startMs: this.elapsed() }
    const end: EndSpan = () => {
      if (!this.open.delete(end)) return
      this.ended.push({ ...started, endMs: Math.max(started.startMs, this.elapsed()) })
    }
    this.open.set(end, started)
    return end
  }

  /** Every span so far in the order they began; one still open ends now. */
  spans(): Span[] {
    const now = this.elapsed()
    const open = [...this.open.values()].map(span => ({ ...span, endMs: now }))
    return [...this.ended, ...open].sort((a, b) => a.startMs - b.startMs)
  }

  private elapsed(): number {
    return this.clock.now() - this.origin
  }
}

/** Begins a span of the step running here; nothing outside a run's steps. */
export function beginSpan(kind: SpanKind, label: string): EndSpan | undefined {
  const scope = running.getStore()
  return scope?.timeline.begin(scope.step, kind, label, scope.lane)
}

/** A span that may outlive the code that began it: the step's end ends it, if nothing did before. */
export function beginLingeringSpan(kind: SpanKind, label: string): EndSpan | undefined {
  const scope = running.getStore()
  if (!scope) return undefined
  const end = scope.timeline.begin(scope.step, kind, label, scope.lane)
  scope.lingering.add(end)
  return () => {
    scope.lingering.delete(end)
    end()
  }
}
