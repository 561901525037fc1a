/**
 * What the run comment needs from the workflow run: `context` from `@actions/github` has this shape
 * (its `repo` getter throws when GITHUB_REPOSITORY is unset and the event names no repository).
 */
export interface RunContext {
  eventName: string
  payload: Record<string, unknown>
  readonly repo: { owner: string; repo: string }
  /** GITHUB_API_URL (https://api.github.com, or GitHub Enterprise Server's `/api/v3`). */
  apiUrl: string
}

export interface RepoRef {
  owner: string
  repo: string
}

/** Where the comment goes, as far as the event says. */
export type CommentTarget =
  | { kind: 'number'; number: number; via: string }
  /** A `workflow_run` of a pull request from a fork: GitHub leaves `pull_requests` empty for those. */
  | { kind: 'head'; head: string; sha?: string }
  | { kind: 'none'; reason: string }

const PULL_REQUEST_EVENTS = [
  'pull_request',
  'pull_request_target',
  'pull_request_review',
  'pull_request_review_comment'
]

function at(value: unknown, ...path: string[]): unknown {
  let current = value
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined
    current = (current as Record<string, unknown>)[key]
  }
  return current
}

function positiveInteger(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined
}

function fromWorkflowRun(run: unknown): CommentTarget {
  const triggeredBy = text(at(run, 'event')) ?? 'an unknown event'
  if (!PULL_REQUEST_EVENTS.includes(triggeredBy)) {
    return {
      kind: 'none',
      reason: `the workflow run that triggered this one ran on '${triggeredBy}', not on a pull request`
    }
  }
  const sha = text(at(run, 'head_sha'))
  const listed = at(run, 'pull_requests')
  const pulls = Array.isArray(listed) ? listed : []
  const pull = pulls.find(p => at(p, 'head', 'sha') === sha) ?? pulls[0]
  const number = positiveInteger(at(pull, 'number'))
  if (number) return { kind: 'number', number, via: 'workflow_run.pull_requests' }
  const owner = text(at(run, 'head_repository', 'owner', 'login'))
  const branch = text(at(run, 'head_branch'))
  if (!owner || !branch) {
    return {
      kind: 'none',
      reason: 'the workflow_run event names neither a pull request nor its head'
    }
  }
  return { kind: 'head', head: `${owner}:${branch}`, ...(sha ? { sha } : {}) }
}

/**
 * The pull request a run belongs to: `pull_request*` events name it; `issue_comment` does when the
 * comment is on a pull request; `workflow_run` through `pull_requests`, or, for a fork's pull
 * request (whose `pull_requests` GitHub leaves empty), through the head branch. `number` (e.g.
 * passed on from the triggering run) wins over the event.
 */
export function commentTarget(context: RunContext, number?: number): CommentTarget {
  if (number !== undefined) {
    return positiveInteger(number)
      ? { kind: 'number', number, via: 'the given number' }
      : { kind: 'none', reason: `'${number}' is not a pull request number` }
  }
  const { eventName, payload } = context
  if (PULL_REQUEST_EVENTS.includes(eventName)) {
    const n = positiveInteger(at(payload, 'pull_request', 'number') ?? at(payload, 'number'))
    return n
      ? { kind: 'number', number: n, via: eventName }
      : { kind: 'none', reason: `the ${eventName} event names no pull request` }
  }
  if (eventName === 'issue_comment') {
    const n = positiveInteger(at(payload, 'issue', 'number'))
    if (!at(payload, 'issue', 'pull_request') || !n) {
      return {
        kind: 'none',
        reason: 'the comment that triggered the run is on an issue, not on a pull request'
      }
    }
    return { kind: 'number', number: n, via: eventName }
  }
  if (eventName === 'workflow_run') return fromWorkflowRun(at(payload, 'workflow_run'))
  return {
    kind: 'none',
    reason: `the workflow was triggered by '${eventName || 'an unknown event'}', not by a pull request`
  }
}
