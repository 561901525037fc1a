// Prints the score of the last mutation run (reports/mutation/mutation.json, or the reports named,
// added up) and every mutant that survived or had no test, one line each: file:line:column,
// mutator, and the replacement.
import { readFileSync } from 'node:fs'
import { relative } from 'node:path'

const reports = process.argv.slice(2)
const files = {}
for (const file of reports.length ? reports : ['reports/mutation/mutation.json']) {
  Object.assign(files, JSON.parse(readFileSync(file, 'utf8')).files)
}

const counts = {}
const open = []
for (const [name, source] of Object.entries(files)) {
  for (const m of source.mutants) {
    counts[m.status] = (counts[m.status] ?? 0) + 1
    if (m.status === 'Survived' || m.status === 'NoCoverage') {
      open.push({ file: relative(process.cwd(), name), ...m })
    }
  }
}

const n = status => counts[status] ?? 0
const detected = n('Killed') + n('Timeout')
const valid = detected + n('Survived') + n('NoCoverage')
const score = valid ? (100 * detected) / valid : 100
const covered = detected + n('Survived')

open.sort((a, b) =>
  a.file === b.file ? a.location.start.line - b.location.start.line : a.file < b.file ? -1 : 1
)
for (const m of open) {
  const at = `${m.file}:${m.location.start.line}:${m.location.start.column}`
  const replacement = (m.replacement ?? '').replace(/\s+/g, ' ').slice(0, 100)
  console.log(
    `${m.status === 'NoCoverage' ? 'no test ' : 'survived'}  ${at}  ${m.mutatorName}  ${replacement}`
  )
}
console.log('')
console.log(
  `killed ${n('Killed')}, timeout ${n('Timeout')}, survived ${n('Survived')}, no coverage ${n('NoCoverage')}, ` +
    `compile errors ${n('CompileError')}, runtime errors ${n('RuntimeError')}, ignored ${n('Ignored')}`
)
console.log(
  `mutation score ${score.toFixed(2)} % (of covered code: ${(covered ? (100 * detected) / covered : 100).toFixed(2)} %)`
)
