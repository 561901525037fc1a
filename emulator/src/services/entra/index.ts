import { timingSafeEqual } from 'node:crypto'
import type { EmuResponse, Service, ServiceContext } from '../../core/service.js'
import type { Application } from '../../core/world.js'
import { AzureError } from '../../core/errors.js'
import { ENTRA_HOST, GITHUB_ISSUER } from '../../core/hosts.js'
import { EMULATED_CLOUDS, knownTokenResources } from '../../core/clouds.js'
import type { SigningKey } from '../../core/signing-key.js'
import { findRoute, type Route } from '../../core/routes.js'
import { decodeJwt, verifyJwtSignature } from '../../core/jwt.js'
import type { TokenAuthority } from '../../core/tokens.js'
import { AADSTS, entraError, type EntraErrorContext } from './errors.js'
import { instanceDiscovery, openIdConfiguration } from './metadata.js'

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

/** Resources the local Azure can issue tokens for, in every cloud (compared without trailing slashes). */
const KNOWN_RESOURCES = [...knownTokenResources(), 'https://vault.azure.net']

/** An OIDC issuer whose ID tokens Entra ID accepts as client assertions, and the key that signs them. */
export interface FederatedIssuer {
  issuer: string
  key: SigningKey
}

interface EntraRequest {
  ctx: ServiceContext
  tokens: TokenAuthority
  errCtx: EntraErrorContext
  issuers: FederatedIssuer[]
}

function metadata({ ctx, errCtx }: EntraRequest, tenant: string, version: 'v1' | 'v2.0') {
  const known = tenant.toLowerCase() === ctx.world.tenantId
  if (!known && !['common', 'organizations'].includes(tenant)) {
    throw entraError(errCtx, 400, 'invalid_tenant', ...AADSTS.tenantNotFound(tenant))
  }
  return { status: 200, body: openIdConfiguration(tenant, version, ctx.req.host) }
}

function token(r: EntraRequest, tenant: string, v1: boolean): EmuResponse {
  if (tenant.toLowerCase() !== r.ctx.world.tenantId) {
    throw entraError(r.errCtx, 400, 'invalid_request', ...AADSTS.tenantNotFound(tenant))
  }
  return issueToken(r, v1)
}

const signingKeys = ({ tokens }: EntraRequest) => ({
  status: 200,
  body: { keys: [tokens.entraKey.jwk] }
})

const ROUTES: Route<EntraRequest>[] = [
  {
    methods: ['GET'],
    template: '/common/discovery/instance',
    handler: ({ ctx }) => ({
      status: 200,
      body: instanceDiscovery(ctx.req.query.get('authorization_endpoint'), ctx.req.host)
    })
  },
  {
    methods: ['GET'],
    template: '/{tenant}/v2.0/.well-known/openid-configuration',
    handler: (r, p) => metadata(r, p.tenant!, 'v2.0')
  },
  {
    methods: ['GET'],
    template: '/{tenant}/.well-known/openid-configuration',
    handler: (r, p) => metadata(r, p.tenant!, 'v1')
  },
  { methods: ['GET'], template: '/{tenant}/discovery/v2.0/keys', handler: signingKeys },
  { methods: ['GET'], template: '/{tenant}/discovery/keys', handler: signingKeys },
  {
    methods: ['POST'],
    template: '/{tenant}/oauth2/v2.0/token',
    handler: (r, p) => token(r, p.tenant!, false)
  },
  {
    methods: ['POST'],
    template: '/{tenant}/oauth2/token',
    handler: (r, p) => token(r, p.tenant!, true)
  }
]

/**
 * Microsoft Entra ID: discovery metadata, signing keys and the client-credentials token endpoint.
 * Client assertions are accepted from GitHub's issuer, the tenant's own v2.0 issuer (in every
 * cloud) and `moreIssuers` (e.g. an Azure DevOps organization's).
 */
