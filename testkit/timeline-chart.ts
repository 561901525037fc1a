/** The "where the time went" chart at the end of a job summary, read back into sections and bars. */

export interface ChartBar {
  /** The section (step) the bar is in. */
  step: string
  title: string
  /** `done` (a read), `active` (a write) or `crit` (one of Azure's waits). */
  tag: string
  startMs: number
  endMs: number
}

export interface SummaryChart {
  /** In the order they appear: the order the steps began. */
  sections: string[]
  bars: ChartBar[]
}

/** The Mermaid Gantt block that ends the summary; undefined when the summary does not end with one. */
export function summaryChart(summary: string): SummaryChart | undefined {
  const block = summary.match(/\n```mermaid\ngantt\n([\s\S]*?)\n```\s*$/)?.[1]
  if (block === undefined) return undefined
  const chart: SummaryChart = { sections: [], bars: [] }
  for (const line of block.split('\n')) {
    const section = line.match(/^ {2}section (.+)$/)?.[1]
    if (section) chart.sections.push(section)
    const bar = line.match(/^ {2}(.+) :(\w+), (\d+), (\d+)$/)
    if (bar) {
      chart.bars.push({
        step: chart.sections.at(-1) ?? '',
        title: bar[1],
        tag: bar[2],
        startMs: Number(bar[3]),
        endMs: Number(bar[4])
      })
    }
  }
  return chart
}
