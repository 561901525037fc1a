import type { ScenarioPullRequest } from '../../core/scenario-types.js'
import type { GitHubPermission, World } from '../../core/world.js'
import { ScenarioError, githubApiProblems } from '../../core/scenario.js'
import { putPullRequest } from '../../model/github-repository.js'
import { rateLimitView, setRemaining } from './rate-limit.js'
import { isoSeconds } from './views.js'

/**
 * What the admin API changes on the emulated GitHub (`PUT /_emulator/github`); every field is
 * optional and a reset puts the scenario's values back.
 */
export interface GitHubApiChanges {
  tokenPermission?: GitHubPermission
  /** Merged into the rate-limit settings. */
  rateLimit?: Record<string, unknown>
  /** Requests left to GITHUB_TOKEN in the current window: 0 exhausts the primary limit. */
  remaining?: number
  /** Every request gets the secondary limit's answer for this long; 0 lifts it. */
  secondaryLimitSeconds?: number
  /** Opened, or replacing the pull request with the same number. */
  pullRequests?: ScenarioPullRequest[]
}

const FIELDS = [
  'tokenPermission',
  'rateLimit',
  'remaining',
  'secondaryLimitSeconds',
  'pullRequests'
]

function stateOf(world: World) {
  if (!world.github) throw new ScenarioError(['the world has no GitHub repository'])
  return world.github
}

/** The emulated GitHub as the admin API shows it: settings, GITHUB_TOKEN's limit, what it holds. */
export function gitHubApiView(world: World, now: number) {
  const state = stateOf(world)
  return {
    repository: state.repository,
    repositoryId: state.repositoryId,
    tokenPermission: state.tokenPermission,
    rateLimit: state.rateLimit,
    workflowTokenLimit: rateLimitView(state, 'workflow', now),
    secondaryLimitUntil:
      state.secondaryUntil && state.secondaryUntil > now
        ? isoSeconds(state.secondaryUntil)
        : undefined,
    pullRequests: Object.values(state.pullRequests).map(pr => ({
      number: pr.number,
      state: pr.state,
      headRepository: pr.headRepository,
      headRef: pr.headRef,
      headSha: pr.headSha
    })),
    comments: state.comments.length
  }
}

/** Applies admin changes after checking all of them (nothing changes when one is wrong). */
export function configureGitHubApi(world: World, changes: unknown, now: number) {
  const state = stateOf(world)
  if (typeof changes !== 'object' || changes === null || Array.isArray(changes)) {
    throw new ScenarioError(['the body must be a JSON object'])
  }
  const c = changes as Record<string, unknown>
  const problems = [
    ...Object.keys(c)
      .filter(k => !FIELDS.includes(k))
      .map(k => `unknown field '${k}'; fields: ${FIELDS.join(', ')}`),
    ...githubApiProblems({
      tokenPermission: c.tokenPermission,
      rateLimit: c.rateLimit,
      pullRequests: c.pullRequests
    })
  ]
  for (const key of ['remaining', 'secondaryLimitSeconds'] as const) {
    if (c[key] !== undefined && !(Number.isInteger(c[key]) && (c[key] as number) >= 0)) {
      problems.push(`${key} must be an integer >= 0`)
    }
  }
  if (problems.length) throw new ScenarioError(problems)
  const valid = c as GitHubApiChanges
  if (valid.tokenPermission) state.tokenPermission = valid.tokenPermission
  if (valid.rateLimit) state.rateLimit = { ...state.rateLimit, ...valid.rateLimit }
  if (valid.remaining !== undefined) setRemaining(state, 'workflow', valid.remaining, now)
  if (valid.secondaryLimitSeconds !== undefined) {
    state.secondaryUntil = now + valid.secondaryLimitSeconds * 1000
  }
  for (const pr of valid.pullRequests ?? []) putPullRequest(state, pr, now)
  return gitHubApiView(world, now)
}
