import type {
  ArmRoleAssignment,
  EcCurve,
  GitHubPermission,
  GitHubRateLimitSettings,
  HsmActivationStatus,
  HsmSettings,
  RegistrationState
} from './world.js'
import type { Timing } from './service.js'

/**
 * A scenario file seeds the world. Every section is optional except the tenant; ids left out are
 * generated. See emulator/scenarios/default.json for a complete example.
 */
export interface Scenario {
  tenantId: string
  /** Seed of the random source (ids, sampled delays, injected faults), so a run can be replayed. */
  seed?: number
  timing?: Partial<Timing>
  faults?: FaultRule[]
  /** The GitHub workflow the emulated OIDC issuer signs ID tokens for. */
  github?: {
    /** e.g. `repo:contoso/infra:ref:refs/heads/main` */
    subject: string
    repository?: string
    /** The bearer token clients present to ACTIONS_ID_TOKEN_REQUEST_URL. */
    requestToken?: string
    /** The workflow's GITHUB_TOKEN for the REST API (`api.github.com`); generated when absent. */
    token?: string
    /** What GITHUB_TOKEN may do with issues and pull requests: `write` (default), `read` (as on a pull request from a fork) or `none`. */
    tokenPermission?: GitHubPermission
    /** Personal tokens the REST API accepts as well, each of a user. */
    userTokens?: { token: string; login: string; permission?: GitHubPermission }[]
    pullRequests?: ScenarioPullRequest[]
    /** Comments already on the pull requests, oldest first; `login` defaults to github-actions[bot]. */
    comments?: { issue: number; body: string; login?: string }[]
    rateLimit?: Partial<GitHubRateLimitSettings>
  }
  /** The Azure DevOps organization, project and pipeline run whose ID tokens the emulator issues. */
  azureDevOps?: ScenarioAzureDevOps
  subscriptions: ScenarioSubscription[]
  applications?: ScenarioApplication[]
  /** Service principals of apps that live in other tenants, e.g. the Azure Cosmos DB first-party app. */
  servicePrincipals?: { id?: string; appId: string; displayName: string }[]
  /** Object ids of non-application principals (e.g. managed identities) that may read the directory. */
  directoryReaders?: string[]
  /** Names the scenario suggests to users (printed by `npm run emulator`). */
  defaults?: {
    clientId?: string
    subscriptionId?: string
    resourceGroup?: string
    location?: string
    hsmName?: string
    userAssignedIdentity?: string
  }
}

export interface ScenarioSubscription {
  subscriptionId: string
  displayName?: string
  /** Namespaces and their state; unlisted ones are NotRegistered. */
  providers?: Record<string, RegistrationState>
  resourceGroups?: ScenarioResourceGroup[]
}

export interface ScenarioResourceGroup {
  name: string
  location: string
  userAssignedIdentities?: {
    name: string
    location?: string
    principalId?: string
    clientId?: string
  }[]
  managedHsms?: ScenarioHsm[]
  cosmosAccounts?: ScenarioCosmosAccount[]
}

export interface ScenarioHsm {
  name: string
  location?: string
  enableSoftDelete?: boolean
  enablePurgeProtection?: boolean
  softDeleteRetentionInDays?: number
  activationStatus?: HsmActivationStatus
  initialAdminObjectIds?: string[]
  keys?: ScenarioKey[]
  /** `role` is a built-in role name or GUID; `scope` is `/`, `/keys` or `/keys/{name}`. */
  roleAssignments?: { name?: string; role: string; principalId: string; scope: string }[]
  settings?: HsmSettings
}

export interface ScenarioKey {
  name: string
  /** Default RSA-HSM; RSA and EC are stored as RSA-HSM and EC-HSM, as Managed HSM does. */
  kty?: 'RSA-HSM' | 'RSA' | 'EC-HSM' | 'EC'
  /** RSA modulus bits: 2048, 3072 (default) or 4096. */
  size?: number
  /** EC curve; default P-256. */
  curve?: EcCurve
  ops?: string[]
  enabled?: boolean
  /** ISO time; a past value makes an expired key. */
  expires?: string
  /** As `PUT /keys/{name}/rotationpolicy` takes it, checked the same way. */
  rotationPolicy?: ScenarioRotationPolicy
}

export interface ScenarioRotationPolicy {
  lifetimeActions: {
    trigger: { timeAfterCreate?: string; timeBeforeExpiry?: string }
    action: { type: string }
  }[]
  attributes?: { expiryTime?: string }
}

