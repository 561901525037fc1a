import { createHash } from 'node:crypto'
import type { Scenario, ScenarioPullRequest } from '../core/scenario-types.js'
import type {
  GitHubIssueComment,
  GitHubPullRequest,
  GitHubRateLimitSettings,
  GitHubState,
  GitHubUser
} from '../core/world.js'
import { workflowFromScenario } from './github-workflow.js'

/** The user a workflow's GITHUB_TOKEN writes as. */
export const GITHUB_ACTIONS_BOT: GitHubUser = {
  login: 'github-actions[bot]',
  id: 41898282,
  type: 'Bot'
}

/** GitHub's limits for a workflow's GITHUB_TOKEN. */
export const DEFAULT_GITHUB_RATE_LIMIT: GitHubRateLimitSettings = {
  limit: 1000,
  windowSeconds: 3600,
  writesPerMinute: 80,
  secondaryRetryAfterSeconds: 60,
  status: 403
}

const FIRST_COMMENT_ID = 1_500_000_001

function digest(algorithm: 'sha1' | 'sha256', text: string): string {
  return createHash(algorithm).update(text).digest('hex')
}

/** How the world refers to a token without keeping it. */
export function tokenDigest(token: string): string {
  return digest('sha256', token)
}

/** A user of the emulated GitHub; ids derive from the login, so they are the same on every run. */
export function githubUser(login: string): GitHubUser {
  if (login.toLowerCase() === GITHUB_ACTIONS_BOT.login) return { ...GITHUB_ACTIONS_BOT }
  const id = 1_000_000 + (parseInt(digest('sha256', login.toLowerCase()).slice(0, 8), 16) % 9e7)
  return { login, id, type: login.endsWith('[bot]') ? 'Bot' : 'User' }
}

function pullRequestFrom(
  pr: ScenarioPullRequest,
  repository: string,
  now: number
): GitHubPullRequest {
  const headRef = pr.headRef ?? `pr-${pr.number}`
  return {
    number: pr.number,
    title: pr.title ?? `Pull request #${pr.number}`,
    state: pr.state ?? 'open',
    user: githubUser(pr.author ?? 'octocat'),
    headRepository: pr.headRepository ?? repository,
    headRef,
    headSha: (pr.headSha ?? digest('sha1', `${repository}#${pr.number}:${headRef}`)).toLowerCase(),
    baseRef: pr.baseRef ?? 'main',
    createdAt: now
  }
}

/** Adds a comment to a pull request (GitHub numbers comments across the whole site). */
export function addComment(
  state: GitHubState,
  issueNumber: number,
  body: string,
  user: GitHubUser,
  now: number
): GitHubIssueComment {
  const comment: GitHubIssueComment = {
    id: state.nextCommentId++,
    issueNumber,
    body,
    user: { ...user },
    createdAt: now,
    updatedAt: now
  }
  state.comments.push(comment)
  return comment
}

/** Opens a pull request, or replaces the one with its number. */
export function putPullRequest(state: GitHubState, pr: ScenarioPullRequest, now: number): void {
  state.pullRequests[String(pr.number)] = pullRequestFrom(pr, state.repository, now)
}

/** The workflow's repository as the scenario describes it: pull requests, comments, limits. */
export function seedGitHub(scenario: Scenario, now: number): GitHubState {
  const github = scenario.github
  const repository = workflowFromScenario(scenario, '').repository
  const state: GitHubState = {
    repository,
    repositoryId: 100_000_000 + (parseInt(digest('sha256', repository).slice(0, 8), 16) % 8e8),
    tokenPermission: github?.tokenPermission ?? 'write',
    userTokens: {},
    pullRequests: {},
    comments: [],
    nextCommentId: FIRST_COMMENT_ID,
    rateLimit: { ...DEFAULT_GITHUB_RATE_LIMIT, ...github?.rateLimit },
    rateBuckets: {}
  }
  for (const t of github?.userTokens ?? []) {
    state.userTokens[tokenDigest(t.token)] = {
      user: githubUser(t.login),
      permission: t.permission ?? 'write'
    }
  }
  for (const pr of github?.pullRequests ?? []) putPullRequest(state, pr, now)
  for (const c of github?.comments ?? []) {
    addComment(state, c.issue, c.body, githubUser(c.login ?? GITHUB_ACTIONS_BOT.login), now)
  }
  return state
}
