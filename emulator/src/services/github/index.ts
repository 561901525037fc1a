import type { EmuResponse, Service, ServiceContext } from '../../core/service.js'
import type { TokenAuthority } from '../../core/tokens.js'
import { AzureError } from '../../core/errors.js'
import {
  GITHUB_API_HOST,
  GITHUB_ISSUER,
  GITHUB_ISSUER_HOST,
  GITHUB_RUNNER_HOST
} from '../../core/hosts.js'
import { findRoute, type Route } from '../../core/routes.js'
import type { GitHubWorkflow } from '../../model/github-workflow.js'
import { callerOf, sameSecret, type ApiRequest } from './caller.js'
import { createComment, getComment, listComments, updateComment } from './comments.js'
import { githubError } from './errors.js'
import { getPull, listPulls } from './pulls.js'
import { spendRequest } from './rate-limit.js'
import { authenticatedUser, rateLimit } from './users.js'

/** Answers from a route table, with GitHub's own 404 and 405. */
function dispatch<R>(routes: Route<R>[], request: R, ctx: ServiceContext) {
  const match = findRoute(routes, ctx.req.method, ctx.req.path)
  if (!match) throw githubError(404, 'Not Found')
  if (!match.allowed) throw githubError(405, 'Method Not Allowed')
  return match.route.handler(request, match.params)
}

/** GitHub's OIDC issuer: discovery document and signing keys. */
export function createGitHubIssuerService(tokens: TokenAuthority): Service {
  const routes = issuerRoutes(tokens)
  return {
    name: 'GitHub Actions OIDC issuer',
    matches: host => host === GITHUB_ISSUER_HOST,
    handle: ctx => {
      if (ctx.req.method !== 'GET') throw githubError(405, 'Method Not Allowed')
      return dispatch(routes, undefined, ctx)
    }
  }
}

function issuerRoutes(tokens: TokenAuthority): Route<undefined>[] {
  return [
    {
      methods: ['GET'],
      template: '/.well-known/openid-configuration',
      handler: () => ({
        status: 200,
        body: {
          issuer: GITHUB_ISSUER,
          jwks_uri: `${GITHUB_ISSUER}/.well-known/jwks`,
          subject_types_supported: ['public', 'pairwise'],
          response_types_supported: ['id_token'],
          claims_supported: [
            'sub',
            'aud',
            'exp',
            'iat',
            'iss',
            'jti',
            'nbf',
            'ref',
            'sha',
            'repository',
            'repository_owner',
            'run_id',
            'run_number',
            'run_attempt',
            'actor',
            'workflow',
            'event_name',
            'ref_type',
            'environment',
            'job_workflow_ref'
          ],
          id_token_signing_alg_values_supported: ['RS256'],
          scopes_supported: ['openid']
        }
      })
    },
    {
      methods: ['GET'],
      template: '/.well-known/jwks',
      handler: () => ({ status: 200, body: { keys: [tokens.githubKey.jwk] } })
    }
  ]
}

/**
 * The runner-side endpoint behind ACTIONS_ID_TOKEN_REQUEST_URL: `@actions/core`'s getIDToken()
 * appends `&audience=...` and presents ACTIONS_ID_TOKEN_REQUEST_TOKEN as a bearer token.
 */
export function createGitHubRunnerService(
  tokens: TokenAuthority,
  workflow: () => GitHubWorkflow
): Service {
  return {
    name: 'GitHub Actions ID-token endpoint',
    matches: host => host === GITHUB_RUNNER_HOST,
    logKind: () => 'token',
    handle: ctx => dispatch(RUNNER_ROUTES, { ctx, tokens, workflow: workflow() }, ctx)
  }
}

interface RunnerRequest {
  ctx: ServiceContext
  tokens: TokenAuthority
  workflow: GitHubWorkflow
}

const RUNNER_ROUTES: Route<RunnerRequest>[] = [
  { methods: ['GET', 'POST'], template: '{job*}/idtoken', handler: r => issueIdToken(r) }
]

