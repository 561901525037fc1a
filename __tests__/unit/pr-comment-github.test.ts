/**
 * The run comment against the local GitHub REST API: the real Octokit of `@actions/github`, its
 * `context` read from a pull_request event file, through the local Azure's HTTPS proxy.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import {
  applyEnv,
  defaultScenario,
  startEmulator,
  trustEmulatorCa,
  type Emulator,
  type RequestLogEntry,
  type Scenario
} from '../../emulator/src/index.js'
import type { Clock } from '../../src/clock.js'

type PrComment = typeof import('../../src/pr-comment/index.js')
type GitHub = typeof import('@actions/github')

const KEY = { account: 'cosmos-pr-12', environment: 'pr-12' }
const USER_TOKEN = 'ghp_octocatOctocatOctocatOctocat0123'
const FORK_SHA = 'e'.repeat(40)

function scenario(marker: string): Scenario {
  const s = defaultScenario()
  s.github = {
    ...s.github!,
    pullRequests: [
      { number: 12 },
      { number: 13, headRepository: 'mallory/cosmos-cmk', headRef: 'feature', headSha: FORK_SHA },
      { number: 15 }
    ],
    comments: [
      ...Array.from({ length: 150 }, (_, i) => ({ issue: 12, body: `review note ${i + 1}` })),
      { issue: 12, body: `${marker}\nforged by someone else`, login: 'mallory' },
      { issue: 12, body: `${marker}\nwritten with a personal token`, login: 'octocat' }
    ],
    userTokens: [{ token: USER_TOKEN, login: 'octocat' }]
  }
  return s
}

let emulator: Emulator
let restoreEnv: () => void
let dir: string
let pr: PrComment
let github: GitHub
const sleeps: number[] = []
/** Sleeping moves the local Azure's clock, so that rate-limit waits take no time. */
const clock: Clock = {
  now: () => emulator.now(),
  sleep: async ms => {
    sleeps.push(ms)
    emulator.advanceClock(ms)
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pr-comment-'))
  // @actions/github reads the proxy, GITHUB_API_URL and the event when it is first imported.
  const { commentMarker } = await import('../../src/pr-comment/marker.js')
  emulator = await startEmulator({
    port: 0,
    stateDir: join(dir, 'state'),
    scenario: scenario(commentMarker(KEY)),
    quiet: true
  })
  trustEmulatorCa(emulator.caCertPem)
  const eventPath = join(dir, 'event.json')
  writeFileSync(
    eventPath,
    JSON.stringify({ action: 'synchronize', number: 12, pull_request: { number: 12 } })
  )
  restoreEnv = applyEnv({
    ...emulator.env,
    GITHUB_REPOSITORY: 'contoso/cosmos-cmk',
    GITHUB_EVENT_NAME: 'pull_request',
    GITHUB_EVENT_PATH: eventPath
  })
  github = await import('@actions/github')
  pr = await import('../../src/pr-comment/index.js')
})

afterAll(async () => {
  restoreEnv?.()
  await emulator?.stop()
  rmSync(dir, { recursive: true, force: true })
})

beforeEach(() => {
  emulator.reset()
  sleeps.length = 0
})

function publish(o: Partial<Parameters<PrComment['publishRunComment']>[0]> = {}) {
  return pr.publishRunComment({
    token: emulator.env.GITHUB_TOKEN!,
    context: github.context,
    body: 'Apply would change nothing.',
    marker: KEY,
    clock,
    ...o
  })
}

function apiCalls(since: number): string[] {
  return emulator
    .requests(since)
    .filter((r: RequestLogEntry) => r.host === 'api.github.com')
    .map(r => `${r.method} ${r.path}${r.query.page ? `?page=${r.query.page}` : ''} ${r.status}`)
}

function lastSeq(): number {
  return emulator.requests().at(-1)?.seq ?? 0
}

function commentsOn(n: number) {
  return emulator.store.world.github!.comments.filter(c => c.issueNumber === n)
}

