import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth'
import {
  AzureCliCredential,
  ChainedTokenCredential,
  ClientAssertionCredential,
  EnvironmentCredential,
  ManagedIdentityCredential,
  WorkloadIdentityCredential
} from '@azure/identity'
import { transportOptions } from '../azure/http.js'
import type { TransportSettings } from '../azure/transport.js'
import type { AzureCloud } from '../cloud.js'
import { ActionError, messageOf } from '../errors.js'
import type { Inputs } from '../inputs/settings.js'
import type { Runner } from '../runner/runner.js'
import { azureDevOpsAdvice } from './federation-advice.js'
import { decodeJwtClaims, stringClaim } from './jwt.js'

export interface CredentialSetup {
  inputs: Pick<Inputs, 'auth'>
  cloud: AzureCloud
  runner: Pick<Runner, 'getIdToken' | 'setSecret'>
  transport: TransportSettings
  /** The run's first ID token, asked for early (see `run`), used for the first assertion. */
  firstIdToken?: Promise<string>
}

/**
 * The credential for `auth-type`. Every token it hands out is masked in the log. With `oidc` the
 * client assertion is a GitHub ID token fetched afresh each time Entra ID is asked for a token:
 * an ID token lives about 5 minutes, a run can last an hour.
 */
export function createCredential(setup: CredentialSetup): TokenCredential {
  const { inputs, cloud, runner } = setup
  const options = { authorityHost: cloud.authorityHost, ...transportOptions(setup.transport) }
  const { clientId, tenantId, audience } = inputs.auth
  switch (inputs.auth.type) {
    case 'oidc': {
      const presented = new FederatedAssertion(runner, audience)
      if (setup.firstIdToken) presented.startWith(setup.firstIdToken)
      const credential = new ClientAssertionCredential(
        tenantId ?? '',
        clientId ?? '',
        () => presented.fetch(),
        options
      )
      return new MaskingCredential(
        credential,
        runner,
        error => presented.explain(error, clientId ?? ''),
        Date.now,
        undefined,
        tenantId
      )
    }
    case 'azure-cli':
      return new MaskingCredential(new AzureCliCredential({ tenantId }), runner)
    case 'credential-chain': {
      const chain: TokenCredential[] = [new EnvironmentCredential(options)]
      if (process.env.AZURE_FEDERATED_TOKEN_FILE) {
        chain.push(new WorkloadIdentityCredential({ ...options, clientId, tenantId }))
      }
      chain.push(
        clientId
          ? new ManagedIdentityCredential({ ...options, clientId })
          : new ManagedIdentityCredential(options)
      )
      chain.push(new AzureCliCredential({ tenantId }))
      return new MaskingCredential(new ChainedTokenCredential(...chain), runner)
    }
  }
}

/**
 * Fetches GitHub ID tokens and remembers the claims of the last one for error messages. MSAL asks
 * for the assertion twice while acquiring one access token; a token fetched moments ago serves both.
 */
export class FederatedAssertion {
  private claims: Record<string, unknown> | undefined
  private last: { token: string; at: number; expiresAt?: number } | undefined
  private first: Promise<string> | undefined
  private pending: Promise<string> | undefined

  constructor(
    private readonly runner: Pick<Runner, 'getIdToken' | 'setSecret'>,
    private readonly audience: string,
    private readonly now: () => number = Date.now,
    private readonly reuseWithinMs = 2_000
  ) {}

  /** An ID token already asked for, to be taken by the first fetch instead of asking again. */
  startWith(token: Promise<string>): void {
    token.catch(() => {})
    this.first = token
  }

  /** Callers at the same moment (the access tokens asked for side by side) share one ID token. */
  async fetch(): Promise<string> {
    if (this.last && this.reusable(this.last)) return this.last.token
    this.pending ??= this.fetchFresh().finally(() => (this.pending = undefined))
    return this.pending
  }

  private async fetchFresh(): Promise<string> {
    let token: string
    const first = this.first
    this.first = undefined
    try {
      token = await (first ?? this.runner.getIdToken(this.audience))
    } catch (error) {
      // A runner that explained the failure itself (Azure Pipelines) knows better what to do.
      if (error instanceof ActionError) throw error
      throw new ActionError(
        `Could not get an OIDC ID token from the runner: ${messageOf(error)}. ` +
          'The workflow (or job) needs `permissions: id-token: write`.'
      )
    }
    this.runner.setSecret(token)
    try {
      this.claims = decodeJwtClaims(token)
    } catch {
      this.claims = undefined
    }
    const exp = this.claims?.exp
    this.last = {
      token,
      at: this.now(),
      expiresAt: typeof exp === 'number' ? exp * 1000 : undefined
    }
    return token
  }

