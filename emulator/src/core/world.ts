/**
 * The local Azure's whole state: one JSON-serialisable object, so that the store can reset it,
 * snapshot it and hand it to the admin API as it is. Times are epoch milliseconds from the
 * emulator's clock. ARM resources are keyed by their resource id in lower case.
 */

export type RegistrationState = 'NotRegistered' | 'Registering' | 'Registered' | 'Unregistered'

export interface ProviderRegistration {
  namespace: string
  state: RegistrationState
  /** When a Registering provider turns Registered. */
  registeredAt?: number
}

export interface Subscription {
  subscriptionId: string
  displayName: string
  tenantId: string
  /** Keyed by namespace in lower case. */
  providers: Record<string, ProviderRegistration>
  /** Set through the Tags API (`Microsoft.Resources/tags/default`). */
  tags?: Record<string, string>
}

export interface ResourceGroup {
  subscriptionId: string
  name: string
  location: string
  tags?: Record<string, string>
}

/** ARM built-in roles the emulator enforces, coarsely. */
export type ArmRoleName =
  'Reader' | 'Contributor' | 'Owner' | 'Managed Identity Operator' | 'Tag Contributor'

export interface ArmRoleAssignment {
  role: ArmRoleName
  /** `/subscriptions/{id}`, `/subscriptions/{id}/resourceGroups/{rg}` or a resource id. */
  scope: string
}

export interface FederatedCredential {
  name: string
  issuer: string
  subject: string
  audiences: string[]
}

/** An app registration together with its service principal in the tenant. */
export interface Application {
  appId: string
  displayName: string
  /** Object id of the app's service principal (the `oid` of its tokens). */
  servicePrincipalId: string
  clientSecrets: string[]
  federatedCredentials: FederatedCredential[]
  armRoles: ArmRoleAssignment[]
  /** Whether Graph lets this principal read service principals (Application.Read.All / Directory.Read.All). */
  canReadDirectory: boolean
}

export type ServicePrincipalType = 'Application' | 'ManagedIdentity'

/** A directory object Graph can return. Apps, first-party apps and managed identities all have one. */
export interface ServicePrincipal {
  id: string
  appId: string
  displayName: string
  servicePrincipalType: ServicePrincipalType
  /** The directory knows the principal (role assignments to it succeed) from this time on. */
  replicatedAt: number
}

/** What every ARM resource the world holds has: its id (as Azure spells it), place and tags. */
export interface TrackedResource {
  id: string
  name: string
  subscriptionId: string
  resourceGroup: string
  location: string
  tags: Record<string, string>
}

export interface UserAssignedIdentity extends TrackedResource {
  principalId: string
  clientId: string
  tenantId: string
}

export type HsmProvisioningState =
  | 'Succeeded'
  | 'Provisioning'
  | 'Failed'
  | 'Updating'
  | 'Deleting'
  | 'Activated'
  | 'SecurityDomainRestore'
  | 'Restoring'

export type HsmActivationStatus = 'Active' | 'NotActivated' | 'Unknown' | 'Failed'

export interface ManagedHsm extends TrackedResource {
  skuName: string
  tenantId: string
  initialAdminObjectIds: string[]
  enableSoftDelete: boolean
  softDeleteRetentionInDays: number
  enablePurgeProtection: boolean
  publicNetworkAccess: 'Enabled' | 'Disabled'
  provisioningState: HsmProvisioningState
  /** A Provisioning / Updating HSM turns Succeeded at this time. */
  provisionedAt?: number
  activationStatus: HsmActivationStatus
  createdAt: number
  createdBy: string
}

/** The elliptic curves Managed HSM offers, by their JWK names. */
export type EcCurve = 'P-256' | 'P-384' | 'P-521' | 'P-256K'

export interface KeyVersion {
  version: string
  /** Managed HSM keys are HSM-protected whatever the request said (RSA becomes RSA-HSM). */
  kty: 'RSA-HSM' | 'EC-HSM'
  /** Modulus length of an RSA key; the curve's size for an EC key. */
  keySize: number
  /** The curve of an EC key. */
  crv?: EcCurve
  keyOps: string[]
  enabled: boolean
  /** Seconds since epoch, as Key Vault sends them. */
  nbf?: number
  exp?: number
  created: number
  updated: number
  tags: Record<string, string>
  /** PKCS#8 PEM of the private key: real material, so wrapKey / unwrapKey really work. */
  privateKeyPem: string
  /** RSA: the public modulus and exponent, base64url, as in the JWK. */
  n?: string
  e?: string
  /** EC: the public point, base64url, as in the JWK. */
  x?: string
  y?: string
}

