import { timingSafeEqual } from 'node:crypto'
import type { EmuResponse, Service, ServiceContext } from '../../core/service.js'
import type { TokenAuthority } from '../../core/tokens.js'
import { AzureError } from '../../core/errors.js'
import { GITHUB_ISSUER, GITHUB_ISSUER_HOST, GITHUB_RUNNER_HOST } from '../../core/hosts.js'
import { findRoute, type Route } from '../../core/routes.js'
import type { GitHubWorkflow } from '../../model/github-workflow.js'

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

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

function githubError(status: number, message: string): AzureError {
  return new AzureError({ status, body: { message } })
}
