/**
 * Regenerates the parts of README.md that the code owns, each between `<!-- name:start -->` and
 * `<!-- name:end -->` markers: the input and output tables (from action.yml), the step table (from
 * the step registry) and the quoted input error (from the input parser itself, so that the README
 * never quotes a message the code no longer prints). `--check` fails instead of writing when the
 * README is out of date.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { format, resolveConfig } from 'prettier'
import { parse } from 'yaml'
import { parseInputs } from '../src/inputs/parse.js'
import { stepGuide } from '../src/steps/names.js'

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

export function stepsTable(): string {
  const rows = stepGuide.map(
    ({ step, observes, writes }, i) =>
      `| ${i + 1} | ${step} | ${cell(observes)} | ${cell(writes)} |`
  )
  return ['| # | step | observes | writes when needed |', '|---|---|---|---|', ...rows].join('\n')
}

/** The message the action prints for one bad input, as a fenced block. */
export function inputErrorExample(): string {
  const values: Record<string, string> = {
    'client-id': '00000000-0000-0000-0000-000000000001',
    'tenant-id': '00000000-0000-0000-0000-000000000002',
    'subscription-id': '00000000-0000-0000-0000-000000000003',
    'resource-group': 'rg-cmk',
    'hsm-name': 'My_HSM',
    'key-name': 'cosmos-key',
    'account-name': 'cosmos-cmk'
  }
  try {
    parseInputs({ getInput: name => values[name] ?? '' })
  } catch (error) {
    return ['```', (error as Error).message, '```'].join('\n')
  }
  throw new Error('The example input was accepted: pick a value the parser refuses.')
}

interface TaskManifestJson {
  inputs: {
    name: string
    type: string
    required?: boolean
    defaultValue?: string
    helpMarkDown?: string
  }[]
  outputVariables: { name: string; description?: string }[]
}

/** The Azure Pipelines task's inputs and output variables, from task/task.json. */
export function taskTable(task: TaskManifestJson): string {
  const inputs = task.inputs.map(input => {
    const fallback = input.defaultValue ? `\`${input.defaultValue}\`` : ''
    const type = input.type.startsWith('connectedService:') ? 'service connection' : input.type
    return `| \`${input.name}\` | ${type} | ${input.required ? 'yes' : 'no'} | ${fallback} | ${cell(input.helpMarkDown ?? '')} |`
  })
  const outputs = task.outputVariables.map(
    output => `| \`${output.name}\` | output variable | | | ${cell(output.description ?? '')} |`
  )
  return [
    '| name | kind | required | default | description |',
    '|---|---|---|---|---|',
    ...inputs,
    ...outputs
  ].join('\n')
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
const sections: Record<string, string> = {
  inputs: inputsTable(manifest),
  outputs: outputsTable(manifest),
  steps: stepsTable(),
  'input-error': inputErrorExample(),
  'task-inputs': taskTable(JSON.parse(readFileSync('task/task.json', 'utf8')) as TaskManifestJson)
}
const generated = Object.entries(sections).reduce(
  (text, [marker, content]) => replaceBetween(text, marker, content),
  readme
)
// Formatted as `npm run format` would, so that the generator and prettier agree.
const updated = await format(generated, {
  ...(await resolveConfig('README.md')),
  filepath: 'README.md'
})
if (process.argv.includes('--check')) {
  if (updated !== readme) {
    console.error('README.md is out of date with the code: run `npm run readme`.')
    process.exit(1)
  }
} else if (updated !== readme) {
  writeFileSync('README.md', updated)
  console.log('README.md updated from action.yml and the code.')
}
