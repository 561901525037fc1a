import { randomUUID, timingSafeEqual } from 'node:crypto'
import type { EmuResponse, Service, ServiceContext } from '../../core/service.js'
import type { TokenAuthority } from '../../core/tokens.js'
import { AZURE_DEVOPS_HOST, AZURE_DEVOPS_ISSUER_HOST } from '../../core/hosts.js'
import { findRoute, type Route } from '../../core/routes.js'
import { devOpsError, devOpsHeaders, notReferenced, notSignedIn } from './errors.js'
import {
  azureDevOpsIssuer,
  connectionSubject,
  entraIssuer,
  type PipelineRun,
  type ServiceConnection
} from './pipeline-run.js'

/** The audience of every ID token Azure DevOps issues for a service connection. */
const TOKEN_EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange'
const API_VERSIONS = ['7.1', '7.1-preview.1', '7.2-preview.1']

interface DevOpsRequest {
  ctx: ServiceContext
  tokens: TokenAuthority
  run: PipelineRun | undefined
}

const ROUTES: Route<DevOpsRequest>[] = [
  {
    methods: ['POST'],
    template: '/{org}/{project}/_apis/distributedtask/hubs/{hub}/plans/{plan}/jobs/{job}/oidctoken',
    handler: (r, p) => createOidcToken(r, p)
  }
]

/**
 * Azure DevOps Services as a job's tasks use it: the OIDC token endpoint behind
 * `System.OidcRequestUri` ("Oidctoken - Create"), for the pipeline run the scenario describes.
 */
export function createAzureDevOpsService(
  tokens: TokenAuthority,
  run: () => PipelineRun | undefined
): Service {
  return {
    name: 'Azure DevOps',
    matches: host => host === AZURE_DEVOPS_HOST,
    logKind: () => 'token',
    handle: ctx => {
      const match = findRoute(ROUTES, ctx.req.method, ctx.req.path)
      if (!match) {
        throw devOpsError(
          404,
          'ApiResourceNotFoundException',
          `The local Azure DevOps serves only a job's OIDC token endpoint, not ${ctx.req.path}.`
        )
      }
      if (!match.allowed) {
        throw devOpsError(
          405,
          'RequestMethodNotSupportedException',
          `The requested resource does not support http method '${ctx.req.method}'.`
        )
      }
      return match.route.handler({ ctx, tokens, run: run() }, match.params)
    }
  }
}

function createOidcToken(r: DevOpsRequest, p: Record<string, string>): EmuResponse {
  const { ctx, run } = r
  const { req } = ctx
  if (!run || p.org!.toLowerCase() !== run.organization.toLowerCase()) {
    throw devOpsError(
      404,
      'OrganizationNotFoundException',
      `VS800075: The organization '${p.org}' does not exist, or you do not have access to it.`
    )
  }
  const presented = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1]
  if (!presented || !sameSecret(presented, run.accessToken)) {
    const suppress = String(req.headers['x-tfs-fedauthredirect'] ?? '').toLowerCase() === 'suppress'
    throw notSignedIn(suppress, `https://${AZURE_DEVOPS_HOST}${req.rawUrl}`)
  }
  checkApiVersion(req.query.get('api-version'))
  const project = p.project!.toLowerCase()
  if (project !== run.projectId && project !== run.project.toLowerCase()) {
    throw devOpsError(
      404,
      'ProjectDoesNotExistWithNameException',
      `TF200016: The following project does not exist: ${p.project}. Verify that the name of the project is correct and that the project exists on the specified Azure DevOps Server.`
    )
  }
  if (
    p.hub!.toLowerCase() !== run.hostType ||
    p.plan!.toLowerCase() !== run.planId ||
    p.job!.toLowerCase() !== run.jobId
  ) {
    throw devOpsError(
      404,
      'TaskOrchestrationPlanNotFoundException',
      `Plan ${p.plan} not found in hub ${p.hub}, or job ${p.job} is not part of it.`
    )
  }
  const connectionId = req.query.get('serviceConnectionId')?.toLowerCase()
  const now = Math.floor(ctx.now() / 1000)
  const lifetime = ctx.timing.idTokenLifetimeSeconds
  const base = {
    jti: randomUUID(),
    aud: TOKEN_EXCHANGE_AUDIENCE,
    nbf: now - 600,
    exp: now + lifetime,
    iat: now
  }
  let token: string
  if (!connectionId) {
    token = r.tokens.issueIdToken(
      {
        ...base,
        sub: `p://${run.organization}/${run.project}/${run.pipelineName}`,
        iss: azureDevOpsIssuer(run),
        org_id: run.organizationId,
        prj_id: run.projectId,
        def_id: String(run.pipelineId),
        run_id: String(run.buildId)
      },
      r.tokens.azureDevOpsKey
    ).token
  } else {
    const connection = run.serviceConnections.find(c => c.id === connectionId)
    if (!connection?.referenced) throw notReferenced(connectionId, run.stage, run.job)
    token = issueConnectionToken(r, run, connection, base)
  }
  return {
    status: 200,
    headers: { ...devOpsHeaders(), 'content-type': 'application/json; charset=utf-8' },
    body: { oidcToken: token },
    logAs: 'token'
  }
}

