/**
 * `npm run demo`: the whole procedure, run by the bundled action (dist/index.js) exactly as a
 * GitHub runner runs it, against the local Azure started from the default scenario. Prints every
 * step and the outputs, then re-runs with the same inputs to show that nothing changes.
 *
 *   npm run demo -- [--identity-mode first-party|user-assigned|system-assigned] [--keep-running]
 *
 * `--azure-pipelines` runs the Azure Pipelines task (task/dist/index.js) instead, as an agent runs
 * it: the job's variables, the default scenario's workload identity federation service connection,
 * and the proxy and CA as a self-hosted agent's Agent.ProxyUrl and Agent.CAInfo.
 */
import { parseArgs } from 'node:util'
import {
  actionInputs,
  agentEnvOf,
  runTask,
  taskInputs,
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
    'keep-running': { type: 'boolean', default: false },
    'azure-pipelines': { type: 'boolean', default: false }
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

/** How a CI host's log view treats the commands a step writes to its stdout. */
interface LogCommands {
  /** Every command starts with this; the host consumes it (a mask is registered, never shown). */
  prefix: string
  group: string
  warning: RegExp
}

/** The runner's workflow commands (`::add-mask::` registers a secret), groups become headings. */
const runnerCommands: LogCommands = {
  prefix: '::',
  group: '::group::',
  warning: /^::warning[^:]*::/
}

/** The agent's logging commands (`task.setsecret` registers a secret), groups become headings. */
const agentCommands: LogCommands = {
  prefix: '##',
  group: '##[group]',
  warning: /^##vso\[task\.issue type=warning[^\]]*\]/
}

/** Shows a step's stdout as the host's log view would. */
function logView(commands: LogCommands): (chunk: string) => void {
  let pending = ''
  return chunk => {
    pending += chunk
    const lines = pending.split('\n')
    pending = lines.pop() ?? ''
    for (const line of lines) {
      if (line.startsWith(commands.group))
        console.log(`\x1b[36m> ${line.slice(commands.group.length)}\x1b[0m`)
      else if (commands.warning.test(line))
        console.log(`\x1b[33mwarning: ${line.replace(commands.warning, '')}\x1b[0m`)
      else if (!line.startsWith(commands.prefix)) console.log(`  ${line}`)
    }
  }
}

/** The same procedure through the Azure Pipelines task, run twice; answers the exit code. */
async function azurePipelinesDemo(): Promise<number> {
  const agent = agentEnvOf(lab)
  const connection = agent.AZURE_DEVOPS_SERVICE_CONNECTION
  console.log(
    `\nAzure DevOps: ${agent.SYSTEM_COLLECTIONURI}${agent.SYSTEM_TEAMPROJECT}, service connection ` +
      `${connection} (${agent[`ENDPOINT_AUTH_SCHEME_${connection}`]}); proxy and CA as Agent.ProxyUrl / Agent.CAInfo`
  )
  const inputs = taskInputs(agent, 'cosmos-cmk-demo', identityMode)
  try {
    rule(`Task run 1: identityMode ${identityMode}`)
    const first = await runTask(inputs, { env: agent, onStdout: logView(agentCommands) })
    process.stderr.write(first.stderr)
    if (first.result !== 'Succeeded') throw new Error(`the task ended ${first.result}`)
    rule('Output variables')
    for (const [name, value] of Object.entries(first.variables)) {
      console.log(`${name.padEnd(30)} ${value}`)
    }
    console.log(`\nsummary attached as '${first.summaries[0]?.name}'`)
    const firstRequests = emulator.requests()
    console.log(
      `${firstRequests.length} requests (${firstRequests.filter(r => r.kind === 'write').length} writes) in ${(first.durationMs / 1000).toFixed(1)} s`
    )
    rule('Task run 2: the same inputs again')
    emulator.clearRequests()
    const second = await runTask(inputs, { env: agent })
    if (second.result !== 'Succeeded') {
      logView(agentCommands)(second.stdout)
      throw new Error(`the re-run ended ${second.result}`)
    }
    const again = emulator.requests()
    console.log(
      `changed=${second.variables.changed}; ${again.length} requests, ` +
        `${again.filter(r => r.kind === 'write').length} writes, in ${(second.durationMs / 1000).toFixed(1)} s`
    )
    return 0
  } catch (error) {
    console.error(`\ndemo failed: ${(error as Error).message}`)
    return 1
  }
}

/** With --keep-running after a good run, the local Azure stays up until Ctrl-C; then it stops. */
async function finish(code: number): Promise<never> {
  if (values['keep-running'] && code === 0) {
    rule('Still running')
    console.log('The local Azure keeps the state above until Ctrl-C.')
    await new Promise<void>(resolve => process.once('SIGINT', () => resolve()))
  }
  await lab.stop()
  process.exit(code)
}

if (values['azure-pipelines']) await finish(await azurePipelinesDemo())

let exitCode = 0
try {
  rule(`Run 1: identity-mode ${identityMode}`)
  const first = await runAction(inputs, { env, onStdout: logView(runnerCommands) })
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
    logView(runnerCommands)(second.stdout)
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
await finish(exitCode)
