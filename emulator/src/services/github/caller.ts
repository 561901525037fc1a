import { timingSafeEqual } from 'node:crypto'
import { presentedCredential, type EmuRequest, type ServiceContext } from '../../core/service.js'
import type { GitHubPermission, GitHubState, GitHubUser } from '../../core/world.js'
import { GITHUB_ACTIONS_BOT, tokenDigest } from '../../model/github-repository.js'
import { notAccessible, notFound } from './errors.js'

/** Who calls the REST API, from the token presented. */
export interface ApiCaller {
  /** The rate-limit bucket the request spends from. */
  bucket: string
  user: GitHubUser
  permission: GitHubPermission
  /** An app installation token (as GITHUB_TOKEN is): it has no user of its own for `GET /user`. */
  installation: boolean
}

/** What every REST API handler gets. */
export interface ApiRequest {
  ctx: ServiceContext
  state: GitHubState
  caller: ApiCaller
}

export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

/**
 * The caller a token names (`Authorization: token …` or `Bearer …`): the workflow's GITHUB_TOKEN or
 * a user token of the scenario. A missing header and an unknown token give the reason GitHub
 * answers 401 with.
 */
export function callerOf(
  req: EmuRequest,
  state: GitHubState,
  workflowToken: string
): ApiCaller | { unauthenticated: string } {
  const credential = presentedCredential(req, ['token', 'bearer'])
  if (credential.kind === 'missing') return { unauthenticated: 'Requires authentication' }
  const presented = credential.kind === 'token' ? credential.token : undefined
  if (presented && workflowToken && sameSecret(presented, workflowToken)) {
    return {
      bucket: 'workflow',
      user: GITHUB_ACTIONS_BOT,
      permission: state.tokenPermission,
      installation: true
    }
  }
  const known = presented ? state.userTokens[tokenDigest(presented)] : undefined
  if (!known) return { unauthenticated: 'Bad credentials' }
  return {
    bucket: `user:${known.user.login.toLowerCase()}`,
    user: known.user,
    permission: known.permission,
    installation: false
  }
}

/** The repository a path names, when it is the workflow's; GitHub answers 404 for any other. */
export function requireRepository(
  r: ApiRequest,
  params: Record<string, string>,
  documentation: string
): void {
  const { state } = r
  const named =
    params.repositoryId !== undefined
      ? params.repositoryId === String(state.repositoryId)
      : `${params.owner}/${params.repo}`.toLowerCase() === state.repository.toLowerCase()
  if (!named) throw notFound(documentation)
}

export function requirePermission(
  r: ApiRequest,
  needed: 'read' | 'write',
  documentation: string
): void {
  const { permission, installation } = r.caller
  if (permission === 'write' || (needed === 'read' && permission === 'read')) return
  throw notAccessible(installation, documentation)
}
