import { systemClock, type Clock } from '../clock.js'
import { ActionError, describeError } from '../errors.js'
import { sanitize } from '../sanitize.js'
import {
  GitHubApiError,
  octokitCommentApi,
  type CommentApi,
  type PullRequestRef
} from './github-api.js'
import { carriesMarker, commentBody, type CommentKey } from './marker.js'
import { commentTarget, type RepoRef, type RunContext } from './target.js'

/** The login GITHUB_TOKEN comments as. */
export const GITHUB_ACTIONS_LOGIN = 'github-actions[bot]'

export type PublishOutcome = 'created' | 'updated' | 'skipped' | 'read-only'

export interface PublishResult {
  outcome: PublishOutcome
  /** The comment on github.com, when created or updated. */
  url?: string
  commentId?: number
  pullRequest?: PullRequestRef
  /** Why nothing was written (skipped, read-only): a sentence for the log and the job summary. */
  reason?: string
}

export interface PublishRunCommentOptions {
  /** The `github-token` input (the workflow's GITHUB_TOKEN by default). */
  token: string
  /** `context` from `@actions/github`, or the same shape. */
  context: RunContext
  /** The comment's markdown, e.g. from renderPlanComment; the hidden marker is added in front. */
  body: string
  /** Which comment this is: one per account and environment on a pull request. */
  marker: CommentKey
  log?: { info(message: string): void; debug(message: string): void }
  /** The pull request, when the caller knows it better than the event (e.g. from an artifact). */
  pullRequestNumber?: number
  /** Default `context.apiUrl` (GITHUB_API_URL). */
  baseUrl?: string
  /**
   * Whose comments an installation token finds as its own: GITHUB_TOKEN writes as
   * github-actions[bot] (the default); another GitHub App's token as `<app-slug>[bot]`. A user's
   * token is asked for its login instead.
   */
  botLogin?: string
  clock?: Clock
  signal?: AbortSignal
  /** How long GitHub's rate limits may be waited out in all; default 90 s. */
  maxRateLimitWaitMs?: number
  /** The REST API; default Octokit from `@actions/github`. */
  api?: CommentApi
}

/** The comment could not be written for a reason other than a read-only token. */
export class PullRequestCommentError extends ActionError {
  constructor(message: string) {
    super(message)
    this.name = 'PullRequestCommentError'
  }
}

function skipped(reason: string): PublishResult {
  return { outcome: 'skipped', reason: `The pull request was not commented: ${reason}.` }
}

function where(pr: PullRequestRef | undefined, repo: RepoRef): string {
  const name = `${repo.owner}/${repo.repo}`
  return pr ? `pull request #${pr.number} of ${name}` : `a pull request of ${name}`
}

function readOnly(
  error: GitHubApiError,
  pr: PullRequestRef | undefined,
  repo: RepoRef
): PublishResult {
  return {
    outcome: 'read-only',
    ...(pr ? { pullRequest: pr } : {}),
    reason:
      `The comment is not on ${where(pr, repo)}: the token may not ${error.operation} ` +
      `(GitHub: ${error.status} ${error.githubMessage}). A workflow run for a pull request from a ` +
      "fork gets a read-only GITHUB_TOKEN; comment from a 'workflow_run' workflow with " +
      "'permissions: pull-requests: write', or read the result in this job summary."
  }
}

function failure(error: unknown, pr: PullRequestRef | undefined, repo: RepoRef): Error {
  const hint =
    error instanceof GitHubApiError && error.status === 401
      ? ' The token is not valid (expired, revoked, or not a GitHub token).'
      : error instanceof GitHubApiError && error.status === 404
        ? ' Either the token cannot see the repository or the pull request does not exist.'
        : ''
  return new PullRequestCommentError(
    `Could not comment on ${where(pr, repo)}: ${describeError(error)}${hint}`
  )
}

async function pullRequestOfHead(
  api: CommentApi,
  repo: RepoRef,
  head: string,
  sha: string | undefined
): Promise<number | undefined> {
  const open = await api.openPullRequests(repo, head)
  return (open.find(p => p.headSha === sha) ?? open[0])?.number
}

/**
 * Writes the run's result as ONE comment on the run's pull request: the comment that carries the
 * marker for this account and environment, written by the token's own user (or bot), is updated in
 * place; without one, it is created. Nothing happens outside a pull request ('skipped'), and a token
 * that may not comment gives 'read-only' with the reason instead of an error. Other failures
 * (bad token, no access, rate limits that outlast `maxRateLimitWaitMs`) throw
 * PullRequestCommentError; the token never appears in a message.
 */
export async function publishRunComment(o: PublishRunCommentOptions): Promise<PublishResult> {
  if (!o.token.trim()) return skipped('no GitHub token was given (github-token is empty)')
  const target = commentTarget(o.context, o.pullRequestNumber)
  if (target.kind === 'none') return skipped(target.reason)
  let repo: RepoRef
  try {
    repo = { owner: o.context.repo.owner, repo: o.context.repo.repo }
  } catch {
    return skipped('the repository is unknown (GITHUB_REPOSITORY is not set)')
  }
  const api =
    o.api ??
    octokitCommentApi({
      token: o.token,
      baseUrl: o.baseUrl ?? o.context.apiUrl,
      clock: o.clock ?? systemClock,
      maxRateLimitWaitMs: o.maxRateLimitWaitMs ?? 90_000,
      signal: o.signal,
      log: o.log
    })
  let pr: PullRequestRef | undefined
  try {
    let number: number | undefined
    if (target.kind === 'number') {
      number = target.number
    } else {
      number = await pullRequestOfHead(api, repo, target.head, target.sha)
      if (number === undefined) {
        return skipped(
          `no open pull request of ${repo.owner}/${repo.repo} has the head ${target.head}`
        )
      }
    }
    pr = { ...repo, number }
    o.log?.debug(
      `Run comment on ${where(pr, repo)} (${target.kind === 'number' ? target.via : 'found by its head'}).`
    )
    const own = ((await api.tokenLogin()) ?? o.botLogin ?? GITHUB_ACTIONS_LOGIN).toLowerCase()
    const body = commentBody(o.marker, sanitize(o.body))
    const existing = await api.findComment(
      pr,
      c => c.author?.toLowerCase() === own && carriesMarker(c.body, o.marker)
    )
    const comment = existing
      ? await api.updateComment(repo, existing.id, body)
      : await api.createComment(pr, body)
    return {
      outcome: existing ? 'updated' : 'created',
      url: comment.url,
      commentId: comment.id,
      pullRequest: pr
    }
  } catch (error) {
    if ((error as Error)?.name === 'AbortError') throw error
    if (error instanceof GitHubApiError && error.status === 403 && !error.rateLimited) {
      return readOnly(error, pr, repo)
    }
    throw failure(error, pr, repo)
  }
}
