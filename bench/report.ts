/** Tables and target verdicts, as text for the console and as markdown for the README. */
import type { RequestCounts } from './measure.js'

export const seconds = (ms: number | undefined): string =>
  ms === undefined || Number.isNaN(ms) ? '-' : `${(ms / 1000).toFixed(2)} s`

export const mib = (kb: number | undefined): string =>
  kb === undefined ? '-' : `${(kb / 1024).toFixed(1)} MiB`

export function markdownTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(r => (r[i] ?? '').length)))
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`
  return [
    line(header),
    `| ${widths.map(w => '-'.repeat(w)).join(' | ')} |`,
    ...rows.map(line)
  ].join('\n')
}

export const requestCells = (c: RequestCounts): string[] => [
  String(c.read),
  String(c.write),
  String(c.poll),
  String(c.token)
]

export interface Target {
  name: string
  pass: boolean
  detail: string
}

export function targetLines(targets: Target[]): string[] {
  return targets.map(t => `${t.pass ? 'PASS' : 'MISS'}  ${t.name}: ${t.detail}`)
}

/** Bytes in decimal megabytes, as the memory targets are stated. */
export const mb = (kb: number | undefined): string =>
  kb === undefined ? '-' : `${((kb * 1024) / 1e6).toFixed(1)} MB`

export const totalRequests = (c: RequestCounts): number => c.read + c.write + c.poll + c.token

/** The "where the time went" Mermaid block that ends a job summary, fence included. */
export function mermaidChart(summary: string): string | undefined {
  return /```mermaid\n[\s\S]*?\n```/.exec(summary)?.[0]
}

/** A markdown file of charts: a heading, a line about the run, then each chart with its title. */
export function chartFile(
  title: string,
  about: string,
  charts: { title: string; summary: string }[]
): string {
  const parts = [`# ${title}`, about]
  for (const c of charts) {
    parts.push(`## ${c.title}`, mermaidChart(c.summary) ?? '(the job summary has no chart)')
  }
  return `${parts.join('\n\n')}\n`
}
