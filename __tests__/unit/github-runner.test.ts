/**
 * The GitHub Actions Runner in-process, on a typed fake of @actions/core that records what the
 * action tells the runner: log lines free of workflow commands, groups, outputs, masking, the job
 * summary only where the runner gives one, failure, resource tags from the run's variables, and the
 * pull-request comment handed to the publisher with the token masked first.
 */
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { PublishRunCommentOptions } from '../../src/pr-comment/publish.js'

const told: [string, ...unknown[]][] = []
const tell =
  (what: string) =>
  (...args: unknown[]) => {
    told.push([what, ...args])
  }
const summaryWrites: { markdown: string; eol: unknown }[] = []
const inputs: Record<string, string> = {}

jest.unstable_mockModule('@actions/core', () => ({
  getInput: (name: string) => inputs[name] ?? '',
  setOutput: tell('setOutput'),
  info: tell('info'),
  warning: tell('warning'),
  error: tell('error'),
  debug: tell('debug'),
  setSecret: tell('setSecret'),
  setFailed: tell('setFailed'),
  group: async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    told.push(['group', name])
    return fn()
  },
  summary: {
    addRaw(markdown: string, eol: unknown) {
      return {
        write: async () => {
          summaryWrites.push({ markdown, eol })
        }
      }
    }
  }
}))

const published: PublishRunCommentOptions[] = []
const fakeContext = { repo: { owner: 'contoso', repo: 'infra' }, eventName: 'pull_request' }
jest.unstable_mockModule('@actions/github', () => ({ context: fakeContext }))
jest.unstable_mockModule('../../src/pr-comment/publish.js', () => ({
  publishRunComment: async (options: PublishRunCommentOptions) => {
    published.push(options)
    options.log?.info('##[warning]posted')
    options.log?.debug('::debug::detail')
    return { outcome: 'created', url: 'https://github.com/contoso/infra/pull/7#c1' }
  }
}))

const { githubRunner } = await import('../../src/runner/github.js')

const ZWSP = '\u200b'
const savedEnv = { ...process.env }
const said = (what: string) => told.filter(([w]) => w === what).map(([, ...args]) => args)

beforeEach(() => {
  told.length = 0
  summaryWrites.length = 0
  published.length = 0
  for (const key of Object.keys(inputs)) delete inputs[key]
})

afterEach(() => {
  for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key]
  Object.assign(process.env, savedEnv)
})

describe('what the action tells the runner', () => {
  it('reads inputs and sets outputs as they are', () => {
    inputs['hsm-name'] = 'contoso-hsm'
    const runner = githubRunner()
    expect(runner.getInput('hsm-name')).toBe('contoso-hsm')
    expect(runner.getInput('account-name')).toBe('')
    runner.setOutput('key-uri', 'https://hsm/keys/k/1')
    expect(said('setOutput')).toEqual([['key-uri', 'https://hsm/keys/k/1']])
  })

  it('logs every line with no workflow command in it', () => {
    const runner = githubRunner()
    runner.info('::set-output name=x::1')
    runner.warning('  ::error::no')
    runner.error('##[group]x')
    runner.debug('plain')
    runner.setFailed('::stop-commands::t')
    expect(said('info')).toEqual([[`${ZWSP}::set-output name=x::1`]])
    expect(said('warning')).toEqual([[`  ${ZWSP}::error::no`]])
    expect(said('error')).toEqual([[`${ZWSP}##[group]x`]])
    expect(said('debug')).toEqual([['plain']])
    expect(said('setFailed')).toEqual([[`${ZWSP}::stop-commands::t`]])
  })

  it('groups a phase under a name with no workflow command, and answers what the phase did', async () => {
    await expect(githubRunner().group('::endgroup::', async () => 42)).resolves.toBe(42)
    expect(said('group')).toEqual([[`${ZWSP}::endgroup::`]])
  })

  it('masks a secret as it is', () => {
    githubRunner().setSecret('s3cret')
    expect(said('setSecret')).toEqual([['s3cret']])
  })

  it('writes the summary only where the runner gives a summary file', async () => {
    delete process.env.GITHUB_STEP_SUMMARY
    await githubRunner().summary('# Not written')
    expect(summaryWrites).toEqual([])
    process.env.GITHUB_STEP_SUMMARY = '/tmp/summary.md'
    await githubRunner().summary('# Written')
    expect(summaryWrites).toEqual([{ markdown: '# Written', eol: true }])
  })

  it('asks again for an ID token the endpoint refused, and says so in the debug log', async () => {
    let asked = 0
    const endpoint = createServer((_, res) => {
      asked++
      if (asked === 1) res.writeHead(503).end('busy')
      else res.end('{"value":"the-id-token"}')
    })
    await new Promise<void>(resolve => endpoint.listen(0, '127.0.0.1', resolve))
    const { port } = endpoint.address() as AddressInfo
    process.env.ACTIONS_ID_TOKEN_REQUEST_URL = `http://127.0.0.1:${port}/token?api-version=2.0`
    process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = 'runner-bearer'
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] })
    try {
      const token = githubRunner().getIdToken('api://AzureADTokenExchange')
      // The refusal arrives over a real connection; the backoff before asking again is a timer.
      for (let turn = 0; turn < 10_000 && jest.getTimerCount() === 0; turn++) {
        await new Promise(resolve => setImmediate(resolve))
      }
      await jest.advanceTimersByTimeAsync(1_000)
      await expect(token).resolves.toBe('the-id-token')
    } finally {
      jest.useRealTimers()
      await new Promise(resolve => endpoint.close(resolve))
    }
    expect(asked).toBe(2)
    expect(said('debug')).toEqual([
      ["Getting an ID token failed (The runner's ID token endpoint answered 503: busy); retrying."]
    ])
  })

  it('asks for no ID token where the runner gives no endpoint', async () => {
    process.env.ACTIONS_ID_TOKEN_REQUEST_URL = ''
    await expect(githubRunner().getIdToken('api://AzureADTokenExchange')).rejects.toThrow(
      'Unable to get ACTIONS_ID_TOKEN_REQUEST_URL env variable'
    )
  })
})