  /**
   * Fetched moments ago and still in the first half of its life: Entra ID checks it a little later,
   * and an ID token can be short-lived (GitHub's live about 5 minutes, test tokens seconds).
   */
  private reusable(last: { at: number; expiresAt?: number }): boolean {
    const now = this.now()
    if (now - last.at >= this.reuseWithinMs) return false
    return last.expiresAt === undefined || last.expiresAt - now > (last.expiresAt - last.at) / 2
  }

  /** Turns Entra ID's federation errors into a message that shows what was presented. */
  explain(error: unknown, clientId: string): Error | undefined {
    const text = messageOf(error)
    const code = /AADSTS\d+/.exec(text)?.[0]
    if (!code) return undefined
    const claims = this.claims
    const presented = claims
      ? `The ID token presented issuer '${stringClaim(claims, 'iss') ?? '?'}', subject ` +
        `'${stringClaim(claims, 'sub') ?? '?'}' and audience '${audienceOf(claims)}'. `
      : ''
    const fromAzureDevOps =
      claims &&
      azureDevOpsAdvice(
        code,
        {
          issuer: stringClaim(claims, 'iss') ?? '?',
          subject: stringClaim(claims, 'sub') ?? '?',
          audience: audienceOf(claims)
        },
        clientId
      )
    const advice: Record<string, string> = {
      AADSTS700213:
        `No federated credential of application ${clientId} matches. Add one with exactly that issuer, ` +
        'subject and audience (the subject comparison is case-sensitive).',
      AADSTS700211: `The issuer is not configured on any federated credential of application ${clientId}.`,
      AADSTS700024: 'The ID token was outside its validity period; re-run the job.',
      AADSTS700016: `Application ${clientId} was not found in the tenant: check client-id and tenant-id.`,
      AADSTS70021: `No federated credential of application ${clientId} matches the presented assertion.`
    }
    return new ActionError(
      `Microsoft Entra ID refused the sign-in (${code}). ${presented}${fromAzureDevOps ?? advice[code] ?? ''}\n${text}`.trim()
    )
  }
}

function audienceOf(claims: Record<string, unknown>): string {
  const aud = claims.aud
  return Array.isArray(aud) ? aud.join(', ') : typeof aud === 'string' ? aud : '?'
}

/**
 * Hands out one access token per scope until it nears expiry (so a new ID token is fetched only
 * when a new access token is really needed), masks every token with the runner, and rewrites
 * sign-in errors into useful ones.
 */
export class MaskingCredential implements TokenCredential {
  private readonly tokens = new Map<string, AccessToken>()
  private readonly pending = new Map<string, Promise<AccessToken | null>>()
  private readonly masked = new Set<string>()

  constructor(
    private readonly inner: TokenCredential,
    private readonly runner: Pick<Runner, 'setSecret'>,
    private readonly explain: (error: unknown) => Error | undefined = () => undefined,
    private readonly now: () => number = Date.now,
    private readonly refreshBeforeMs = 5 * 60_000,
    /** The tenant the credential signs in to: a challenge that names it is no other tenant. */
    private readonly homeTenantId?: string
  ) {}

  async getToken(
    scopes: string | string[],
    options?: GetTokenOptions
  ): Promise<AccessToken | null> {
    // Claims challenges and other tenants always go to the inner credential.
    if (options?.claims || this.otherTenant(options?.tenantId)) return this.acquire(scopes, options)
    const key = [scopes].flat().join(' ')
    const cached = this.tokens.get(key)
    if (cached && cached.expiresOnTimestamp - this.now() > this.refreshBeforeMs) return cached
    let pending = this.pending.get(key)
    if (!pending) {
      pending = this.acquire(scopes, options).finally(() => this.pending.delete(key))
      this.pending.set(key, pending)
    }
    const token = await pending
    if (token) this.tokens.set(key, token)
    return token
  }

  private otherTenant(tenantId: string | undefined): boolean {
    return !!tenantId && tenantId.toLowerCase() !== this.homeTenantId?.toLowerCase()
  }

  private async acquire(
    scopes: string | string[],
    options?: GetTokenOptions
  ): Promise<AccessToken | null> {
    let token: AccessToken | null
    try {
      token = await this.inner.getToken(scopes, options)
    } catch (error) {
      throw this.explain(error) ?? error
    }
    if (token?.token && !this.masked.has(token.token)) {
      this.masked.add(token.token)
      this.runner.setSecret(token.token)
    }
    return token
  }
}
