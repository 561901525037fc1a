import type { Mode } from './inputs/settings.js'
import { outputNames, type ActionOutputs } from './outputs.js'
import type { Runner } from './runner/runner.js'
import { markdownCode, markdownFence, markdownText } from './escape.js'
import { sanitize } from './sanitize.js'
import type { StepRecord } from './steps/context.js'
import { renderTimelineChart } from './timeline-chart.js'
import type { Span } from './timeline.js'

export const resultLabels: Record<StepRecord['result'], string> = {
  ok: '✅ no change',
  changed: '🛠️ changed',
  'would-change': '📝 would change',
  skipped: '⏭️ skipped',
  warning: '⚠️ warning',
  failed: '❌ failed'
}

export interface SummaryInput {
  mode: Mode
  records: StepRecord[]
  outputs?: ActionOutputs
  failure?: { step: string; message: string }
  /** Where the run's time went; drawn at the end when there is any. */
  timeline?: readonly Span[]
}

const modeTitles: Record<Mode, string> = {
  apply: 'apply',
  plan: 'plan: nothing was written',
  prepare: 'prepare: the HSM, the key and the shared grants',
  verify: 'verify: nothing was written',
  teardown: 'teardown',
  'plan-teardown': 'teardown plan: nothing was deleted'
}

/** The job summary: one row per step, the outputs (or the failure), then where the time went. */
export function renderSummary(input: SummaryInput): string {
  const lines = [
    `## Cosmos DB customer-managed key on Managed HSM (${modeTitles[input.mode]})`,
    '',
    '| Step | Observed | Action | Result |',
    '| --- | --- | --- | --- |',
    ...input.records.map(
      r =>
        `| ${markdownText(stepLabel(r))} | ${markdownText(r.observed)} | ${markdownText(r.action)} | ${resultLabels[r.result]} |`
    ),
    ''
  ]
  const fleet = fleetOf(input.outputs)
  if (fleet) lines.push(...fleetTable(fleet, input.mode), '')
  if (input.failure) {
    lines.push(
      `**Failed in step ${markdownText(input.failure.step)}:**`,
      '',
      markdownFence(input.failure.message),
      ''
    )
  }
  const outputs = input.outputs
  if (outputs) {
    lines.push('| Output | Value |', '| --- | --- |')
    for (const name of outputNames) {
      const value = outputs[name]
      if (fleet && name === 'accounts') continue
      if (value !== undefined && value !== '') lines.push(`| ${name} | ${markdownCode(value)} |`)
    }
    lines.push('')
  }
  const chart = renderTimelineChart(input.timeline ?? [])
  if (chart) lines.push(timelineCaption, '', chart, '')
  return lines.join('\n')
}

/** The step of a record, with the account it worked on in a fleet. */
export function stepLabel(r: StepRecord): string {
  return r.account ? `${r.step} (${r.account})` : r.step
}

interface FleetEntry {
  endpoint?: string
  defaultIdentity?: string
  changed?: boolean
  error?: string
}

/** The accounts of a fleet from the `accounts` output; undefined for a single account. */
function fleetOf(outputs: ActionOutputs | undefined): [string, FleetEntry][] | undefined {
  if (!outputs?.accounts) return undefined
  const entries = Object.entries(JSON.parse(outputs.accounts) as Record<string, FleetEntry>)
  return entries.length > 1 ? entries : undefined
}

/** One row per account of a fleet. */
function fleetTable(fleet: [string, FleetEntry][], mode: Mode): string[] {
  const changed = mode === 'plan' ? 'would-change' : 'changed'
  const failed = fleet.filter(([, e]) => e.error).length
  return [
    `**${fleet.length} accounts**: ${fleet.length - failed} done, ${failed} failed.`,
    '',
    '| Account | Result | Default identity | Endpoint |',
    '| --- | --- | --- | --- |',
    ...fleet.map(
      ([name, e]) =>
        `| ${markdownText(name)} | ${e.error ? `${resultLabels.failed}: ${markdownText(e.error)}` : resultLabels[e.changed ? changed : 'ok']} | ${markdownText(e.defaultIdentity ?? '')} | ${markdownText(e.endpoint ?? '')} |`
    )
  ]
}

const timelineCaption =
  "**Where the time went**, step by step: the action's own reads and writes, and Azure's waits " +
  '(propagation, long-running operations, throttling) marked critical.'

/** The summary of a run that never started: its inputs are invalid, and nothing was requested. */
export function renderInputErrorSummary(message: string): string {
  return [
    '## Cosmos DB customer-managed key on Managed HSM (invalid inputs: nothing was requested)',
    '',
    markdownFence(message),
    ''
  ].join('\n')
}

/** Sets every output; unknown values (e.g. in plan mode) are empty strings. */
export function setOutputs(runner: Runner, outputs: ActionOutputs): void {
  for (const name of outputNames) runner.setOutput(name, sanitize(outputs[name] ?? ''))
}