export interface HsmKey {
  name: string
  /** Oldest first; the last one is the current version. */
  versions: KeyVersion[]
  /** Set through `PUT /keys/{name}/rotationpolicy`; absent when the key has none. */
  rotationPolicy?: KeyRotationPolicy
}

/** A Managed HSM key rotation policy: Rotate actions only (Managed HSM has no Notify). */
export interface KeyRotationPolicy {
  /** ISO 8601 durations; each action has exactly one of them. */
  lifetimeActions: { timeAfterCreate?: string; timeBeforeExpiry?: string }[]
  /** ISO 8601 duration stamped as `exp` on each version the rotation creates. */
  expiryTime?: string
  /** Seconds since epoch. */
  created: number
  updated: number
}

export interface HsmRoleAssignment {
  /** The assignment's name: a GUID. */
  name: string
  /** `/`, `/keys` or `/keys/{name}`. */
  scope: string
  roleDefinitionId: string
  principalId: string
  createdAt: number
  /** Data-plane checks honour the assignment from this time on (propagation delay). */
  effectiveAt: number
}

export interface SecurityDomainDownload {
  status: 'Success' | 'InProgress' | 'Failed'
  statusDetails?: string
  completesAt: number
}

/** An HSM's account settings (`GET /settings`); a setting left out has its default. */
export interface HsmSettings {
  /** Whether Azure Resource Manager may manage keys on a caller's behalf; false by default. */
  AllowKeyManagementOperationsThroughARM?: boolean
}

/** Data-plane state of one HSM, keyed by HSM name in lower case. */
export interface HsmDataPlane {
  name: string
  keys: Record<string, HsmKey>
  roleAssignments: Record<string, HsmRoleAssignment>
  securityDomainDownload?: SecurityDomainDownload
  settings?: HsmSettings
}

export type CosmosIdentityType =
  'None' | 'SystemAssigned' | 'UserAssigned' | 'SystemAssigned,UserAssigned'

export interface CosmosAccount extends TrackedResource {
  kind: 'GlobalDocumentDB' | 'MongoDB' | 'Parse'
  capabilities: string[]
  locations: { locationName: string; failoverPriority: number; isZoneRedundant: boolean }[]
  keyVaultKeyUri?: string
  /** 'FirstPartyIdentity' | 'SystemAssignedIdentity' | 'UserAssignedIdentity=<id>' */
  defaultIdentity: string
  identityType: CosmosIdentityType
  systemAssignedPrincipalId?: string
  userAssignedIdentities: string[]
  provisioningState: 'Creating' | 'Succeeded' | 'Updating' | 'Deleting' | 'Failed'
  instanceId: string
  createdAt: number
  /** `Periodic` unless continuous backup (point-in-time restore) is on. */
  backupPolicy?: 'Periodic' | 'Continuous7Days' | 'Continuous30Days'
  enableAnalyticalStorage?: boolean
  /** Features no stable api-version sets; a scenario can seed them. */
  materializedViews?: boolean
  allVersionsAndDeletesChangeFeed?: boolean
  /** The customer-managed key's version the account encrypts with (`keyVaultKeyUriVersion`). */
  keyVersionInUse?: string
  /** A newer version of the key that the account moves to at `adoptAt`. */
  pendingKeyVersion?: { version: string; adoptAt: number }
  /** The account lost access to its key at `lostAt` and shows it from `revokeAt` on. */
  keyAccessLost?: { code: number; lostAt: number; revokeAt: number }
  /** Revoked since `since`; once access is back, recovered from `recoverAt` on. */
  revoked?: { code: number; since: number; recoverAt?: number }
}

export type OperationStatus = 'InProgress' | 'Succeeded' | 'Failed' | 'Canceled'

/** An ARM long-running operation, polled through Azure-AsyncOperation or Location. */
export interface LongRunningOperation {
  id: string
  resourceId: string
  kind: string
  status: OperationStatus
  startedAt: number
  completesAt: number
  error?: { code: string; message: string }
}

/** One of Resource Manager's token buckets (see model/arm-throttle.ts). */
export interface ArmRequestBucket {
  /** Tokens left as of `at`; fractional while it refills. */
  tokens: number
  /** When `tokens` was last brought up to date. */
  at: number
}

