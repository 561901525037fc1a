/**
 * `npm run build:task`: the Azure Pipelines task in task/: task.json generated from action.yml
 * (scripts/task-manifest.ts), the ncc bundle of src/task.ts in task/dist/ (the target of both the
 * Node24 and the Node20_1 handler), and azure-pipelines-task-lib's lib.json next to it.
 * `--check` writes nothing and fails when task.json differs from what action.yml makes of it.
 */
import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { TASK_TARGET, taskManifestText } from './task-manifest.js'

const TASK_DIR = 'task'
const manifestPath = join(TASK_DIR, 'task.json')
const manifest = await taskManifestText()

if (process.argv.includes('--check')) {
  const current = existsSync(manifestPath) ? readFileSync(manifestPath, 'utf8') : ''
  if (current !== manifest) {
    console.error(
      `${manifestPath} does not match action.yml: run 'npm run build:task' and commit it.`
    )
    process.exit(1)
  }
  console.log(`${manifestPath} matches action.yml.`)
  process.exit(0)
}

writeFileSync(manifestPath, manifest)
const bundleDir = join(TASK_DIR, dirname(TASK_TARGET))
const ncc = join('node_modules', '.bin', 'ncc')
// A clean folder, so that no chunk of an earlier build stays beside the new ones.
rmSync(bundleDir, { recursive: true, force: true })
execFileSync(
  ncc,
  ['build', 'src/task.ts', '-o', bundleDir, '--license', 'licenses.txt', '--target', 'es2022'],
  { stdio: 'inherit' }
)
const taskLib = dirname(
  createRequire(import.meta.url).resolve('azure-pipelines-task-lib/package.json')
)
copyFileSync(join(taskLib, 'lib.json'), join(bundleDir, 'lib.json'))
console.log(`${TASK_DIR}/ built: task.json, ${TASK_TARGET}, lib.json.`)
