/**
 * No secret ever reaches what the action writes. Every byte of stdout, stderr, the outputs file
 * and the job summary is searched, over successful runs, failures and a plan, for each token the
 * local Azure issued (access tokens, GitHub ID tokens, which are also the client assertions), the
 * runner's ID-token request token, and anything JWT-shaped. The only place a token may appear is
 * an `::add-mask::` command line: the runner consumes it to learn what to mask, and every token
 * the action received must be announced there.
 */
import { beforeAll, describe, expect, test } from '@jest/globals'
import {
  hsmOf,
  preparedScenario,
  REQUEST_TIMEOUT_MS,
  secretLeaks,
  startEach,
  withLab,
  visibleOutput,
  type ActionRun,
  type Emulator,
  type IdentityMode,
  type IssuedTokens,
  type Scenario
} from '../../testkit/index.js'

interface SecretCase {
  name: string
  scenario?: (s: Scenario) => void
  mode?: IdentityMode
  inputs?: Record<string, string>
  runnerEnv?: Record<string, string>
  before?: (emulator: Emulator) => void
  /** How many times the action runs against the same local Azure. */
  runs?: number
  succeeds: boolean
}

const cases: SecretCase[] = [
  {
    name: 'success, then the no-op re-run',
    runs: 2,
    succeeds: true
  },
  {
    name: 'success with throttled, failing and cut-off sign-ins',
    scenario: s => {
      s.faults = [
        { kind: 'throttle', host: 'login.microsoftonline.com', rate: 0.3 },
        { kind: 'server-error', host: 'login.microsoftonline.com', rate: 0.2, status: 500 },
        { kind: 'reset', host: 'login.microsoftonline.com', rate: 0.1 }
      ]
    },
    succeeds: true
  },
  {
    name: 'success with the SDK and the runner logging verbosely',
    mode: 'first-party',
    runnerEnv: { AZURE_LOG_LEVEL: 'verbose', ACTIONS_STEP_DEBUG: 'true', RUNNER_DEBUG: '1' },
    succeeds: true
  },
  {
    name: 'plan mode',
    inputs: { mode: 'plan' },
    succeeds: true
  },
  {
    name: 'failure: federated credential mismatch',
    before: emulator => emulator.setGitHubSubject('repo:contoso/cosmos-cmk:pull_request_target'),
    succeeds: false
  },
  {
    name: 'failure: Graph denied',
    mode: 'first-party',
    scenario: s => {
      s.applications![0].canReadDirectory = false
    },
    succeeds: false
  },
  {
    name: 'failure: the HSM refuses the pipeline (not an administrator)',
    scenario: s => {
      hsmOf(s).initialAdminObjectIds = ['11111111-2222-4333-8444-555555555555']
    },
    succeeds: false
  }
]

interface Outcome {
  runs: ActionRun[]
  issued: IssuedTokens
  requestToken: string
}

function runCase(c: SecretCase): Promise<Outcome> {
  return withLab(preparedScenario(c.scenario), async lab => {
    c.before?.(lab.emulator)
    const runs: ActionRun[] = []
    for (let i = 0; i < (c.runs ?? 1); i++) {
      const inputs = lab.inputs('secret-acct', c.mode ?? 'system-assigned', c.inputs)
      runs.push(
        await lab.run(inputs, { runnerEnv: c.runnerEnv, requestTimeoutMs: REQUEST_TIMEOUT_MS })
      )
    }
    return {
      runs,
      issued: lab.emulator.tokens.issued(),
      requestToken: lab.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN
    }
  })
}

let outcomes: Map<string, Promise<Outcome>>

beforeAll(() => {
  outcomes = startEach(cases, c => c.name, runCase)
})

function masked(result: ActionRun): Set<string> {
  return new Set(
    result.stdout
      .split('\n')
      .filter(line => line.startsWith('::add-mask::'))
      .map(line => line.slice('::add-mask::'.length).trim())
  )
}

describe('secrets never reach the log, the outputs, the summary or an error message', () => {
  test.each(cases)(
    '$name',
    async c => {
      const { runs, issued, requestToken } = await outcomes.get(c.name)!
      for (const result of runs) {
        expect(result.code === 0).toBe(c.succeeds)
        expect(secretLeaks(result, issued, [requestToken])).toEqual([])
      }
      // The action did receive tokens, so the search above had something to find...
      expect(issued.idTokens.length).toBeGreaterThan(0)
      // ...and the runner was told to mask every one of them.
      const announced = new Set(runs.flatMap(r => [...masked(r)]))
      const received = [...issued.idTokens, ...issued.accessTokens]
      expect(received.filter(token => !announced.has(token))).toEqual([])
      // Nothing but tokens is announced for masking.
      for (const value of announced) expect(value).toMatch(/^eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+$/)
    },
    120_000
  )

  test('the search itself finds a token that is printed', async () => {
    const { runs, issued } = await outcomes.get(cases[0].name)!
    const token = issued.accessTokens[0]
    const leaky: ActionRun = { ...runs[0], summary: `${runs[0].summary}\n${token}` }
    expect(secretLeaks(leaky, issued)).not.toEqual([])
    const signatureOnly: ActionRun = { ...runs[0], stderr: token.split('.')[2] }
    expect(secretLeaks(signatureOnly, issued)).not.toEqual([])
    // An ::add-mask:: command is a runner command; the same text anywhere else is a leak.
    expect(visibleOutput(runs[0]).stdout).not.toContain('::add-mask::')
    const inText: ActionRun = { ...runs[0], stdout: `note ::add-mask::${token}` }
    expect(secretLeaks(inText, issued)).not.toEqual([])
  })
})
