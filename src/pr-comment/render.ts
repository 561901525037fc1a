import { markdownCode, markdownFence, markdownText } from '../escape.js'
import { outputNames, type ActionOutputs } from '../outputs.js'
import type { StepRecord } from '../steps/context.js'
import { resultLabels, stepLabel } from '../summary.js'
import { Step } from '../steps/names.js'

export interface RunCommentInput {
  /** The action's mode: plan, apply, verify, ... */
  mode: string
  account: string
  environment?: string
  records: StepRecord[]
  outputs?: ActionOutputs
  failure?: { step: string; message: string }
  /** The workflow run, linked at the bottom (see runLink). */
  run?: { url: string; label: string }
  /** Why a record's change cannot be undone, or undefined; default irreversibleReason. */
  irreversible?: (record: StepRecord) => string | undefined
}

const modeTitles: Record<string, string> = {
  plan: '📝 Plan',
  apply: '🛠️ Apply',
  verify: '🔎 Verify',
  teardown: '🧹 Teardown'
}

/** Results that a reviewer has to look at: what would change, changed, or went wrong. */
const ATTENTION = ['would-change', 'changed', 'warning', 'failed']

const lastingChanges: Partial<Record<string, string>> = {
  [Step.Hsm]:
    'purge protection can never be turned off, and a deleted HSM stays billed until its retention period ends',
  [Step.Activation]:
    'an activated HSM stays activated; only the downloaded security domain can recover it',
  [Step.Key]: 'a key on a purge-protected HSM cannot be purged before its retention period ends',
  [Step.Account]: 'an account keeps its customer-managed key for good'
}

/**
 * Why the change a record describes cannot be undone (purge protection, activation, a key or an
 * account with a customer-managed key, a deletion), or undefined when it can be.
 */
export function irreversibleReason(record: StepRecord): string | undefined {
  if (record.result !== 'would-change' && record.result !== 'changed') return undefined
  const lasting = lastingChanges[record.step]
  if (lasting) return lasting
  if (/\birreversible\b/i.test(record.action)) return 'this cannot be undone'
  if (/^\s*delete\b/i.test(record.action)) return 'a deletion cannot be undone'
  return undefined
}

function headline(mode: string, changes: number, irreversible: number, failed: boolean): string {
  const lasting =
    irreversible === 0
      ? ''
      : irreversible < changes
        ? `, ${irreversible} of them irreversible`
        : changes === 1
          ? ', which is irreversible'
          : ', all of them irreversible'
  const steps = `${changes} step${changes === 1 ? '' : 's'}`
  if (failed)
    return `**The run failed.** ${changes ? `Before that: ${steps}${lasting}.` : ''}`.trim()
  if (mode === 'plan') {
    return changes
      ? `**Apply would change ${steps}${lasting}.** Nothing was written.`
      : '**Apply would change nothing.** Nothing was written.'
  }
  if (mode === 'verify') {
    return changes
      ? `**${steps} need${changes === 1 ? 's' : ''} attention.**`
      : '**Everything is in place.**'
  }
  return changes ? `**This run changed ${steps}${lasting}.**` : '**Nothing needed to change.**'
}

/**
 * The run comment's markdown: what apply would do (or did, or what verify found) step by step, each
 * irreversible step flagged with why, the other steps folded away, the failure if any, the outputs
 * and a link to the run. Every value is escaped and stripped of anything token-shaped.
 */
export function renderPlanComment(input: RunCommentInput): string {
  const lasting = input.irreversible ?? irreversibleReason
  const attention = input.records.filter(r => ATTENTION.includes(r.result))
  const quiet = input.records.filter(r => !ATTENTION.includes(r.result))
  const flagged = attention.filter(r => lasting(r) !== undefined).length
  const title = modeTitles[input.mode] ?? markdownText(input.mode)
  const environment = input.environment ? `, environment ${markdownCode(input.environment)}` : ''
  const lines = [
    `### ${title}: Cosmos DB account${input.account.includes(',') ? 's' : ''} ${markdownCode(input.account)}${environment}`,
    '',
    headline(input.mode, attention.length, flagged, input.failure !== undefined),
    ''
  ]
  attention.forEach((r, i) => {
    const why = lasting(r)
    const flag = why ? '⚠️ **irreversible** · ' : ''
    lines.push(
      `${i + 1}. ${flag}**${markdownText(stepLabel(r))}**: ${markdownText(r.action)} ` +
        `(${resultLabels[r.result]}; observed: ${markdownText(r.observed)})`
    )
    if (why) lines.push(`   <br>⚠️ ${markdownText(why)}`)
  })
  if (attention.length) lines.push('')
  if (quiet.length) {
    lines.push(
      `<details><summary>Steps with nothing to do (${quiet.length})</summary>`,
      '',
      '| Step | Observed | Result |',
      '| --- | --- | --- |',
      ...quiet.map(
        r =>
          `| ${markdownText(stepLabel(r))} | ${markdownText(r.observed)} | ${resultLabels[r.result]} |`
      ),
      '',
      '</details>',
      ''
    )
  }
  if (input.failure) {
    lines.push(
      `**Failed in step ${markdownText(input.failure.step)}:**`,
      '',
      markdownFence(input.failure.message),
      ''
    )
  }
  const outputs = outputNames.filter(name => input.outputs?.[name])
  if (outputs.length) {
    lines.push('| Output | Value |', '| --- | --- |')
    for (const name of outputs) lines.push(`| ${name} | ${markdownCode(input.outputs![name]!)} |`)
    lines.push('')
  }
  const run = input.run ? `[${markdownText(input.run.label)}](${encodeURI(input.run.url)}) · ` : ''
  lines.push(`<sub>${run}this comment is updated in place by every run of this job</sub>`)
  return lines.join('\n')
}

/** The workflow run's link for the comment: `context` from `@actions/github` has these fields. */
export function runLink(context: {
  serverUrl: string
  runId: number
  repo: { owner: string; repo: string }
  sha?: string
}): { url: string; label: string } {
  const { owner, repo } = context.repo
  const commit = context.sha ? ` on ${context.sha.slice(0, 7)}` : ''
  return {
    url: `${context.serverUrl}/${owner}/${repo}/actions/runs/${context.runId}`,
    label: `Run ${context.runId}${commit}`
  }
}
