import { describe, expect, it } from '@jest/globals'
import {
  GitHubApiError,
  MAX_COMMENT_LENGTH,
  PullRequestCommentError,
  commentMarker,
  publishRunComment,
  type CommentApi,
  type IssueComment,
  type PublishRunCommentOptions,
  type PullRequestRef,
  type RepoRef,
  type RunContext
} from '../../src/pr-comment/index.js'
import { fakeJwt } from './fakes.js'

const REPO = { owner: 'contoso', repo: 'cosmos-cmk' }
const BOT = 'github-actions[bot]'
const KEY = { account: 'cosmos-pr-12', environment: 'pr-12' }
const DENIED = 'Resource not accessible by integration'

interface StoredComment extends IssueComment {
  pr: number
}

/** GitHub's REST API as far as publishing needs it, in memory, with a token of one permission. */
class FakeGitHub implements CommentApi {
  comments: StoredComment[] = []
  pulls: { number: number; head: string; headSha: string }[] = []
  calls: string[] = []
  /** The token's user; undefined for an installation token. */
  login: string | undefined = undefined
  permission: 'write' | 'read' | 'none' = 'write'
  /** Answers every request with this status. */
  failWith?: { status: number; message: string }
  private nextId = 900

  seed(pr: number, body: string, author: string | undefined = BOT): StoredComment {
    const comment = {
      pr,
      id: this.nextId++,
      body,
      author,
      url: `https://github.com/c/${this.nextId}`
    }
    this.comments.push(comment)
    return comment
  }

  on(pr: number): StoredComment[] {
    return this.comments.filter(c => c.pr === pr)
  }

  private check(operation: string, needs: 'read' | 'write'): void {
    this.calls.push(operation)
    if (this.failWith) {
      throw new GitHubApiError(operation, this.failWith.status, this.failWith.message)
    }
    const allowed = this.permission === 'write' || (needs === 'read' && this.permission === 'read')
    if (!allowed) throw new GitHubApiError(operation, 403, DENIED)
  }

  async tokenLogin(): Promise<string | undefined> {
    this.calls.push('user')
    return this.login
  }

  async findComment(
    pr: PullRequestRef,
    match: (c: IssueComment) => boolean
  ): Promise<IssueComment | undefined> {
    this.check(`list #${pr.number}`, 'read')
    return this.on(pr.number).find(match)
  }

  async createComment(pr: PullRequestRef, body: string): Promise<IssueComment> {
    this.check(`create #${pr.number}`, 'write')
    return this.seed(pr.number, body, this.login ?? BOT)
  }

  async updateComment(_repo: RepoRef, id: number, body: string): Promise<IssueComment> {
    this.check(`update ${id}`, 'write')
    const comment = this.comments.find(c => c.id === id)!
    comment.body = body
    return comment
  }

  async openPullRequests(_repo: RepoRef, head: string) {
    this.check(`pulls ${head}`, 'read')
    return this.pulls.filter(p => p.head === head)
  }
}

function context(eventName: string, payload: Record<string, unknown>): RunContext {
  return { eventName, payload, repo: REPO, apiUrl: 'https://api.github.com' }
}

const onPullRequest = context('pull_request', { pull_request: { number: 12 }, number: 12 })

function publish(api: FakeGitHub, o: Partial<PublishRunCommentOptions> = {}) {
  return publishRunComment({
    token: 'ghs_workflowtoken',
    context: onPullRequest,
    body: '### Plan\n\nApply would change nothing.',
    marker: KEY,
    api,
    ...o
  })
}

