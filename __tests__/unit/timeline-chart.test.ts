import { describe, expect, it } from '@jest/globals'
import { mermaidText } from '../../src/escape.js'
import { Step } from '../../src/steps/names.js'
import { renderSummary } from '../../src/summary.js'
import { barsByStep, renderTimelineChart } from '../../src/timeline-chart.js'
import type { Span, SpanKind } from '../../src/timeline.js'

function span(
  step: Span['step'],
  kind: SpanKind,
  startMs: number,
  endMs: number,
  label = `${kind} ${startMs}`
): Span {
  return { step, kind, label, startMs, endMs }
}

const run: Span[] = [
  span(Step.SignIn, 'read', 0, 120, 'POST /tenant/oauth2/v2.0/token'),
  span(Step.Observe, 'read', 130, 400, 'GET /a'),
  span(Step.Observe, 'read', 150, 380, 'GET /b'),
  span(Step.Key, 'read', 1000, 1050, 'GET /keys/k'),
  span(Step.Key, 'propagation', 1050, 61_000, "'Crypto User' on /keys: 403; #2"),
  span(Step.Key, 'read', 61_000, 61_040, 'GET /keys/k'),
  span(Step.Key, 'write', 61_040, 61_100, 'POST /keys/k/create'),
  span(Step.Account, 'write', 61_100, 61_150, 'PUT /x'),
  span(Step.Account, 'operation', 61_100, 181_100, 'creation of account'),
  span(Step.Account, 'throttling', 61_150, 63_150, 'PUT /x')
]

