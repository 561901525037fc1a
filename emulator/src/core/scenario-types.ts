import type {
  ArmRoleAssignment,
  EcCurve,
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
  }
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
}

export interface ScenarioCosmosAccount {
  name: string
  location?: string
  kind?: 'GlobalDocumentDB' | 'MongoDB'
  capabilities?: string[]
  keyVaultKeyUri?: string
  defaultIdentity?: string
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