describe('publishRunComment: one comment, updated in place', () => {
  it('creates the comment once and updates the same one on later runs', async () => {
    const api = new FakeGitHub()
    api.seed(12, 'LGTM', 'octocat')
    const first = await publish(api, { body: 'first run' })
    expect(first).toMatchObject({
      outcome: 'created',
      pullRequest: { ...REPO, number: 12 },
      url: expect.any(String)
    })
    const second = await publish(api, { body: 'second run' })
    const third = await publish(api, { body: 'third run' })
    expect([second.outcome, third.outcome]).toEqual(['updated', 'updated'])
    expect(third.commentId).toBe(first.commentId)
    const ours = api.on(12).filter(c => c.author === BOT)
    expect(ours).toHaveLength(1)
    expect(ours[0]!.body).toBe(`${commentMarker(KEY)}\nthird run`)
  })

  it('keeps one comment per account and environment on a shared pull request', async () => {
    const api = new FakeGitHub()
    const staging = { account: 'cosmos-pr-12', environment: 'staging' }
    const other = { account: 'cosmos-pr-12-eu', environment: 'pr-12' }
    for (const marker of [KEY, staging, other, KEY, staging]) await publish(api, { marker })
    expect(api.on(12)).toHaveLength(3)
    expect(new Set(api.on(12).map(c => c.body.split('\n')[0])).size).toBe(3)
  })

  it('finds its comment whatever the case of the environment', async () => {
    const api = new FakeGitHub()
    await publish(api, { marker: { account: 'cosmos-pr-12', environment: 'Staging' } })
    const again = await publish(api, {
      marker: { account: 'cosmos-pr-12', environment: 'staging' }
    })
    expect(again.outcome).toBe('updated')
  })

  it('does not take a comment by someone else that carries the marker', async () => {
    const api = new FakeGitHub()
    const forged = api.seed(12, `${commentMarker(KEY)}\nlooks like the plan`, 'mallory')
    const result = await publish(api, { body: 'the real plan' })
    expect(result.outcome).toBe('created')
    expect(forged.body).toContain('looks like the plan')
  })

  it('does not take its own comment that only quotes the marker', async () => {
    const api = new FakeGitHub()
    const quoting = api.seed(12, `Another tool said:\n> ${commentMarker(KEY)}`)
    const inline = api.seed(12, `see ${commentMarker(KEY)}\nbelow`)
    expect((await publish(api)).outcome).toBe('created')
    expect(api.on(12).map(c => c.id)).toContain(quoting.id)
    expect(inline.body).toMatch(/^see /)
  })

  it("with a user's token, takes that user's comment and not the bot's", async () => {
    const api = new FakeGitHub()
    api.login = 'octocat'
    const bots = api.seed(12, `${commentMarker(KEY)}\nold`, BOT)
    const mine = api.seed(12, `${commentMarker(KEY)}\nold`, 'OctoCat')
    const result = await publish(api, { token: 'ghp_personal', body: 'new' })
    expect(result).toMatchObject({ outcome: 'updated', commentId: mine.id })
    expect(bots.body).toMatch(/old$/)
  })

  it('takes the comments of another app when told its bot login', async () => {
    const api = new FakeGitHub()
    const app = api.seed(12, `${commentMarker(KEY)}\nold`, 'deploy-bot[bot]')
    const result = await publish(api, { botLogin: 'deploy-bot[bot]' })
    expect(result).toMatchObject({ outcome: 'updated', commentId: app.id })
  })
})

describe('publishRunComment: the body', () => {
  it('puts the marker first and strips anything token-shaped from the markdown', async () => {
    const api = new FakeGitHub()
    const jwt = fakeJwt({ oid: 'x' })
    await publish(api, { body: `token ${jwt}\nAuthorization: Bearer abcdefghijklmnop` })
    const body = api.on(12)[0]!.body
    expect(body.split('\n')[0]).toBe(commentMarker(KEY))
    expect(body).not.toContain(jwt)
    expect(body).not.toContain('abcdefghijklmnop')
  })

  it('cuts a body that is too long to GitHub’s limit and says so', async () => {
    const api = new FakeGitHub()
    await publish(api, { body: 'x'.repeat(100_000) })
    const body = api.on(12)[0]!.body
    expect(body.length).toBeLessThanOrEqual(MAX_COMMENT_LENGTH)
    expect(body).toMatch(/cut short.*job summary/)
  })

  it('encodes the marker so that no account or environment can end the HTML comment', () => {
    const marker = commentMarker({ account: 'a--b', environment: 'x --> <b>y</b>' })
    expect(marker.slice(4, -3)).not.toMatch(/--|>/)
    expect(marker).toMatch(/^<!-- cosmos-cmk-hsm-action:run-comment .* -->$/)
    expect(commentMarker({ account: 'a', environment: '' })).not.toBe(
      commentMarker({ account: 'a', environment: 'x' })
    )
  })
})

