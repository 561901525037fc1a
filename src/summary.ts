import { outputNames, type ActionOutputs } from './outputs.js'
import type { Runner } from './runner/runner.js'
import { sanitize } from './sanitize.js'
import type { StepRecord } from './steps/context.js'

const resultLabels: Record<StepRecord['result'], string> = {
  ok: '✅ no change',
  changed: '🛠️ changed',
  'would-change': '📝 would change',
  skipped: '⏭️ skipped',
  failed: '❌ failed'
}

function cell(text: string): string {
  return sanitize(text).replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>') || ' '
}

export interface SummaryInput {
  mode: 'apply' | 'plan'
  records: StepRecord[]
  outputs?: ActionOutputs
  failure?: { step: string; message: string }
}

/** The job summary: one row per step, then the outputs (or the failure). */
export function renderSummary(input: SummaryInput): string {
  const lines = [
    `## Cosmos DB customer-managed key on Managed HSM (${input.mode === 'plan' ? 'plan: nothing was written' : 'apply'})`,
    '',
    '| Step | Observed | Action | Result |',
    '| --- | --- | --- | --- |',
    ...input.records.map(
      r =>
        `| ${cell(r.step)} | ${cell(r.observed)} | ${cell(r.action)} | ${resultLabels[r.result]} |`
    ),
    ''
  ]
  if (input.failure) {
    lines.push(
      `**Failed in step ${cell(input.failure.step)}:**`,
      '',
      '```',
      sanitize(input.failure.message),
      '```',
      ''
    )
  }
  const outputs = input.outputs
  if (outputs) {
    lines.push('| Output | Value |', '| --- | --- |')
    for (const name of outputNames) {
      const value = outputs[name]
      if (value !== undefined && value !== '') lines.push(`| ${name} | \`${cell(value)}\` |`)
    }
    lines.push('')
  }
  return lines.join('\n')
}

/** Sets every output; unknown values (e.g. in plan mode) are empty strings. */
export function setOutputs(runner: Runner, outputs: ActionOutputs): void {
  for (const name of outputNames) runner.setOutput(name, sanitize(outputs[name] ?? ''))
}