export interface World {
  tenantId: string
  /** Keyed by subscription id in lower case. */
  subscriptions: Record<string, Subscription>
  /** Keyed by `/subscriptions/{sub}/resourcegroups/{rg}` in lower case. */
  resourceGroups: Record<string, ResourceGroup>
  /** Keyed by appId. */
  applications: Record<string, Application>
  /** Keyed by object id. */
  servicePrincipals: Record<string, ServicePrincipal>
  userAssignedIdentities: Record<string, UserAssignedIdentity>
  managedHsms: Record<string, ManagedHsm>
  hsmDataPlanes: Record<string, HsmDataPlane>
  cosmosAccounts: Record<string, CosmosAccount>
  operations: Record<string, LongRunningOperation>
  /** Principals (ARM roles) of managed identities, keyed by principal id. */
  managedIdentityArmRoles: Record<string, ArmRoleAssignment[]>
  /**
   * Object ids of principals other than applications (e.g. managed identities) that Graph lets read
   * the directory; applications use their own `canReadDirectory`.
   */
  directoryReaders?: string[]
  /** The workflow's GitHub repository as its REST API serves it (pull requests, issue comments). */
  github?: GitHubState
  /**
   * Resource Manager's request budgets, keyed by `{subscription}/{principal}/{writes|deletes}`;
   * only present once a scenario limits ARM requests and one was spent.
   */
  armRequestBuckets?: Record<string, ArmRequestBucket>
}

export function emptyWorld(tenantId: string): World {
  return {
    tenantId,
    subscriptions: {},
    resourceGroups: {},
    applications: {},
    servicePrincipals: {},
    userAssignedIdentities: {},
    managedHsms: {},
    hsmDataPlanes: {},
    cosmosAccounts: {},
    operations: {},
    managedIdentityArmRoles: {}
  }
}

/** What a GitHub token may do with the repository's issues and pull requests. */
export type GitHubPermission = 'write' | 'read' | 'none'

export interface GitHubUser {
  login: string
  id: number
  type: 'User' | 'Bot'
}

/** A token the REST API accepts besides the workflow's GITHUB_TOKEN: a user's personal token. */
export interface GitHubUserToken {
  user: GitHubUser
  permission: GitHubPermission
}

export interface GitHubPullRequest {
  number: number
  title: string
  state: 'open' | 'closed'
  user: GitHubUser
  /** `owner/repo` of the head branch: another repository for a pull request from a fork. */
  headRepository: string
  headRef: string
  headSha: string
  baseRef: string
  createdAt: number
}

export interface GitHubIssueComment {
  id: number
  /** The pull request (an issue, to the comments API) the comment is on. */
  issueNumber: number
  body: string
  user: GitHubUser
  createdAt: number
  updatedAt: number
}

/** GitHub's REST API rate limits, on the emulator's clock. */
export interface GitHubRateLimitSettings {
  /** Requests a token may make per window (GitHub gives a workflow's GITHUB_TOKEN 1,000 an hour). */
  limit: number
  windowSeconds: number
  /** Content-creating requests (POST, PATCH, PUT, DELETE) a token may make per minute (secondary limit). */
  writesPerMinute: number
  /** How long the secondary limit holds a token back once tripped, seconds (its Retry-After). */
  secondaryRetryAfterSeconds: number
  /** The status of a rate-limited answer: GitHub sends 403 or 429. */
  status: 403 | 429
}

export interface GitHubRateBucket {
  used: number
  /** When the window restarts (epoch ms). */
  resetAt: number
  /** Times of the content-creating requests of the last minute. */
  writes: number[]
  /** The secondary limit holds this token back until then. */
  secondaryUntil?: number
}

export interface GitHubState {
  /** `owner/repo`: the repository the workflow's GITHUB_TOKEN is issued for. */
  repository: string
  repositoryId: number
  /** What the workflow's GITHUB_TOKEN may do (read-only on pull requests from forks). */
  tokenPermission: GitHubPermission
  /** Keyed by the SHA-256 (hex) of the token, so that no token is kept. */
  userTokens: Record<string, GitHubUserToken>
  /** Keyed by number. */
  pullRequests: Record<string, GitHubPullRequest>
  /** Oldest first. */
  comments: GitHubIssueComment[]
  nextCommentId: number
  rateLimit: GitHubRateLimitSettings
  /** Keyed by who spends them: `workflow`, `user:<login>`, `anonymous`. */
  rateBuckets: Record<string, GitHubRateBucket>
  /** Every request gets the secondary rate limit's answer until then (set through the admin API). */
  secondaryUntil?: number
}