describe('the run comment on the local GitHub', () => {
  it('creates it once after reading every page, then updates it in place', async () => {
    const repositoryId = emulator.github().repositoryId
    const before = lastSeq()
    const first = await publish({ body: 'first run' })
    expect(first).toMatchObject({ outcome: 'created', pullRequest: { number: 12 } })
    expect(first.url).toMatch(/^https:\/\/github\.com\/contoso\/cosmos-cmk\/pull\/12#issuecomment-/)
    expect(apiCalls(before)).toEqual([
      'GET /repos/contoso/cosmos-cmk/issues/12/comments 200',
      `GET /repositories/${repositoryId}/issues/12/comments?page=2 200`,
      'POST /repos/contoso/cosmos-cmk/issues/12/comments 201'
    ])

    const middle = lastSeq()
    const second = await publish({ body: 'second run' })
    expect(second).toMatchObject({ outcome: 'updated', commentId: first.commentId })
    expect(apiCalls(middle).at(-1)).toBe(
      `PATCH /repos/contoso/cosmos-cmk/issues/comments/${first.commentId} 200`
    )
    const ours = commentsOn(12).filter(c => c.user.login === 'github-actions[bot]')
    expect(ours.filter(c => c.body.includes('run'))).toHaveLength(1)
    expect(ours.find(c => c.id === first.commentId)!.body).toBe(
      `${pr.commentMarker(KEY)}\nsecond run`
    )
    const others = commentsOn(12).filter(c => c.user.login !== 'github-actions[bot]')
    expect(others.map(c => c.body.split('\n')[1])).toEqual([
      'forged by someone else',
      'written with a personal token'
    ])
  })

  it("updates a personal token's own comment, found through GET /user", async () => {
    const before = lastSeq()
    const result = await publish({ token: USER_TOKEN, body: 'from octocat' })
    expect(result.outcome).toBe('updated')
    expect(apiCalls(before)[0]).toBe('GET /user 200')
    const octocats = commentsOn(12).filter(c => c.user.login === 'octocat')
    expect(octocats.map(c => c.body)).toEqual([`${pr.commentMarker(KEY)}\nfrom octocat`])
  })

  it('degrades to read-only with a read-only GITHUB_TOKEN, writing nothing', async () => {
    emulator.github({ tokenPermission: 'read' })
    const count = emulator.store.world.github!.comments.length
    const result = await publish()
    expect(result.outcome).toBe('read-only')
    expect(result.reason).toContain('Resource not accessible by integration')
    expect(emulator.store.world.github!.comments).toHaveLength(count)
  })

  it("finds a fork's pull request from a workflow_run by its head", async () => {
    const context = {
      eventName: 'workflow_run',
      payload: {
        workflow_run: {
          event: 'pull_request',
          head_branch: 'feature',
          head_sha: FORK_SHA,
          head_repository: { full_name: 'mallory/cosmos-cmk', owner: { login: 'mallory' } },
          pull_requests: []
        }
      },
      repo: { owner: 'contoso', repo: 'cosmos-cmk' },
      apiUrl: emulator.env.GITHUB_API_URL!
    }
    const result = await publish({ context })
    expect(result).toMatchObject({ outcome: 'created', pullRequest: { number: 13 } })
    expect(commentsOn(13)).toHaveLength(1)
  })

  it('passes the run’s signal on: requests go out while it is live and stop once aborted', async () => {
    const controller = new AbortController()
    expect((await publish({ signal: controller.signal })).outcome).toBe('created')
    controller.abort()
    const before = lastSeq()
    const error = await publish({ signal: controller.signal }).catch(e => e)
    expect(error.name).toBe('AbortError')
    expect(apiCalls(before)).toEqual([])
  })

  it('fails for a personal token GitHub does not know, naming what it asked', async () => {
    const token = `ghp_${'Y'.repeat(36)}`
    const error = await publish({ token }).catch(e => e)
    expect(error).toBeInstanceOf(pr.PullRequestCommentError)
    expect(error.message).toMatch(/401 \(Bad credentials\) when asked to read the token's user/)
    expect(error.message).not.toContain(token)
  })

  it('fails for a token GitHub does not know, without showing it', async () => {
    const token = `ghs_${'Z'.repeat(36)}`
    const error = await publish({ token }).catch(e => e)
    expect(error).toBeInstanceOf(pr.PullRequestCommentError)
    expect(error.message).toMatch(/401 \(Bad credentials\).*not valid/)
    expect(error.message).not.toContain(token)
  })
})

describe('the run comment within GitHub’s rate limits', () => {
  const on15 = (o: Partial<Parameters<PrComment['publishRunComment']>[0]> = {}) =>
    publish({ pullRequestNumber: 15, ...o })

  it('waits for the reset when the primary limit runs out, then writes', async () => {
    emulator.github({ remaining: 1 })
    const before = lastSeq()
    const result = await on15({ maxRateLimitWaitMs: 2 * 3600_000 })
    expect(result.outcome).toBe('created')
    expect(sleeps).toHaveLength(1)
    expect(sleeps[0]).toBeGreaterThan(3590_000)
    expect(sleeps[0]).toBeLessThanOrEqual(3602_000)
    // the write was held back, not sent to be refused
    expect(apiCalls(before)).toEqual([
      'GET /repos/contoso/cosmos-cmk/issues/15/comments 200',
      'POST /repos/contoso/cosmos-cmk/issues/15/comments 201'
    ])
  })

  it('gives up at once, sending nothing more, when the reset is further away than allowed', async () => {
    emulator.github({ remaining: 1 })
    const before = lastSeq()
    const error = await on15().catch(e => e)
    expect(error).toBeInstanceOf(pr.PullRequestCommentError)
    expect(error.message).toMatch(/primary rate limit used up.*90 s allowed/)
    expect(sleeps).toEqual([])
    expect(apiCalls(before)).toHaveLength(1)
    expect(commentsOn(15)).toHaveLength(0)
  })

  it('waits out a secondary limit as Retry-After says, and says so in the log', async () => {
    emulator.github({ secondaryLimitSeconds: 5, rateLimit: { status: 429 } })
    const before = lastSeq()
    const info: string[] = []
    const result = await on15({ log: { info: m => info.push(m), debug: () => {} } })
    expect(result.outcome).toBe('created')
    expect(sleeps).toEqual([5_000])
    expect(info).toEqual([
      'GitHub rate limit (429, Retry-After): waiting 5 s before GET https://api.github.com/repos/contoso/cosmos-cmk/issues/15/comments?per_page=100.'
    ])
    expect(apiCalls(before)).toEqual([
      'GET /repos/contoso/cosmos-cmk/issues/15/comments 429',
      'GET /repos/contoso/cosmos-cmk/issues/15/comments 200',
      'POST /repos/contoso/cosmos-cmk/issues/15/comments 201'
    ])
  })
})
