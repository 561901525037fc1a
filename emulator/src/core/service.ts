import type { IncomingHttpHeaders } from 'node:http'
import type { World } from './world.js'

/** A delay in milliseconds: fixed, or a [min, max] range sampled with the seeded random source. */
export type Delay = number | [number, number]

/** Every timing knob of the local Azure. Set in the scenario's `timing` and through the admin API. */
export interface Timing {
  /** HSM local RBAC assignments take effect this long after creation. */
  rbacPropagation: Delay
  /** A new principal (e.g. a just-enabled system-assigned identity) becomes assignable after this. */
  principalReplication: Delay
  providerRegistration: Delay
  hsmCreate: Delay
  hsmUpdate: Delay
  securityDomainDownload: Delay
  cosmosCreate: Delay
  cosmosUpdate: Delay
  cosmosDelete: Delay
  /** Re-encryption of an existing account's data when a customer-managed key is first set. */
  cosmosEncryption: Delay
  /** How long after a new key version is created an account moves to it (Azure: up to 24 h). */
  cosmosKeyVersionLag: Delay
  /** From losing access to its key until an account shows the revocation. */
  cosmosRevocation: Delay
  /** From access returning until a revoked account recovers (Azure: up to an hour). */
  cosmosRevocationRecovery: Delay
  /** Added to every response, to model the network. */
  requestLatency: Delay
  /** The poll interval the emulator asks for in Retry-After, in seconds (Azure sends whole seconds). */
  retryAfterSeconds: number
  /** Lifetime of issued access tokens, seconds. */
  accessTokenLifetimeSeconds: number
  /** Lifetime of GitHub ID tokens, seconds. */
  idTokenLifetimeSeconds: number
  /**
   * Azure Resource Manager's write budget (PUT, PATCH, POST) per subscription and principal: the
   * size of its token bucket, a whole number; 0 (the default) sets no limit. Azure: 200.
   */
  armWriteBucket: number
  /** Tokens per second the write bucket gets back (Azure: 10). */
  armWriteRefillPerSecond: number
  /**
   * The same for deletes (DELETE), which Azure counts in a bucket of their own; 0 (the default)
   * sets no limit. Azure: 200.
   */
  armDeleteBucket: number
  /** Tokens per second the delete bucket gets back (Azure: 10). */
  armDeleteRefillPerSecond: number
}

/** The timing fields that are plain numbers rather than delays. */
export type TimingNumberKey =
  | 'retryAfterSeconds'
  | 'accessTokenLifetimeSeconds'
  | 'idTokenLifetimeSeconds'
  | 'armWriteBucket'
  | 'armWriteRefillPerSecond'
  | 'armDeleteBucket'
  | 'armDeleteRefillPerSecond'

export type DelayKind = Exclude<keyof Timing, TimingNumberKey>

export interface EmuRequest {
  method: string
  /** Lower case, without port. */
  host: string
  /** Percent-decoded path with runs of slashes collapsed; no query. */
  path: string
  /** The request target as sent. */
  rawUrl: string
  /** Query parameters; names and values percent-decoded (SDKs send `api%2Dversion`). */
  query: URLSearchParams
  headers: IncomingHttpHeaders
  body: Buffer
}

/** What a request's Authorization header presents under one of the given schemes. */
export type PresentedCredential =
  { kind: 'missing' } | { kind: 'malformed' } | { kind: 'token'; token: string }

/** `schemes` are matched without case, as HTTP does; the token is one run of non-space. */
export function presentedCredential(
  req: EmuRequest,
  schemes: readonly string[]
): PresentedCredential {
  const header = req.headers.authorization
  if (!header) return { kind: 'missing' }
  const token = new RegExp(`^(?:${schemes.join('|')})\\s+(\\S+)\\s*$`, 'i').exec(header)?.[1]
  return token ? { kind: 'token', token } : { kind: 'malformed' }
}

export interface EmuResponse {
  status: number
  headers?: Record<string, string>
  /** Serialised as JSON unless a string or Buffer. */
  body?: unknown
  /** How the request log counts this request; by default GET/HEAD are reads and the rest writes. */
  logAs?: RequestKind
  /** The object id the request log records as the caller when no bearer token named one. */
  logPrincipal?: string
}

export type RequestKind = 'read' | 'write' | 'poll' | 'token'

/** Who called, from a verified bearer token. */
export interface Principal {
  objectId: string
  appId: string
  tenantId: string
  /** The token's audience as presented. */
  audience: string
}

export interface ServiceContext {
  req: EmuRequest
  /** The live state. Handlers mutate it directly. */
  world: World
  /** The verified caller, for services that require a token (undefined for Entra and the GitHub issuer). */
  principal?: Principal
  now(): number
  /** Samples a delay from the timing configuration. */
  delay(kind: DelayKind): number
  timing: Timing
  /** Seeded random source in [0, 1). */
  random(): number
  /** A new random GUID (lower case). */
  newGuid(): string
  /** The URL prefix clients use for this host, e.g. `https://management.azure.com`. */
  origin: string
}

/**
 * One emulated Azure service. The server dispatches by host; a service that declares an audience
 * gets requests whose bearer token was verified for it (the server answers 401 otherwise).
 */
export interface Service {
  name: string
  matches(host: string): boolean
  /** Accepted token audiences; undefined for services that need no token. */
  audiences?: string[]
  /** Key Vault style: a request without a token gets 401 + WWW-Authenticate challenge. */
  challenge?: { authorization: (tenantId: string) => string; resource: string }
  /**
   * The shape of 401 answers for a bad or missing token: ARM's (default), Microsoft Graph's, or Key
   * Vault's (the default for services with a `challenge`).
   */
  authErrorStyle?: 'arm' | 'graph' | 'keyvault'
  /** How the request log counts this service's requests when the response does not say (logAs). */
  logKind?: (req: EmuRequest) => RequestKind | undefined
  handle(ctx: ServiceContext): Promise<EmuResponse> | EmuResponse
}
