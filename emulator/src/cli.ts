import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { exportLines, startEmulator } from './index.js'

const USAGE = `Usage: npm run emulator -- [options]

Starts the local Azure in the foreground: an HTTPS proxy on 127.0.0.1 that serves Azure's host
names from an offline emulator, plus an admin API at http://127.0.0.1:<port>/_emulator/.
Prints the shell variables a client needs (eval them, or use --env-file).

Options:
  --port N          port to listen on (default 0: any free port)
  --scenario FILE   scenario JSON (default emulator/scenarios/default.json)
  --state-dir DIR   where the CA, its host certificates and the signing keys are kept
                    (default .emulator-state)
  --env-file FILE   also write the export lines to FILE once listening (alias --write-env;
                    Node itself also reads --env-file and stops when FILE does not exist yet,
                    unless the options follow a '--')
  --help            show this help
`

async function main(): Promise<void> {
  let values
  try {
    // A leading '--' keeps Node from treating --env-file as its own option.
    const args = process.argv.slice(2)
    if (args[0] === '--') args.shift()
    values = parseArgs({
      args,
      options: {
        port: { type: 'string' },
        scenario: { type: 'string' },
        'state-dir': { type: 'string' },
        'env-file': { type: 'string' },
        'write-env': { type: 'string' },
        help: { type: 'boolean' }
      },
      strict: true
    }).values
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${USAGE}`)
    process.exit(2)
  }
  if (values.help) {
    process.stdout.write(USAGE)
    return
  }
  const port = values.port === undefined ? 0 : Number(values.port)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`--port must be a port number, got '${values.port}'\n`)
    process.exit(2)
  }
  const emulator = await startEmulator({
    port,
    scenario: values.scenario,
    stateDir: values['state-dir'],
    quiet: true
  })
  const lines = exportLines(emulator.env)
  const envFile = values['env-file'] ?? values['write-env']
  if (envFile) writeFileSync(envFile, `${lines}\n`)
  process.stdout.write(`${lines}\n`)
  process.stderr.write(
    `# Local Azure listening on ${emulator.proxyUrl}; admin API ${emulator.adminUrl}/health\n` +
      `# CA certificate: ${emulator.caCertPath}\n# Stop with Ctrl+C.\n`
  )
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    process.stderr.write(`# ${signal}: stopping the local Azure\n`)
    void emulator.stop().then(() => process.exit(0))
  }
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGTERM', () => stop('SIGTERM'))
}

main().catch(e => {
  process.stderr.write(`${(e as Error)?.message ?? e}\n`)
  process.exit(1)
})