export interface ScenarioCosmosAccount {
  name: string
  location?: string
  kind?: 'GlobalDocumentDB' | 'MongoDB'
  capabilities?: string[]
  keyVaultKeyUri?: string
  defaultIdentity?: string
  /** Region names, the first one the write region; default: the account's location. */
  locations?: string[]
  /**
   * Managed identities beyond what `defaultIdentity` implies: the system-assigned one, and
   * user-assigned ones by name (same resource group) or resource id.
   */
  identity?: { systemAssigned?: boolean; userAssigned?: string[] }
  /** Default `Periodic`. */
  backupPolicy?: 'Periodic' | 'Continuous7Days' | 'Continuous30Days'
  enableAnalyticalStorage?: boolean
  /** Features no stable api-version sets, which block enabling a customer-managed key later. */
  materializedViews?: boolean
  allVersionsAndDeletesChangeFeed?: boolean
}

export interface ScenarioApplication {
  appId: string
  displayName: string
  servicePrincipalId?: string
  clientSecrets?: string[]
  federatedCredentials?: { name: string; issuer: string; subject: string; audiences?: string[] }[]
  armRoles?: ArmRoleAssignment[]
  canReadDirectory?: boolean
}

export type FaultKind = 'throttle' | 'server-error' | 'reset' | 'stall'

/** Injects a failure into a share of matching requests, before the service sees them. */
export interface FaultRule {
  kind: FaultKind
  /** Share of matching requests that fail, 0..1. */
  rate: number
  /** Host suffix to match, e.g. `management.azure.com` or `managedhsm.azure.net`; all when absent. */
  host?: string
  /** HTTP method to match; all when absent. */
  method?: string
  /** Regular expression on the path; all when absent. */
  path?: string
  /** For `server-error`: 500, 502, 503 or 504 (default 503). */
  status?: number
  /** For `throttle`: Retry-After seconds (default 1). */
  retryAfterSeconds?: number
  /** For `stall`: how long the response hangs before the socket is destroyed (default 30000 ms). */
  stallMs?: number
  /** Stop injecting after this many faults from this rule. */
  maxCount?: number
}

/** A pull request of the workflow's repository. */
export interface ScenarioPullRequest {
  number: number
  title?: string
  state?: 'open' | 'closed'
  /** Login of the author; default `octocat`. */
  author?: string
  /** `owner/repo` of the head branch; another repository makes it a pull request from a fork. */
  headRepository?: string
  headRef?: string
  /** 40 hex digits; generated when absent. */
  headSha?: string
  /** Default `main`. */
  baseRef?: string
}

/** An Azure DevOps organization and project, the pipeline run being emulated and its service connections. */
export interface ScenarioAzureDevOps {
  organization: string
  /** GUID; the Azure DevOps issuer is `https://vstoken.dev.azure.com/{organizationId}`. */
  organizationId: string
  project: string
  projectId: string
  pipeline?: { id?: number; name?: string }
  /** The job being run: its plan, job and build, and the hub (`build` for a pipeline run). */
  run?: {
    planId?: string
    jobId?: string
    buildId?: number
    hostType?: string
    stage?: string
    job?: string
  }
  /** The job access token (`System.AccessToken`); generated when absent. */
  accessToken?: string
  serviceConnections: ScenarioServiceConnection[]
}

export interface ScenarioServiceConnection {
  /** GUID: what a task's `azureSubscription` input holds. */
  id: string
  name: string
  /** `WorkloadIdentityFederation` (default), `ServicePrincipal` or `ManagedServiceIdentity`. */
  scheme?: string
  /** The app registration (or identity) the connection signs in as. */
  appId: string
  /**
   * Who issues the connection's ID tokens: `entra` (the default of connections since 2025, issuer
   * `https://login.microsoftonline.com/{tenant}/v2.0`) or `azure-devops` (older ones, issuer
   * `https://vstoken.dev.azure.com/{organizationId}`, subject `sc://{org}/{project}/{name}`).
   */
  issuer?: 'entra' | 'azure-devops'
  subscriptionId?: string
  /** AzureCloud (default), AzureUSGovernment or AzureChinaCloud. */
  environment?: string
  /** Whether the job's stage references the connection (false: no ID token for it). Default true. */
  referenced?: boolean
}
