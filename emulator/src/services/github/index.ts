import { timingSafeEqual } from 'node:crypto'
import type { EmuResponse, Service } from '../../core/service.js'
import type { TokenAuthority } from '../../core/tokens.js'
import { GITHUB_ISSUER, GITHUB_ISSUER_HOST, GITHUB_RUNNER_HOST } from '../../core/hosts.js'
import type { GitHubWorkflow } from './workflow.js'

/** GitHub's OIDC issuer: discovery document and signing keys. */
export function createGitHubIssuerService(tokens: TokenAuthority): Service {
  return {
    name: 'GitHub Actions OIDC issuer',
    matches: host => host === GITHUB_ISSUER_HOST,
    handle: ({ req }) => {
      if (req.method !== 'GET') return githubError(405, 'Method Not Allowed')
      if (req.path === '/.well-known/openid-configuration') {
        return {
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
        }
      }
      if (req.path === '/.well-known/jwks') {
        return { status: 200, body: { keys: [tokens.githubKey.jwk] } }
      }
      return githubError(404, 'Not Found')
    }
  }
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
    handle: ({ req, now, timing }): EmuResponse => {
      if (!/\/idtoken$/.test(req.path)) return githubError(404, 'Not Found')
      if (req.method !== 'GET' && req.method !== 'POST')
        return githubError(405, 'Method Not Allowed')
      const wf = workflow()
      const presented = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim()
      if (!presented || !sameSecret(presented, wf.requestToken)) {
        return githubError(
          401,
          'The request token (ACTIONS_ID_TOKEN_REQUEST_TOKEN) is missing or not valid for this job.'
        )
      }
      const owner = wf.repository.split('/')[0] ?? wf.repository
      // Without an audience GitHub uses the URL of the repository owner.
      const audience = req.query.get('audience') || `https://github.com/${owner}`
      const { token } = tokens.issueGitHubIdToken({
        subject: wf.subject,
        audience,
        repository: wf.repository,
        lifetimeSeconds: timing.idTokenLifetimeSeconds,
        now: now()
      })
      return { status: 200, body: { count: token.length, value: token } }
    }
  }
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

function githubError(status: number, message: string): EmuResponse {
  return { status, body: { message } }
}
