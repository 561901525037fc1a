import { randomBytes, randomUUID } from 'node:crypto'
import { decodeJwt, signJwt, verifyJwtSignature, type JwtClaims } from './jwt.js'
import type { SigningKey } from './signing-key.js'
import type { Principal } from './service.js'
import { GITHUB_ISSUER } from './hosts.js'

interface AccessTokenRequest {
  tenantId: string
  appId: string
  /** Object id of the caller's service principal (the token's `oid`). */
  objectId: string
  /** The resource the token is for, e.g. `https://management.azure.com`. */
  audience: string
  lifetimeSeconds: number
  /** Epoch milliseconds. */
  now: number
  /** 'secret' or 'assertion' (a certificate or federated credential). */
  credential?: 'secret' | 'assertion'
  extraClaims?: JwtClaims
}

interface IssuedToken {
  token: string
  /** Epoch seconds. */
  expiresOn: number
}

type AccessTokenCheck =
  | { ok: true; principal: Principal; claims: JwtClaims }
  | {
      ok: false
      reason: 'malformed' | 'signature' | 'expired' | 'not-yet-valid'
      claims?: JwtClaims
    }

interface GitHubIdTokenRequest {
  subject: string
  audience: string
  repository: string
  lifetimeSeconds: number
  now: number
  extraClaims?: JwtClaims
}

export function stsIssuer(tenantId: string): string {
  return `https://sts.windows.net/${tenantId}/`
}

/** Every token an authority signed, oldest first: what a leak check must never find in output. */
export interface IssuedTokens {
  accessTokens: string[]
  /** GitHub and Azure DevOps ID tokens, which clients present to Entra ID as client assertions. */
  idTokens: string[]
}

/** How many tokens of each kind are remembered (the oldest are forgotten first). */
const ISSUED_LIMIT = 10_000

/** Signs and checks the tokens of the emulated Entra ID and the emulated GitHub OIDC issuer. */
export class TokenAuthority {
  private readonly issuedAccess: string[] = []
  private readonly issuedIds: string[] = []

  constructor(
    readonly entraKey: SigningKey,
    readonly githubKey: SigningKey,
    /** Signs Azure DevOps' own ID tokens (issuer `https://vstoken.dev.azure.com/{org id}`). */
    readonly azureDevOpsKey: SigningKey = githubKey
  ) {}

  /** Copies of the tokens signed so far (kept in memory only, never logged or served). */
  issued(): IssuedTokens {
    return { accessTokens: [...this.issuedAccess], idTokens: [...this.issuedIds] }
  }

  issueAccessToken(r: AccessTokenRequest): IssuedToken {
    const iat = Math.floor(r.now / 1000)
    const exp = iat + r.lifetimeSeconds
    const claims: JwtClaims = {
      aud: r.audience,
      iss: stsIssuer(r.tenantId),
      iat,
      nbf: iat,
      exp,
      aio: randomBytes(24).toString('base64url'),
      appid: r.appId,
      appidacr: r.credential === 'secret' ? '1' : '2',
      azp: r.appId,
      azpacr: r.credential === 'secret' ? '1' : '2',
      idp: stsIssuer(r.tenantId),
      idtyp: 'app',
      oid: r.objectId,
      rh: randomBytes(16).toString('base64url'),
      sub: r.objectId,
      tid: r.tenantId,
      uti: randomBytes(16).toString('base64url'),
      ver: '1.0',
      ...r.extraClaims
    }
    return sign(claims, exp, this.entraKey, this.issuedAccess)
  }

  /** Checks signature and lifetime; audience and tenant are the caller's business. */
  verifyAccessToken(token: string, now: number): AccessTokenCheck {
    const jwt = decodeJwt(token)
    if (!jwt) return { ok: false, reason: 'malformed' }
    if (!verifyJwtSignature(jwt, this.entraKey.publicKey)) {
      return { ok: false, reason: 'signature', claims: jwt.payload }
    }
    const c = jwt.payload
    const nowSeconds = Math.floor(now / 1000)
    if (typeof c.exp !== 'number' || c.exp <= nowSeconds) {
      return { ok: false, reason: 'expired', claims: c }
    }
    if (typeof c.nbf === 'number' && c.nbf > nowSeconds + 300) {
      return { ok: false, reason: 'not-yet-valid', claims: c }
    }
    return {
      ok: true,
      claims: c,
      principal: {
        objectId: String(c.oid ?? ''),
        appId: String(c.appid ?? c.azp ?? ''),
        tenantId: String(c.tid ?? ''),
        audience: String(c.aud ?? '')
      }
    }
  }

  /**
   * An ID token with exactly these claims (an Azure DevOps service connection's), signed by `key`
   * and remembered with the other ID tokens for leak checks.
   */
  issueIdToken(claims: JwtClaims, key: SigningKey): IssuedToken {
    return sign(claims, Number(claims.exp), key, this.issuedIds)
  }

  issueGitHubIdToken(r: GitHubIdTokenRequest): IssuedToken {
    const iat = Math.floor(r.now / 1000)
    const exp = iat + r.lifetimeSeconds
    const claims: JwtClaims = {
      jti: randomUUID(),
      sub: r.subject,
      aud: r.audience,
      ...workflowClaims(r.subject, r.repository),
      iss: GITHUB_ISSUER,
      nbf: iat - 5,
      exp,
      iat,
      ...r.extraClaims
    }
    return sign(claims, exp, this.githubKey, this.issuedIds)
  }
}

/** Signs the claims and remembers the token in `issued`. */
function sign(claims: JwtClaims, exp: number, key: SigningKey, issued: string[]): IssuedToken {
  const token = signJwt(claims, key.privateKey, { kid: key.kid, x5t: key.kid })
  issued.push(token)
  if (issued.length > ISSUED_LIMIT) issued.splice(0, issued.length - ISSUED_LIMIT)
  return { token, expiresOn: exp }
}

/** The claims GitHub derives from the workflow run, filled in consistently with the subject. */
function workflowClaims(subject: string, repository: string): JwtClaims {
  const owner = repository.split('/')[0] ?? repository
  const context = subject.startsWith(`repo:${repository}:`)
    ? subject.slice(`repo:${repository}:`.length)
    : ''
  let ref = 'refs/heads/main'
  let eventName = 'push'
  const claims: JwtClaims = {}
  if (context.startsWith('ref:')) {
    ref = context.slice(4)
  } else if (context.startsWith('environment:')) {
    claims.environment = context.slice('environment:'.length)
  } else if (context === 'pull_request') {
    eventName = 'pull_request'
    ref = 'refs/pull/1/merge'
  }
  return {
    ref,
    sha: '0000000000000000000000000000000000000000',
    repository,
    repository_owner: owner,
    run_id: '1',
    run_number: '1',
    run_attempt: '1',
    repository_visibility: 'private',
    actor: owner,
    event_name: eventName,
    ref_type: ref.startsWith('refs/tags/') ? 'tag' : 'branch',
    workflow: 'deploy',
    job_workflow_ref: `${repository}/.github/workflows/deploy.yml@${ref}`,
    runner_environment: 'github-hosted',
    ...claims
  }
}
