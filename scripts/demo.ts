/**
 * `npm run demo`: the whole procedure, run by the bundled action (dist/index.js) exactly as a
 * GitHub runner runs it, against the local Azure started from the default scenario. Prints every
 * step and the outputs, then re-runs with the same inputs to show that nothing changes.
 *
 *   npm run demo -- [--identity-mode first-party|user-assigned|system-assigned] [--keep-running]
 */
import { parseArgs } from 'node:util'
import {
  actionInputs,
  defaultScenario,
  exportLines,
  identityModes,
  runAction,
  startLab,
  type IdentityMode
} from '../testkit/index.js'

const { values } = parseArgs({
  options: {
    'identity-mode': { type: 'string', default: 'system-assigned' },
    'keep-running': { type: 'boolean', default: false }
  }
})
const identityMode = (values['identity-mode'] ?? 'system-assigned') as IdentityMode
if (!identityModes.includes(identityMode)) {
  console.error(`--identity-mode must be one of ${identityModes.join(', ')}`)
  process.exit(2)
}

// The default scenario as it is, delays included, as a newcomer would meet it.
const lab = await startLab(defaultScenario())
const emulator = lab.emulator
const env = lab.env
const rule = (title: string) =>
  console.log(`\n\x1b[1m== ${title} ${'='.repeat(Math.max(0, 70 - title.length))}\x1b[0m`)

rule('Local Azure')
console.log(`listening on ${emulator.proxyUrl}; a client needs:`)
console.log(exportLines(env))

const inputs = actionInputs(env, 'cosmos-cmk-demo', identityMode)

/**
 * Shows the action's stdout as a runner's log view would: workflow commands are consumed by the
 * runner (`::add-mask::` registers a secret and is never displayed), groups become headings.
 */
function runnerView(): (chunk: string) => void {
  let pending = ''
  return chunk => {
    pending += chunk
    const lines = pending.split('\n')
    pending = lines.pop() ?? ''
    for (const line of lines) {
      if (line.startsWith('::group::')) console.log(`\x1b[36m> ${line.slice(9)}\x1b[0m`)
      else if (line.startsWith('::warning'))
        console.log(`\x1b[33mwarning: ${line.replace(/^::warning[^:]*::/, '')}\x1b[0m`)
      else if (!line.startsWith('::')) console.log(`  ${line}`)
    }
  }
}

let exitCode = 0
try {
  rule(`Run 1: identity-mode ${identityMode}`)
  const first = await runAction(inputs, { env, onStdout: runnerView() })
  process.stderr.write(first.stderr)
  if (first.code !== 0) throw new Error(`the action failed with exit code ${first.code}`)
  rule('Outputs')
  for (const [name, value] of Object.entries(first.outputs))
    console.log(`${name.padEnd(30)} ${value}`)
  const firstRequests = emulator.requests()
  console.log(
    `\n${firstRequests.length} requests (${firstRequests.filter(r => r.kind === 'write').length} writes) in ${(first.durationMs / 1000).toFixed(1)} s`
  )

  rule('Run 2: the same inputs again')
  emulator.clearRequests()
  const second = await runAction(inputs, { env })
  if (second.code !== 0) {
    runnerView()(second.stdout)
    throw new Error(`the re-run failed with exit code ${second.code}`)
  }
  const again = emulator.requests()
  console.log(
    `changed=${second.outputs.changed}; ${again.length} requests, ` +
      `${again.filter(r => r.kind === 'write').length} writes, in ${(second.durationMs / 1000).toFixed(1)} s`
  )
} catch (error) {
  console.error(`\ndemo failed: ${(error as Error).message}`)
  exitCode = 1
}

if (values['keep-running'] && exitCode === 0) {
  rule('Still running')
  console.log('The local Azure keeps the state above until Ctrl-C.')
  await new Promise<void>(resolve => process.once('SIGINT', () => resolve()))
}
await lab.stop()
process.exit(exitCode)