export function createEntraService(
  tokens: TokenAuthority,
  moreIssuers: () => FederatedIssuer[] = () => []
): Service {
  return {
    name: 'Microsoft Entra ID',
    matches: host => host === ENTRA_HOST,
    logKind: req => (/\/oauth2\/(v2\.0\/)?token$/.test(req.path) ? 'token' : undefined),
    handle: ctx => {
      const { req } = ctx
      const match = findRoute(ROUTES, req.method, req.path)
      if (!match?.allowed) {
        throw new AzureError({
          status: 404,
          body: {
            error: 'not_found',
            error_description: `The local Azure's Entra ID does not serve ${req.method} ${req.path}.`
          }
        })
      }
      const issuers = [
        { issuer: GITHUB_ISSUER, key: tokens.githubKey },
        ...EMULATED_CLOUDS.map(c => ({
          issuer: `https://${c.entraHost}/${ctx.world.tenantId}/v2.0`,
          key: tokens.entraKey
        })),
        ...moreIssuers()
      ]
      return match.route.handler({ ctx, tokens, errCtx: errorContext(ctx), issuers }, match.params)
    }
  }
}

function issueToken(r: EntraRequest, v1: boolean): EmuResponse {
  const { ctx, tokens, errCtx } = r
  const { req, world, timing } = ctx
  const form = new URLSearchParams(req.body.toString('utf8'))
  const basic = basicCredentials(req.headers.authorization)
  const grantType = form.get('grant_type')
  if (!grantType)
    throw entraError(errCtx, 400, 'invalid_request', ...AADSTS.missingParameter('grant_type'))
  if (grantType !== 'client_credentials') {
    throw entraError(errCtx, 400, 'unsupported_grant_type', ...AADSTS.unsupportedGrant(grantType))
  }
  const clientId = form.get('client_id') ?? basic?.clientId
  if (!clientId)
    throw entraError(errCtx, 400, 'invalid_request', ...AADSTS.missingParameter('client_id'))
  const app = world.applications[clientId.toLowerCase()]
  if (!app) {
    throw entraError(
      errCtx,
      400,
      'unauthorized_client',
      ...AADSTS.appNotFound(clientId, world.tenantId)
    )
  }

  let credential: 'secret' | 'assertion'
  const assertion = form.get('client_assertion')
  const secret = form.get('client_secret') ?? basic?.secret
  if (assertion !== null) {
    const assertionType = form.get('client_assertion_type')
    if (!assertionType) {
      throw entraError(
        errCtx,
        400,
        'invalid_request',
        ...AADSTS.missingParameter('client_assertion_type')
      )
    }
    if (assertionType !== JWT_BEARER) {
      throw entraError(errCtx, 400, 'invalid_request', ...AADSTS.badAssertionType())
    }
    const problem = checkFederatedAssertion(app, assertion, r.issuers, ctx.now())
    if (problem)
      throw entraError(errCtx, problem.status, 'invalid_client', problem.code, problem.message)
    credential = 'assertion'
  } else if (secret !== null && secret !== undefined) {
    if (!app.clientSecrets.some(s => sameSecret(s, secret))) {
      throw entraError(errCtx, 401, 'invalid_client', ...AADSTS.badSecret(app.appId))
    }
    credential = 'secret'
  } else {
    throw entraError(errCtx, 401, 'invalid_client', ...AADSTS.noCredential())
  }

  let resource: string
  if (v1) {
    const r = form.get('resource')
    if (!r) throw entraError(errCtx, 400, 'invalid_request', ...AADSTS.missingParameter('resource'))
    resource = r
  } else {
    const scope = form.get('scope')
    if (!scope)
      throw entraError(errCtx, 400, 'invalid_request', ...AADSTS.missingParameter('scope'))
    const scopes = scope
      .split(' ')
      .filter(s => s && !['openid', 'profile', 'offline_access'].includes(s))
    if (scopes.length !== 1 || !scopes[0]!.endsWith('/.default')) {
      throw entraError(errCtx, 400, 'invalid_scope', ...AADSTS.invalidScope(scope))
    }
    resource = scopes[0]!.slice(0, -'/.default'.length)
  }
  if (!KNOWN_RESOURCES.includes(resource.replace(/\/+$/, '').toLowerCase())) {
    throw entraError(
      errCtx,
      400,
      'invalid_resource',
      ...AADSTS.unknownResource(resource, world.tenantId)
    )
  }

  const lifetime = timing.accessTokenLifetimeSeconds
  const issued = tokens.issueAccessToken({
    tenantId: world.tenantId,
    appId: app.appId,
    objectId: app.servicePrincipalId,
    audience: resource,
    lifetimeSeconds: lifetime,
    now: ctx.now(),
    credential
  })
  const body: Record<string, unknown> = {
    token_type: 'Bearer',
    expires_in: lifetime,
    ext_expires_in: lifetime,
    access_token: issued.token
  }
  if (v1) {
    body.expires_on = String(issued.expiresOn)
    body.not_before = String(issued.expiresOn - lifetime)
    body.resource = resource
  }
  return {
    status: 200,
    headers: {
      'x-ms-request-id': errCtx.traceId,
      'client-request-id': errCtx.correlationId,
      'cache-control': 'no-store, no-cache',
      pragma: 'no-cache'
    },
    body,
    logAs: 'token',
    logPrincipal: app.servicePrincipalId
  }
}