function issueConnectionToken(
  r: DevOpsRequest,
  run: PipelineRun,
  connection: ServiceConnection,
  base: Record<string, unknown>
): string {
  if (connection.scheme.toLowerCase() !== 'workloadidentityfederation') {
    throw devOpsError(
      400,
      'InvalidServiceEndpointException',
      `Service connection '${connection.name}' (${connection.id}) uses the authentication scheme ` +
        `'${connection.scheme}', not workload identity federation, so no ID token can be issued for it.`
    )
  }
  const entra = connection.issuer === 'entra'
  const claims = {
    ...base,
    sub: connectionSubject(run, connection),
    iss: entra ? entraIssuer(run, connection) : azureDevOpsIssuer(run)
  }
  return r.tokens.issueIdToken(claims, entra ? r.tokens.entraKey : r.tokens.azureDevOpsKey).token
}

function checkApiVersion(version: string | null): void {
  if (!version) {
    throw devOpsError(
      400,
      'VssVersionNotSpecifiedException',
      'No api-version was supplied for the POST request. An api-version must be supplied, e.g. api-version=7.1.'
    )
  }
  if (API_VERSIONS.includes(version)) return
  if (/-preview/i.test(version)) {
    throw devOpsError(
      400,
      'VssInvalidPreviewVersionException',
      `The resource version ${version} is a preview version that this resource does not support; ` +
        `use api-version=${API_VERSIONS[0]}.`
    )
  }
  throw devOpsError(
    400,
    'VssVersionOutOfRangeException',
    `The requested REST API version of ${version} is out of range for this server. The oidctoken ` +
      `resource needs ${API_VERSIONS[0]} or later.`
  )
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

/** The Azure DevOps OIDC issuer: one discovery document per organization, one key set for all. */
export function createAzureDevOpsIssuerService(
  tokens: TokenAuthority,
  run: () => PipelineRun | undefined
): Service {
  const routes: Route<undefined>[] = [
    {
      methods: ['GET'],
      template: '/.well-known/jwks',
      handler: () => ({ status: 200, body: { keys: [tokens.azureDevOpsKey.jwk] } })
    },
    {
      methods: ['GET'],
      template: '/{org}/.well-known/openid-configuration',
      handler: (_r, p) => {
        const current = run()
        if (!current || p.org!.toLowerCase() !== current.organizationId) {
          throw devOpsError(
            404,
            'OrganizationNotFoundException',
            `No Azure DevOps organization has the id '${p.org}'.`
          )
        }
        return { status: 200, body: discoveryDocument(azureDevOpsIssuer(current)) }
      }
    }
  ]
  return {
    name: 'Azure DevOps OIDC issuer',
    matches: host => host === AZURE_DEVOPS_ISSUER_HOST,
    handle: ctx => {
      const match = findRoute(routes, ctx.req.method, ctx.req.path)
      if (!match?.allowed) {
        throw devOpsError(404, 'ApiResourceNotFoundException', `Not found: ${ctx.req.path}`)
      }
      return match.route.handler(undefined, match.params)
    }
  }
}

function discoveryDocument(issuer: string): Record<string, unknown> {
  return {
    issuer,
    jwks_uri: `https://${AZURE_DEVOPS_ISSUER_HOST}/.well-known/jwks`,
    subject_types_supported: ['public'],
    response_types_supported: ['id_token'],
    claims_supported: ['sub', 'aud', 'exp', 'iat', 'iss', 'nbf', 'jti'],
    id_token_signing_alg_values_supported: ['RS256'],
    scopes_supported: ['openid']
  }
}