describe('publishRunComment: which pull request', () => {
  it('does nothing outside a pull request, and says why', async () => {
    for (const [event, reason] of [
      ['push', /triggered by 'push', not by a pull request/],
      ['workflow_dispatch', /'workflow_dispatch'/],
      ['schedule', /'schedule'/]
    ] as const) {
      const api = new FakeGitHub()
      const result = await publish(api, { context: context(event, {}) })
      expect(result.outcome).toBe('skipped')
      expect(result.reason).toMatch(reason)
      expect(api.calls).toEqual([])
    }
  })

  it('does nothing without a token or a repository', async () => {
    const api = new FakeGitHub()
    expect((await publish(api, { token: ' ' })).reason).toMatch(/no GitHub token/)
    const noRepo: RunContext = {
      ...onPullRequest,
      get repo(): RepoRef {
        throw new Error(
          "context.repo requires a GITHUB_REPOSITORY environment variable like 'owner/repo'"
        )
      }
    }
    const result = await publish(api, { context: noRepo })
    expect(result).toMatchObject({
      outcome: 'skipped',
      reason: expect.stringMatching(/GITHUB_REPOSITORY/)
    })
    expect(api.calls).toEqual([])
  })

  it('comments from pull_request_target and from a comment on a pull request', async () => {
    const api = new FakeGitHub()
    await publish(api, { context: context('pull_request_target', { pull_request: { number: 7 } }) })
    await publish(api, {
      context: context('issue_comment', { issue: { number: 8, pull_request: { url: 'x' } } })
    })
    expect(api.on(7)).toHaveLength(1)
    expect(api.on(8)).toHaveLength(1)
  })

  it('skips a comment on an issue', async () => {
    const api = new FakeGitHub()
    const result = await publish(api, {
      context: context('issue_comment', { issue: { number: 8 } })
    })
    expect(result).toMatchObject({
      outcome: 'skipped',
      reason: expect.stringMatching(/on an issue/)
    })
  })

  it('takes the pull request of a workflow_run from its pull_requests', async () => {
    const api = new FakeGitHub()
    const run = {
      event: 'pull_request',
      head_sha: 'b'.repeat(40),
      pull_requests: [
        { number: 30, head: { sha: 'a'.repeat(40) } },
        { number: 31, head: { sha: 'b'.repeat(40) } }
      ]
    }
    const result = await publish(api, { context: context('workflow_run', { workflow_run: run }) })
    expect(result.pullRequest?.number).toBe(31)
  })

  it('finds a fork’s pull request of a workflow_run by its head, preferring the same commit', async () => {
    const api = new FakeGitHub()
    api.pulls = [
      { number: 40, head: 'mallory:feature', headSha: 'c'.repeat(40) },
      { number: 41, head: 'mallory:feature', headSha: 'd'.repeat(40) }
    ]
    const run = {
      event: 'pull_request',
      head_sha: 'd'.repeat(40),
      head_branch: 'feature',
      head_repository: { full_name: 'mallory/cosmos-cmk', owner: { login: 'mallory' } },
      pull_requests: []
    }
    const result = await publish(api, { context: context('workflow_run', { workflow_run: run }) })
    expect(result).toMatchObject({ outcome: 'created', pullRequest: { number: 41 } })
    expect(api.calls[0]).toBe('pulls mallory:feature')

    api.pulls = []
    const none = await publish(api, { context: context('workflow_run', { workflow_run: run }) })
    expect(none).toMatchObject({
      outcome: 'skipped',
      reason: expect.stringMatching(/mallory:feature/)
    })
  })

  it('skips a workflow_run whose run did not come from a pull request', async () => {
    const api = new FakeGitHub()
    const run = { event: 'push', head_branch: 'main', pull_requests: [] }
    const result = await publish(api, { context: context('workflow_run', { workflow_run: run }) })
    expect(result).toMatchObject({ outcome: 'skipped', reason: expect.stringMatching(/'push'/) })
    expect(api.calls).toEqual([])
  })

  it('takes a given pull request number over the event', async () => {
    const api = new FakeGitHub()
    const result = await publish(api, { context: context('push', {}), pullRequestNumber: 55 })
    expect(result.pullRequest?.number).toBe(55)
    const bad = await publish(api, { pullRequestNumber: 0 })
    expect(bad.outcome).toBe('skipped')
  })
})

