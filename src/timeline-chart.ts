import { mermaidText } from './escape.js'
import type { StepName } from './steps/names.js'
import type { Span, SpanKind } from './timeline.js'
import { seconds } from './wait.js'

/** Spans of one kind in one step, close enough together to be drawn as one bar. */
export interface Bar {
  kind: SpanKind
  startMs: number
  endMs: number
  /** How many spans it holds. */
  count: number
  /** The time its spans cover: the bar without its gaps. */
  busyMs: number
  /** Their distinct labels, in the order they began. */
  labels: string[]
}

export interface StepBars {
  /** A step, or in a fleet the lane of one account (all of its steps). */
  step: StepName | `account ${string}`
  bars: Bar[]
}

export interface ChartOptions {
  /** Default 6: more rows than that in a section are hard to read. */
  maxBarsPerStep?: number
  /** Spans of one kind this close are one bar. Default 1% of the run, at least 500 ms. */
  mergeGapMs?: number
}

const kinds: SpanKind[] = ['read', 'write', 'propagation', 'operation', 'throttling']
const defaultMaxBarsPerStep = 6
const minMergeGapMs = 500

/** The steps in the order they began, each with its spans merged into a few bars. */
export function barsByStep(spans: readonly Span[], options: ChartOptions = {}): StepBars[] {
  const sorted = [...spans].sort((a, b) => a.startMs - b.startMs)
  const runMs = Math.max(0, ...sorted.map(s => s.endMs)) - (sorted[0]?.startMs ?? 0)
  const gapMs = options.mergeGapMs ?? Math.max(minMergeGapMs, runMs / 100)
  const maxBars = options.maxBarsPerStep ?? defaultMaxBarsPerStep
  const byStep = new Map<StepBars['step'], Span[]>()
  for (const span of sorted) {
    const section: StepBars['step'] = span.lane ? `account ${span.lane}` : span.step
    const own = byStep.get(section) ?? []
    if (!own.length) byStep.set(section, own)
    own.push(span)
  }
  return [...byStep].map(([step, own]) => ({ step, bars: barsOf(own, gapMs, maxBars) }))
}

/** Spans sorted by start: merged per kind across small gaps, then the closest until few enough. */
function barsOf(spans: Span[], gapMs: number, maxBars: number): Bar[] {
  const groups: Span[][] = []
  for (const kind of kinds) {
    let current: Span[] | undefined
    for (const span of spans.filter(s => s.kind === kind)) {
      if (current && span.startMs - endOf(current) <= gapMs) current.push(span)
      else groups.push((current = [span]))
    }
  }
  while (groups.length > maxBars) {
    const closest = closestNeighbours(groups)
    if (closest === undefined) break
    groups.splice(closest, 2, [...groups[closest], ...groups[closest + 1]])
  }
  return groups.map(toBar).sort((a, b) => a.startMs - b.startMs || kindOrder(a) - kindOrder(b))
}

/** Index of the first of the two groups of one kind with the smallest gap between them. */
function closestNeighbours(groups: Span[][]): number | undefined {
  let best: { index: number; gap: number } | undefined
  for (let i = 0; i + 1 < groups.length; i++) {
    if (groups[i][0].kind !== groups[i + 1][0].kind) continue
    const gap = groups[i + 1][0].startMs - endOf(groups[i])
    if (!best || gap < best.gap) best = { index: i, gap }
  }
  return best?.index
}

function endOf(group: Span[]): number {
  return Math.max(...group.map(s => s.endMs))
}

function toBar(group: Span[]): Bar {
  let busyMs = 0
  let coveredTo = -Infinity
  for (const span of group) {
    busyMs += Math.max(0, span.endMs - Math.max(span.startMs, coveredTo))
    coveredTo = Math.max(coveredTo, span.endMs)
  }
  return {
    kind: group[0].kind,
    startMs: group[0].startMs,
    endMs: endOf(group),
    count: group.length,
    busyMs,
    labels: [...new Set(group.map(s => s.label))]
  }
}

function kindOrder(bar: Bar): number {
  return kinds.indexOf(bar.kind)
}

/** Azure's waits stand out as critical; the action's own reads and writes do not. */
const tags: Record<SpanKind, string> = {
  read: 'done',
  write: 'active',
  propagation: 'crit',
  operation: 'crit',
  throttling: 'crit'
}

/**
 * The spans as a Mermaid Gantt chart in a fenced block, one section per step (in a fleet, one per
 * account for the steps of that account) in the order they began, times in milliseconds since the run started; empty without spans.
 */
export function renderTimelineChart(spans: readonly Span[], options: ChartOptions = {}): string {
  const steps = barsByStep(spans, options)
  if (!steps.length) return ''
  const lines = ['```mermaid', 'gantt', '  dateFormat x', '  axisFormat %M:%S', '  todayMarker off']
  for (const { step, bars } of steps) {
    lines.push(`  section ${mermaidText(step)}`)
    for (const bar of bars) {
      const start = Math.round(bar.startMs)
      const end = Math.max(start, Math.round(bar.endMs))
      lines.push(`  ${mermaidText(barTitle(bar))} :${tags[bar.kind]}, ${start}, ${end}`)
    }
  }
  lines.push('```')
  return lines.join('\n')
}

const longestLabel = 60

function barTitle(bar: Bar): string {
  const time = duration(bar.busyMs)
  switch (bar.kind) {
    case 'read':
    case 'write':
      return `${bar.count} ${bar.kind}${bar.count === 1 ? '' : 's'}, ${time}`
    case 'throttling':
      return `throttling ${time}, ${bar.count} answer${bar.count === 1 ? '' : 's'} 429`
    default: {
      const [first, ...others] = bar.labels
      const label = first.length > longestLabel ? `${first.slice(0, longestLabel - 1)}…` : first
      return `${bar.kind} ${time}, ${label}${others.length ? ` and ${others.length} more` : ''}`
    }
  }
}

function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`
  return seconds(ms)
}
