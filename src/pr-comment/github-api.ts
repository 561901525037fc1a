import { getOctokit } from '@actions/github'
import type { Clock } from '../clock.js'
import { ActionError, statusOf } from '../errors.js'
import { sanitize } from '../sanitize.js'
import { RateLimitGate, RateLimitedError, isRateLimitError } from './rate-limit.js'
import type { RepoRef } from './target.js'

export interface PullRequestRef extends RepoRef {
  number: number
}

export interface IssueComment {
  id: number
  body: string
  /** The author's login; absent for a deleted user ("ghost"). */
  author?: string
  /** The comment on github.com. */
  url: string
}

/** What publishing the run comment needs from GitHub's REST API. */
export interface CommentApi {
  /** The login of the token's user; undefined for an app installation token (GITHUB_TOKEN). */
  tokenLogin(): Promise<string | undefined>
  /** The first comment, oldest first, that `match` accepts; reads page by page and stops there. */
  findComment(
    pr: PullRequestRef,
    match: (comment: IssueComment) => boolean
  ): Promise<IssueComment | undefined>
  createComment(pr: PullRequestRef, body: string): Promise<IssueComment>
  updateComment(repo: RepoRef, id: number, body: string): Promise<IssueComment>
  /** The open pull requests whose head is `owner:branch`, with their head commits. */
  openPullRequests(repo: RepoRef, head: string): Promise<{ number: number; headSha: string }[]>
}

/** GitHub refused a request; `message` is GitHub's own. */
export class GitHubApiError extends ActionError {
  constructor(
    readonly operation: string,
    readonly status: number,
    readonly githubMessage: string,
    /** The answer was a rate limit that could not be waited out. */
    readonly rateLimited = false
  ) {
    super(
      `GitHub answered ${status} (${githubMessage || 'no message'}) when asked to ${operation}.`
    )
    this.name = 'GitHubApiError'
  }
}

function apiError(operation: string, error: unknown): unknown {
  if (error instanceof RateLimitedError || (error as Error)?.name === 'AbortError') return error
  const status = statusOf(error)
  if (status === undefined) return error
  const data = (error as { response?: { data?: { message?: unknown } } }).response?.data
  const message = typeof data?.message === 'string' ? sanitize(data.message) : ''
  return new GitHubApiError(operation, status, message, isRateLimitError(error))
}

async function call<T>(operation: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    throw apiError(operation, error)
  }
}

export interface OctokitApiOptions {
  token: string
  /** GITHUB_API_URL. */
  baseUrl: string
  clock: Clock
  /** The longest all rate-limit waits may take together. */
  maxRateLimitWaitMs: number
  signal?: AbortSignal
  log?: { info(message: string): void; debug(message: string): void }
}

interface RawComment {
  id: number
  body?: string | null
  user?: { login?: string } | null
  html_url: string
}

function toComment(c: RawComment): IssueComment {
  return {
    id: c.id,
    body: c.body ?? '',
    ...(c.user?.login ? { author: c.user.login } : {}),
    url: c.html_url
  }
}

/**
 * The REST API through `@actions/github`'s Octokit (its proxy settings included), every request
 * kept within GitHub's rate limits by one RateLimitGate.
 */
export function octokitCommentApi(o: OctokitApiOptions): CommentApi {
  const debug = (message: string) => o.log?.debug(sanitize(message))
  const octokit = getOctokit(o.token, {
    baseUrl: o.baseUrl,
    userAgent: 'cosmos-cmk-hsm-action',
    log: { debug, info: debug, warn: debug, error: debug }
  })
  const gate = new RateLimitGate({
    clock: o.clock,
    maxWaitMs: o.maxRateLimitWaitMs,
    signal: o.signal,
    log: message => o.log?.info(message)
  })
  octokit.hook.wrap('request', (request, options) =>
    gate.send(`${options.method} ${String(options.url)}`, async () => request(options))
  )
  const request = o.signal ? { request: { signal: o.signal } } : {}

  return {
    async tokenLogin() {
      // Installation tokens (GITHUB_TOKEN among them) have no user: GET /user answers 403.
      if (o.token.startsWith('ghs_')) return undefined
      try {
        return (await octokit.rest.users.getAuthenticated(request)).data.login
      } catch (error) {
        if (statusOf(error) === 403) return undefined
        throw apiError("read the token's user", error)
      }
    },

    findComment: (pr, match) =>
      call(`list the comments of pull request #${pr.number}`, async () => {
        const pages = octokit.paginate.iterator(octokit.rest.issues.listComments, {
          owner: pr.owner,
          repo: pr.repo,
          issue_number: pr.number,
          per_page: 100,
          ...request
        })
        for await (const { data } of pages) {
          const found = data.map(toComment).find(match)
          if (found) return found
        }
        return undefined
      }),

    createComment: (pr, body) =>
      call(`comment on pull request #${pr.number}`, async () => {
        const { data } = await octokit.rest.issues.createComment({
          owner: pr.owner,
          repo: pr.repo,
          issue_number: pr.number,
          body,
          ...request
        })
        return toComment(data)
      }),

    updateComment: (repo, id, body) =>
      call(`update comment ${id}`, async () => {
        const { data } = await octokit.rest.issues.updateComment({
          owner: repo.owner,
          repo: repo.repo,
          comment_id: id,
          body,
          ...request
        })
        return toComment(data)
      }),

    openPullRequests: (repo, head) =>
      call(`list the open pull requests of ${head}`, async () => {
        const { data } = await octokit.rest.pulls.list({
          owner: repo.owner,
          repo: repo.repo,
          state: 'open',
          head,
          per_page: 100,
          ...request
        })
        return data.map(pr => ({ number: pr.number, headSha: pr.head.sha }))
      })
  }
}