function issueIdToken(r: RunnerRequest): EmuResponse {
  const { req, now, timing } = r.ctx
  const wf = r.workflow
  const presented = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim()
  if (!presented || !sameSecret(presented, wf.requestToken)) {
    throw githubError(
      401,
      'The request token (ACTIONS_ID_TOKEN_REQUEST_TOKEN) is missing or not valid for this job.'
    )
  }
  const owner = wf.repository.split('/')[0] ?? wf.repository
  // Without an audience GitHub uses the URL of the repository owner.
  const audience = req.query.get('audience') || `https://github.com/${owner}`
  const { token } = r.tokens.issueGitHubIdToken({
    subject: wf.subject,
    audience,
    repository: wf.repository,
    lifetimeSeconds: timing.idTokenLifetimeSeconds,
    now: now()
  })
  return { status: 200, body: { count: token.length, value: token } }
}

/**
 * GitHub's REST API for the workflow's repository, as far as a pull-request comment needs it: the
 * token's user, pull requests, and listing, creating and updating issue comments. Every request
 * presents a token (the workflow's GITHUB_TOKEN, with the permission the scenario gives it, or a
 * user token of the scenario), spends from its rate limit, and gets GitHub's headers and errors.
 */
export function createGitHubApiService(workflow: () => GitHubWorkflow): Service {
  return {
    name: 'GitHub REST API',
    matches: host => host === GITHUB_API_HOST,
    handle: ctx => serveApi(ctx, workflow().token)
  }
}

const ISSUE_COMMENTS = '/repos/{owner}/{repo}/issues/{number}/comments'
const ISSUE_COMMENT = '/repos/{owner}/{repo}/issues/comments/{comment}'

const API_ROUTES: Route<ApiRequest>[] = [
  { methods: ['GET'], template: '/user', handler: authenticatedUser },
  { methods: ['GET'], template: '/rate_limit', handler: rateLimit },
  { methods: ['GET'], template: ISSUE_COMMENTS, handler: listComments },
  { methods: ['POST'], template: ISSUE_COMMENTS, handler: createComment },
  // where GitHub's Link headers point
  {
    methods: ['GET'],
    template: '/repositories/{repositoryId}/issues/{number}/comments',
    handler: listComments
  },
  { methods: ['GET'], template: ISSUE_COMMENT, handler: getComment },
  { methods: ['PATCH'], template: ISSUE_COMMENT, handler: updateComment },
  { methods: ['GET'], template: '/repos/{owner}/{repo}/pulls', handler: listPulls },
  { methods: ['GET'], template: '/repositories/{repositoryId}/pulls', handler: listPulls },
  { methods: ['GET'], template: '/repos/{owner}/{repo}/pulls/{number}', handler: getPull }
]

async function serveApi(ctx: ServiceContext, workflowToken: string): Promise<EmuResponse> {
  const state = ctx.world.github
  if (!state) throw githubError(503, 'The local GitHub has no repository in this world.')
  const { req } = ctx
  const now = ctx.now()
  const headers: Record<string, string> = {
    date: new Date(now).toUTCString(),
    'x-github-api-version-selected': '2022-11-28',
    'x-github-media-type': 'github.v3; format=json',
    'x-github-request-id': ctx.newGuid().toUpperCase()
  }
  const spend = (bucket: string, who: string) =>
    Object.assign(
      headers,
      spendRequest(state, {
        bucket,
        who,
        method: req.method,
        now,
        counts: !(req.method === 'GET' && /^\/rate_limit\/?$/.test(req.path))
      })
    )
  try {
    const caller = callerOf(req, state, workflowToken)
    if ('unauthenticated' in caller) {
      spend('anonymous', '127.0.0.1')
      throw githubError(401, caller.unauthenticated)
    }
    spend(
      caller.bucket,
      caller.installation
        ? `installation ID ${state.repositoryId % 100_000_000}`
        : `user ID ${caller.user.id}`
    )
    const response = await dispatch(API_ROUTES, { ctx, state, caller }, ctx)
    return {
      ...response,
      headers: { ...headers, ...response.headers },
      logPrincipal: caller.user.login
    }
  } catch (e) {
    if (e instanceof AzureError) e.response.headers = { ...headers, ...e.response.headers }
    throw e
  }
}