describe('the timeline chart', () => {
  it('is a Mermaid Gantt chart: a section per step in the order they began, a bar per kind of work', () => {
    // Spans in any order: the chart orders them.
    expect(renderTimelineChart([...run].reverse())).toBe(
      [
        '```mermaid',
        'gantt',
        '  dateFormat x',
        '  axisFormat %M:%S',
        '  todayMarker off',
        '  section Sign in',
        '  1 read, 120 ms :done, 0, 120',
        '  section Observe',
        '  2 reads, 270 ms :done, 130, 400',
        '  section Key',
        '  1 read, 50 ms :done, 1000, 1050',
        "  propagation 60 s, 'Crypto User' on /keys\ua789 403\uff1b \uff032 :crit, 1050, 61000",
        '  1 read, 40 ms :done, 61000, 61040',
        '  1 write, 60 ms :active, 61040, 61100',
        '  section Cosmos DB account',
        '  1 write, 50 ms :active, 61100, 61150',
        '  operation 2 min 0 s, creation of account :crit, 61100, 181100',
        '  throttling 2.0 s, 1 answer 429 :crit, 61150, 63150',
        '```'
      ].join('\n')
    )
  })

  it('is nothing when the run recorded no spans', () => {
    expect(renderTimelineChart([])).toBe('')
  })

  it('ends the job summary, after the outputs, under a caption', () => {
    const summary = renderSummary({
      mode: 'apply',
      records: [{ step: Step.SignIn, observed: 'oidc', action: 'none', result: 'ok' }],
      outputs: { changed: 'true' },
      timeline: run
    })
    const [beforeChart, chart] = summary.split('**Where the time went**')
    expect(beforeChart).toContain('| changed | ` true ` |')
    expect(chart.endsWith(`\n\n${renderTimelineChart(run)}\n`)).toBe(true)
    expect(renderSummary({ mode: 'plan', records: [], timeline: [] })).not.toContain('mermaid')
  })

  it('keeps every label from data on its own line, with nothing Mermaid or markdown would read', () => {
    const hostile = 'x\n  section Evil :crit, 0, 1; #35; %%{init}%% ``` <b>'
    const chart = renderTimelineChart([
      span(Step.Key, 'propagation', 0, 10, hostile),
      span(Step.Key, 'operation', 5, 20, `${'y'.repeat(80)}`)
    ])
    const lines = chart.split('\n').slice(5, -1)
    expect(lines).toEqual([
      '  section Key',
      expect.stringMatching(/^ {2}propagation 10 ms, x section Evil \ua789crit, 0, 1\uff1b /),
      `  operation 15 ms, ${'y'.repeat(59)}… :crit, 5, 20`
    ])
    for (const line of lines.slice(1)) expect(line).toMatch(/^ {2}[^:#;%`<>\n]+ :crit, \d+, \d+$/)
  })
})

describe('mermaidText', () => {
  it('replaces what ends a title or starts a comment with characters that read the same', () => {
    expect(mermaidText('a: b # c; d\n e %% `x` <y>')).toBe(
      'a\ua789 b \uff03 c\uff1b d e \uff05\uff05 \u02bcx\u02bc \u2039y\u203a'
    )
  })

  it('leaves no token in a label', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJvaWQiOiJ4In0.c2lnbmF0dXJl'
    expect(mermaidText(`Bearer ${jwt}`)).not.toContain(jwt)
  })
})

describe('merging spans into bars', () => {
  it('merges overlapping and nearby spans of one kind and counts the time they cover', () => {
    const [{ bars }] = barsByStep(
      [
        span(Step.Observe, 'read', 0, 100),
        span(Step.Observe, 'read', 50, 150),
        span(Step.Observe, 'read', 400, 500),
        span(Step.Observe, 'write', 120, 130)
      ],
      { mergeGapMs: 250 }
    )
    expect(bars).toEqual([
      { kind: 'read', startMs: 0, endMs: 500, count: 3, busyMs: 250, labels: expect.any(Array) },
      { kind: 'write', startMs: 120, endMs: 130, count: 1, busyMs: 10, labels: ['write 120'] }
    ])
  })

  it('keeps spans further apart than the gap as separate bars', () => {
    const [{ bars }] = barsByStep(
      [span(Step.Key, 'read', 0, 10), span(Step.Key, 'read', 300, 310)],
      { mergeGapMs: 250 }
    )
    expect(bars.map(b => [b.startMs, b.endMs])).toEqual([
      [0, 10],
      [300, 310]
    ])
  })

  it('takes the gap from the run: 1% of its length, at least 500 ms', () => {
    const spread = (step: Span['step'], end: number) => [
      span(step, 'read', 0, 10),
      span(step, 'read', 600, 610),
      span(Step.SignIn, 'write', end - 1, end)
    ]
    // A 10 s run: 500 ms apart is two bars; a 100 s run: 1 s apart is one.
    expect(barsByStep(spread(Step.Key, 10_000))[0].bars).toHaveLength(2)
    expect(barsByStep(spread(Step.Key, 100_000))[0].bars).toHaveLength(1)
  })

  it('merges the closest bars of one kind until a step has few enough', () => {
    const [{ bars }] = barsByStep(
      [
        span(Step.Key, 'read', 0, 10),
        span(Step.Key, 'read', 20, 30),
        span(Step.Key, 'read', 1000, 1010),
        span(Step.Key, 'read', 5000, 5010),
        span(Step.Key, 'propagation', 10, 4000)
      ],
      { mergeGapMs: 0, maxBarsPerStep: 3 }
    )
    expect(bars.map(b => [b.kind, b.startMs, b.endMs, b.count])).toEqual([
      ['read', 0, 1010, 3],
      ['propagation', 10, 4000, 1],
      ['read', 5000, 5010, 1]
    ])
  })

  it('never merges different kinds, even past the limit', () => {
    const kinds: SpanKind[] = ['read', 'write', 'propagation', 'operation', 'throttling']
    const [{ bars }] = barsByStep(
      kinds.map((kind, i) => span(Step.Key, kind, i * 1000, i * 1000 + 10)),
      { maxBarsPerStep: 2 }
    )
    expect(bars.map(b => b.kind)).toEqual(kinds)
  })

  it('names a merged wait by its first label and how many others it holds', () => {
    const chart = renderTimelineChart([
      span(Step.Providers, 'propagation', 0, 500, 'Microsoft.KeyVault to be registered'),
      span(Step.Providers, 'propagation', 0, 700, 'Microsoft.DocumentDB to be registered'),
      span(Step.Providers, 'propagation', 10, 700, 'Microsoft.DocumentDB to be registered')
    ])
    expect(chart).toContain(
      '  propagation 700 ms, Microsoft.KeyVault to be registered and 1 more :crit, 0, 700'
    )
  })
})