describe('resourceTags', () => {
  const tags = () => githubRunner().resourceTags()

  it('says only what created the resource outside a workflow run', () => {
    delete process.env.GITHUB_REPOSITORY
    process.env.GITHUB_RUN_ID = '42'
    expect(tags()).toEqual({ 'created-by': 'cosmos-cmk-hsm-action' })
  })

  it('names the repository and the run on the default server', () => {
    process.env.GITHUB_REPOSITORY = 'contoso/infra'
    process.env.GITHUB_RUN_ID = '1234'
    delete process.env.GITHUB_SERVER_URL
    expect(tags()).toEqual({
      'created-by': 'cosmos-cmk-hsm-action',
      'github-repository': 'contoso/infra',
      'github-run-url': 'https://github.com/contoso/infra/actions/runs/1234'
    })
  })

  it("names the run on the runner's own server", () => {
    process.env.GITHUB_REPOSITORY = 'contoso/infra'
    process.env.GITHUB_RUN_ID = '7'
    process.env.GITHUB_SERVER_URL = 'https://ghe.contoso.com'
    expect(tags()['github-run-url']).toBe('https://ghe.contoso.com/contoso/infra/actions/runs/7')
    process.env.GITHUB_SERVER_URL = ''
    expect(tags()['github-run-url']).toBe('https://github.com/contoso/infra/actions/runs/7')
  })

  it.each([[undefined], [''], ['12a'], ['a12'], ['1 2']])(
    'leaves out the run for a run id %j that is not a number',
    runId => {
      process.env.GITHUB_REPOSITORY = 'contoso/infra'
      if (runId === undefined) delete process.env.GITHUB_RUN_ID
      else process.env.GITHUB_RUN_ID = runId
      expect(tags()).toEqual({
        'created-by': 'cosmos-cmk-hsm-action',
        'github-repository': 'contoso/infra'
      })
    }
  )
})

describe('commentOnPullRequest', () => {
  const comment = { markdown: '## Plan', account: 'acct', environment: 'pr-7' }

  it('writes no comment without a token, and says why', async () => {
    await expect(githubRunner().commentOnPullRequest!(comment)).resolves.toEqual({
      outcome: 'skipped',
      reason: 'no github-token was given, so no pull-request comment was written'
    })
    await expect(githubRunner().commentOnPullRequest!({ ...comment, token: '' })).resolves.toEqual(
      expect.objectContaining({ outcome: 'skipped' })
    )
    expect(published).toEqual([])
    expect(said('setSecret')).toEqual([])
  })

  it("masks the token, then hands the comment to the publisher with the run's context", async () => {
    const outcome = await githubRunner().commentOnPullRequest!({ ...comment, token: 'ghs_token' })
    expect(outcome).toEqual({
      outcome: 'created',
      url: 'https://github.com/contoso/infra/pull/7#c1'
    })
    expect(said('setSecret')).toEqual([['ghs_token']])
    expect(published).toHaveLength(1)
    const [options] = published
    expect(options).toEqual(
      expect.objectContaining({
        token: 'ghs_token',
        context: fakeContext,
        body: '## Plan',
        marker: { account: 'acct', environment: 'pr-7' }
      })
    )
    expect(said('info')).toEqual([[`${ZWSP}##[warning]posted`]])
    expect(said('debug')).toEqual([[`${ZWSP}::debug::detail`]])
    expect(told.findIndex(([w]) => w === 'setSecret')).toBe(0)
  })
})
