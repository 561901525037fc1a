import type { Runner } from './runner.js'

/** A runner that keeps everything in memory: for tests and for embedding the action elsewhere. */
export interface MemoryRunner extends Runner {
  inputs: Record<string, string>
  outputs: Record<string, string>
  /** `level: message`, unmasked, so tests can assert that no secret was ever logged. */
  logs: string[]
  secrets: string[]
  summaries: string[]
  failed?: string
}

export function createMemoryRunner(options: {
  inputs: Record<string, string>
  getIdToken?: (audience: string) => Promise<string>
  tags?: Record<string, string>
  /** Also print the log lines (to stderr). */
  echo?: boolean
}): MemoryRunner {
  const runner: MemoryRunner = {
    inputs: { ...options.inputs },
    outputs: {},
    logs: [],
    secrets: [],
    summaries: [],
    getInput: name => (runner.inputs[name] ?? '').trim(),
    setOutput: (name, value) => {
      runner.outputs[name] = value
    },
    info: message => log('info', message),
    warning: message => log('warning', message),
    error: message => log('error', message),
    debug: message => log('debug', message),
    group: async (name, fn) => {
      log('group', name)
      return fn()
    },
    setSecret: value => {
      runner.secrets.push(value)
    },
    getIdToken: async audience => {
      if (!options.getIdToken) throw new Error('This runner cannot issue OIDC ID tokens.')
      return options.getIdToken(audience)
    },
    summary: async markdown => {
      runner.summaries.push(markdown)
    },
    setFailed: message => {
      runner.failed = message
      log('error', message)
    },
    resourceTags: () => ({ 'created-by': 'cosmos-cmk-hsm-action', ...options.tags })
  }
  function log(level: string, message: string) {
    runner.logs.push(`${level}: ${message}`)
    if (options.echo) process.stderr.write(`${level}: ${message}\n`)
  }
  return runner
}
