/**
 * The GitHub side of a run for the run comment: pull requests in the local GitHub, and the events
 * a runner hands the action (GITHUB_EVENT_NAME and the payload file GITHUB_EVENT_PATH names).
 */
import type { Emulator, Scenario, ScenarioPullRequest } from './emulator.js'

/** The pull request the per-PR examples use. */
export const PR_NUMBER = 12

/** A webhook event as a runner gets it: its name and its payload. */
export interface GitHubEvent {
  name: string
  payload: Record<string, unknown>
}

/** Opens pull requests (#12 by default) in the scenario's repository. */
export function withPullRequests(
  scenario: Scenario,
  pulls: ScenarioPullRequest[] = [{ number: PR_NUMBER }]
): Scenario {
  scenario.github = {
    ...scenario.github!,
    pullRequests: [...(scenario.github?.pullRequests ?? []), ...pulls]
  }
  return scenario
}

function repository(fullName: string) {
  const [owner = '', name = ''] = fullName.split('/')
  return { full_name: fullName, name, owner: { login: owner } }
}

/** `pull_request` (or `pull_request_target`, or `closed` for a teardown) for pull request `number`. */
export function pullRequestEvent(
  number = PR_NUMBER,
  o: { name?: string; action?: string; repository?: string } = {}
): GitHubEvent {
  const repo = repository(o.repository ?? 'contoso/cosmos-cmk')
  return {
    name: o.name ?? 'pull_request',
    payload: {
      action: o.action ?? 'synchronize',
      number,
      pull_request: { number, state: o.action === 'closed' ? 'closed' : 'open' },
      repository: repo
    }
  }
}

/**
 * `workflow_run` after a run for a pull request. Of a fork's pull request GitHub sends no
 * `pull_requests`, only the head: pass `fork` (`owner/repo`) for that.
 */
export function workflowRunEvent(o: {
  number?: number
  headBranch: string
  headSha: string
  fork?: string
}): GitHubEvent {
  const number = o.number ?? PR_NUMBER
  return {
    name: 'workflow_run',
    payload: {
      action: 'completed',
      workflow_run: {
        event: 'pull_request',
        head_branch: o.headBranch,
        head_sha: o.headSha,
        head_repository: repository(o.fork ?? 'contoso/cosmos-cmk'),
        pull_requests: o.fork ? [] : [{ number, head: { ref: o.headBranch, sha: o.headSha } }]
      },
      repository: repository('contoso/cosmos-cmk')
    }
  }
}

/** `issue_comment` on pull request (or, with `onPullRequest: false`, issue) `number`. */
export function issueCommentEvent(number = PR_NUMBER, onPullRequest = true): GitHubEvent {
  return {
    name: 'issue_comment',
    payload: {
      action: 'created',
      issue: { number, ...(onPullRequest ? { pull_request: { url: `pulls/${number}` } } : {}) },
      comment: { id: 1, body: '/plan' },
      repository: repository('contoso/cosmos-cmk')
    }
  }
}

/** The comments on a pull request in the local GitHub, oldest first. */
export function pullRequestComments(
  emulator: Emulator,
  number = PR_NUMBER
): { id: number; author: string; body: string }[] {
  return (emulator.store.world.github?.comments ?? [])
    .filter(c => c.issueNumber === number)
    .map(c => ({ id: c.id, author: c.user.login, body: c.body }))
}
