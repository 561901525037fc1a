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
}

export interface ResourceGroup {
  subscriptionId: string
  name: string
  location: string
}

/** ARM built-in roles the emulator enforces, coarsely. */
export type ArmRoleName = 'Reader' | 'Contributor' | 'Owner' | 'Managed Identity Operator'

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