describe('publishRunComment: tokens that may not comment', () => {
  it('answers read-only, with what to do, for a read-only token (a fork’s pull request)', async () => {
    const api = new FakeGitHub()
    api.permission = 'read'
    const result = await publish(api, {
      context: context('pull_request', { pull_request: { number: 12 } })
    })
    expect(result).toMatchObject({ outcome: 'read-only', pullRequest: { number: 12 } })
    expect(result.reason).toContain(DENIED)
    expect(result.reason).toMatch(/fork.*workflow_run.*pull-requests: write.*job summary/)
    expect(api.comments).toEqual([])
  })

  it('answers read-only for a token that may not even read the comments', async () => {
    const api = new FakeGitHub()
    api.permission = 'none'
    const result = await publish(api)
    expect(result.outcome).toBe('read-only')
    expect(result.reason).toMatch(/may not list #12/)
  })

  it('throws for a bad token, with a hint and without the token', async () => {
    const api = new FakeGitHub()
    api.failWith = { status: 401, message: 'Bad credentials' }
    const error = await publish(api, { token: 'ghs_secretvalue' }).catch(e => e)
    expect(error).toBeInstanceOf(PullRequestCommentError)
    expect(error.message).toMatch(
      /pull request #12 of contoso\/cosmos-cmk.*Bad credentials.*not valid/
    )
    expect(error.message).not.toContain('ghs_secretvalue')
  })

  it('throws for a pull request the token cannot see', async () => {
    const api = new FakeGitHub()
    api.failWith = { status: 404, message: 'Not Found' }
    await expect(publish(api)).rejects.toThrow(
      /cannot see the repository or the pull request does not exist/
    )
  })

  it('does not take a rate limit it could not wait out for a read-only token', async () => {
    const api = new FakeGitHub()
    api.createComment = async () => {
      throw new GitHubApiError(
        'comment',
        403,
        'API rate limit exceeded for installation ID 1.',
        true
      )
    }
    await expect(publish(api)).rejects.toBeInstanceOf(PullRequestCommentError)
  })
})

describe('publishRunComment: failures and what it logs', () => {
  const failedWith = async (status: number) => {
    const api = new FakeGitHub()
    api.failWith = { status, message: 'no' }
    const error = await publish(api).catch(e => e)
    expect(error).toBeInstanceOf(PullRequestCommentError)
    expect(error.name).toBe('PullRequestCommentError')
    expect(error.message).toMatch(/^Could not comment on pull request #12 of contoso\/cosmos-cmk: /)
    return error.message as string
  }

  it.each([
    [401, ' The token is not valid (expired, revoked, or not a GitHub token).'],
    [404, ' Either the token cannot see the repository or the pull request does not exist.']
  ])('adds a hint to a %i', async (status, hint) => {
    expect((await failedWith(status)).endsWith(hint)).toBe(true)
  })

  it.each([500, 422])('adds no hint to a %i', async status => {
    expect(await failedWith(status)).not.toMatch(/token is not valid|cannot see the repository/)
  })

  it('says "a pull request" when it failed before it knew which', async () => {
    const api = new FakeGitHub()
    api.failWith = { status: 500, message: 'Server Error' }
    const fork = context('workflow_run', {
      workflow_run: {
        event: 'pull_request',
        pull_requests: [],
        head_branch: 'feature',
        head_repository: { owner: { login: 'mallory' } }
      }
    })
    const error = await publish(api, { context: fork }).catch(e => e)
    expect(error).toBeInstanceOf(PullRequestCommentError)
    expect(error.message).toMatch(/^Could not comment on a pull request of contoso\/cosmos-cmk: /)
  })

  it('fails with its own error when the API throws nothing at all', async () => {
    const api = new FakeGitHub()
    api.tokenLogin = () => Promise.reject(undefined)
    await expect(publish(api)).rejects.toBeInstanceOf(PullRequestCommentError)
  })

  it('logs which pull request it comments on and how it found it', async () => {
    const debug: string[] = []
    await publish(new FakeGitHub(), { log: { info: () => {}, debug: m => debug.push(m) } })
    expect(debug).toContain('Run comment on pull request #12 of contoso/cosmos-cmk (pull_request).')
  })
})

describe('commentMarker', () => {
  it('is lower case and percent-encoded, with an empty environment when there is none', () => {
    expect(commentMarker({ account: ' Cosmos-PR-12 ', environment: 'PR-12' })).toBe(
      '<!-- cosmos-cmk-hsm-action:run-comment account=cosmos%2Dpr%2D12 environment=pr%2D12 -->'
    )
    expect(commentMarker({ account: 'a' })).toBe(
      '<!-- cosmos-cmk-hsm-action:run-comment account=a environment= -->'
    )
  })
})