interface AssertionProblem {
  status: number
  code: number
  message: string
}

/** Validates a federated (workload identity) client assertion the way Entra ID reports it. */
function checkFederatedAssertion(
  app: Application,
  assertion: string,
  issuers: FederatedIssuer[],
  now: number
): AssertionProblem | undefined {
  const problem = (status: number, [code, message]: readonly [number, string]) => ({
    status,
    code,
    message
  })
  const jwt = decodeJwt(assertion)
  if (!jwt) return problem(400, AADSTS.malformedAssertion())
  const c = jwt.payload
  const iss = typeof c.iss === 'string' ? c.iss : ''
  const sub = typeof c.sub === 'string' ? c.sub : ''
  const auds = Array.isArray(c.aud) ? c.aud.map(String) : typeof c.aud === 'string' ? [c.aud] : []

  const byIssuer = app.federatedCredentials.filter(fc => fc.issuer === iss)
  if (!byIssuer.length) return problem(401, AADSTS.issuerMismatch(iss))
  const trusted = issuers.find(i => i.issuer === iss)
  if (!trusted) return problem(401, AADSTS.externalIssuerUnreachable(iss))
  if (jwt.header.kid !== trusted.key.kid || !verifyJwtSignature(jwt, trusted.key.publicKey)) {
    return problem(401, AADSTS.badSignature(String(jwt.header.kid ?? '')))
  }
  const nowSeconds = now / 1000
  const exp = typeof c.exp === 'number' ? c.exp : undefined
  const nbf = typeof c.nbf === 'number' ? c.nbf : undefined
  if (exp === undefined || exp <= nowSeconds || (nbf !== undefined && nbf > nowSeconds + 300)) {
    return problem(401, AADSTS.assertionTime(now, nbf, exp))
  }
  const bySubject = byIssuer.filter(fc => fc.subject === sub)
  if (!bySubject.length) return problem(401, AADSTS.subjectMismatch(sub))
  if (!bySubject.some(fc => fc.audiences.some(a => auds.includes(a)))) {
    return problem(401, AADSTS.audienceMismatch(auds.join(', ')))
  }
  return undefined
}

function basicCredentials(
  header: string | undefined
): { clientId: string; secret: string } | undefined {
  const m = /^Basic\s+(.+)$/i.exec(header ?? '')
  if (!m) return undefined
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8')
  const i = decoded.indexOf(':')
  if (i < 0) return undefined
  return {
    clientId: decodeURIComponent(decoded.slice(0, i)),
    secret: decodeURIComponent(decoded.slice(i + 1))
  }
}

function errorContext(ctx: ServiceContext): EntraErrorContext {
  const header = ctx.req.headers['client-request-id']
  const correlationId = (Array.isArray(header) ? header[0] : header) ?? ctx.newGuid()
  return { traceId: ctx.newGuid(), correlationId, now: ctx.now() }
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}
