import {
  presentedCredential,
  type EmuRequest,
  type Principal,
  type Service
} from '../core/service.js'
import type { TokenAuthority } from '../core/tokens.js'
import { stsIssuer } from '../core/tokens.js'
import { AzureError, azureError } from '../core/errors.js'
import { graphError } from '../services/graph/errors.js'

type Failure =
  | { kind: 'missing' }
  | { kind: 'format' }
  | { kind: 'invalid' }
  | { kind: 'expired'; exp: number }
  | { kind: 'not-yet-valid' }
  | { kind: 'audience'; aud: string }
  | { kind: 'tenant'; iss: string }

interface AuthEnv {
  tokens: TokenAuthority
  tenantId: string
  now: number
  newGuid(): string
}

/**
 * The caller of a request to a service that declares audiences, from its bearer token; throws the
 * 401 in the service's own shape when the token is missing or not acceptable.
 */
export function authenticate(service: Service, req: EmuRequest, env: AuthEnv): Principal {
  const failure = check(service, req, env)
  if ('principal' in failure) return failure.principal
  const style = service.authErrorStyle ?? (service.challenge ? 'keyvault' : 'arm')
  if (style === 'keyvault') throw keyVaultFailure(service, failure, env)
  if (style === 'graph') throw graphFailure(req, failure, env)
  throw armFailure(service, failure, env)
}

function check(
  service: Service,
  req: EmuRequest,
  env: AuthEnv
): Failure | { principal: Principal } {
  const presented = presentedCredential(req, ['Bearer'])
  if (presented.kind === 'missing') return { kind: 'missing' }
  if (presented.kind === 'malformed') return { kind: 'format' }
  const result = env.tokens.verifyAccessToken(presented.token, env.now)
  if (!result.ok) {
    if (result.reason === 'expired')
      return { kind: 'expired', exp: Number(result.claims?.exp ?? 0) }
    if (result.reason === 'not-yet-valid') return { kind: 'not-yet-valid' }
    return { kind: 'invalid' }
  }
  const { principal } = result
  const allowed = (service.audiences ?? []).map(trimSlash)
  if (!allowed.includes(trimSlash(principal.audience))) {
    return { kind: 'audience', aud: principal.audience }
  }
  if (principal.tenantId.toLowerCase() !== env.tenantId.toLowerCase()) {
    return { kind: 'tenant', iss: String(result.claims.iss ?? '') }
  }
  return { principal }
}

function trimSlash(s: string): string {
  return s.replace(/\/+$/, '').toLowerCase()
}

function armFailure(service: Service, f: Failure, env: AuthEnv): AzureError {
  const [code, message] = armMessage(service, f, env)
  const description =
    f.kind === 'missing'
      ? "The authentication failed because of missing 'Authorization' header."
      : f.kind === 'format'
        ? "The authentication failed because of invalid 'Authorization' header."
        : 'The access token is missing or invalid.'
  return azureError(
    401,
    code,
    message,
    {},
    {
      'www-authenticate': `Bearer authorization_uri="https://login.windows.net/", error="invalid_token", error_description="${description}"`
    }
  )
}

function armMessage(service: Service, f: Failure, env: AuthEnv): [string, string] {
  switch (f.kind) {
    case 'missing':
      return [
        'AuthenticationFailed',
        "Authentication failed. The 'Authorization' header is missing."
      ]
    case 'format':
      return [
        'AuthenticationFailed',
        "Authentication failed. The 'Authorization' header is provided in an invalid format."
      ]
    case 'invalid':
      return [
        'InvalidAuthenticationToken',
        'The access token is invalid: its signature could not be verified.'
      ]
    case 'expired':
      return [
        'ExpiredAuthenticationToken',
        `The access token expiry UTC time '${armTime(f.exp * 1000)}' is earlier than current UTC time '${armTime(env.now)}'.`
      ]
    case 'not-yet-valid':
      return ['InvalidAuthenticationToken', 'The access token is not yet valid.']
    case 'audience':
      return [
        'InvalidAuthenticationToken',
        `The access token has been obtained for wrong audience or resource '${f.aud}'. It should exactly match with one of the allowed audiences ${allowedAudiences(service)}.`
      ]
    case 'tenant':
      return [
        'InvalidAuthenticationTokenTenant',
        `The access token is from the wrong issuer '${f.iss}'. It must match the tenant '${stsIssuer(env.tenantId)}' associated with this subscription. Please use the authority (URL) 'https://login.windows.net/${env.tenantId}' to get the token.`
      ]
  }
}

function allowedAudiences(service: Service): string {
  const all = new Set<string>()
  for (const a of service.audiences ?? []) {
    const bare = a.replace(/\/+$/, '')
    all.add(`${bare}/`)
    all.add(bare)
  }
  return [...all].map(a => `'${a}'`).join(',')
}

/** ARM prints times like .NET's invariant culture: `9/14/2021 10:36:16 AM`. */
function armTime(ms: number): string {
  const d = new Date(ms)
  const h = d.getUTCHours()
  const pad = (n: number) => String(n).padStart(2, '0')
  return (
    `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()} ` +
    `${h % 12 === 0 ? 12 : h % 12}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${h < 12 ? 'AM' : 'PM'}`
  )
}

function graphFailure(req: EmuRequest, f: Failure, env: AuthEnv): AzureError {
  const message =
    f.kind === 'missing'
      ? 'Access token is empty.'
      : f.kind === 'format'
        ? 'Access token validation failure. Invalid authorization header.'
        : f.kind === 'expired'
          ? 'Lifetime validation failed, the token is expired.'
          : f.kind === 'audience'
            ? 'Access token validation failure. Invalid audience.'
            : f.kind === 'tenant'
              ? 'Access token validation failure. Invalid issuer.'
              : 'Access token validation failure.'
  const error = graphError(
    { req, now: () => env.now, newGuid: () => env.newGuid() },
    401,
    'InvalidAuthenticationToken',
    message
  )
  error.response.headers = {
    ...error.response.headers,
    'www-authenticate':
      'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"'
  }
  return error
}

function keyVaultFailure(service: Service, f: Failure, env: AuthEnv): AzureError {
  const challenge = service.challenge
  const resource = challenge?.resource ?? service.audiences?.[0] ?? ''
  const message =
    f.kind === 'missing' || f.kind === 'format'
      ? 'AKV10000: Request is missing a Bearer or PoP token.'
      : f.kind === 'audience'
        ? `AKV10022: Invalid audience. Expected ${resource}, found: ${f.aud}.`
        : f.kind === 'expired'
          ? 'AKV10021: Token validation failed: the token is expired.'
          : f.kind === 'tenant'
            ? `AKV10032: Invalid issuer. Expected one of ${stsIssuer(env.tenantId)}, found ${f.iss}.`
            : 'AKV10021: Token validation failed: the token signature is not valid.'
  const headers: Record<string, string> = {}
  if (challenge) {
    headers['www-authenticate'] =
      `Bearer authorization="${challenge.authorization(env.tenantId)}", resource="${challenge.resource}"`
  }
  return azureError(401, 'Unauthorized', message, {}, headers)
}
