/**
 * Regenerates the input and output tables of README.md from action.yml, between the
 * `<!-- inputs:start -->` / `<!-- inputs:end -->` and `<!-- outputs:start -->` / `<!-- outputs:end -->` markers.
 * `--check` fails instead of writing when the README is out of date.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { format, resolveConfig } from 'prettier'
import { parse } from 'yaml'

interface ActionInput {
  description?: string
  required?: boolean
  default?: string | number | boolean
}
interface ActionManifest {
  inputs: Record<string, ActionInput>
  outputs: Record<string, { description?: string }>
}

const cell = (text: string): string =>
  text
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\|/g, '\\|')
    .trim()

export function inputsTable(manifest: ActionManifest): string {
  const rows = Object.entries(manifest.inputs).map(([name, input]) => {
    const fallback =
      input.default === undefined || input.default === '' ? '' : `\`${input.default}\``
    return `| \`${name}\` | ${input.required ? 'yes' : 'no'} | ${fallback} | ${cell(input.description ?? '')} |`
  })
  return ['| input | required | default | description |', '|---|---|---|---|', ...rows].join('\n')
}

export function outputsTable(manifest: ActionManifest): string {
  const rows = Object.entries(manifest.outputs).map(
    ([name, output]) => `| \`${name}\` | ${cell(output.description ?? '')} |`
  )
  return ['| output | description |', '|---|---|', ...rows].join('\n')
}

function replaceBetween(text: string, marker: string, content: string): string {
  const start = `<!-- ${marker}:start -->`
  const end = `<!-- ${marker}:end -->`
  const from = text.indexOf(start)
  const to = text.indexOf(end)
  if (from < 0 || to < from) throw new Error(`README.md has no ${start} ... ${end} markers`)
  return text.slice(0, from + start.length) + '\n' + content + '\n' + text.slice(to)
}

const manifest = parse(readFileSync('action.yml', 'utf8')) as ActionManifest
const readme = readFileSync('README.md', 'utf8')
const generated = replaceBetween(
  replaceBetween(readme, 'inputs', inputsTable(manifest)),
  'outputs',
  outputsTable(manifest)
)
// Formatted as `npm run format` would, so that the generator and prettier agree.
const updated = await format(generated, {
  ...(await resolveConfig('README.md')),
  filepath: 'README.md'
})
if (process.argv.includes('--check')) {
  if (updated !== readme) {
    console.error('README.md tables are out of date: run `npm run readme`.')
    process.exit(1)
  }
} else if (updated !== readme) {
  writeFileSync('README.md', updated)
  console.log('README.md tables updated from action.yml.')
}
