import type { SecurityDomainKey } from '../certificates.js'

/**
 * The narrow view of Azure the provisioning steps work against. `clients.ts` implements it with
 * the Azure SDKs; tests implement it with typed fakes. Reads answer `undefined` for "not found".
 */
export interface AzureApis {
  providers: ProvidersApi
  managedHsms: ManagedHsmsApi
  identities: IdentitiesApi
  cosmos: CosmosAccountsApi
  graph: GraphApi
  permissions: PermissionsApi
  /** Data-plane clients of one HSM, built once per HSM URI. */
  hsm(hsmUri: string): HsmDataPlane
}

export interface HsmDataPlane {
  rbac: HsmRbacApi
  keys: HsmKeysApi
  securityDomain: SecurityDomainApi
  settings: HsmSettingsApi
}

/** The HSM's account settings, e.g. AllowKeyManagementOperationsThroughARM ('true'/'false'). */
export interface HsmSettingsApi {
  get(name: string): Promise<string | undefined>
  update(name: string, value: string): Promise<void>
}

export interface ProviderState {
  namespace: string
  registrationState: string
  /**
   * The regions each resource type is offered in for the subscription, as programmatic names
   * (`westeurope`), keyed by lower-case resource type; absent when not reported.
   */
  locations?: Record<string, string[]>
}

export interface ProvidersApi {
  get(namespace: string): Promise<ProviderState>
  register(namespace: string): Promise<ProviderState>
}

export interface ManagedHsmState {
  id: string
  name: string
  location: string
  hsmUri: string
  provisioningState: string
  statusMessage?: string
  enableSoftDelete: boolean
  enablePurgeProtection: boolean
  softDeleteRetentionInDays?: number
  activationStatus: string
  activationStatusMessage?: string
  initialAdminObjectIds: string[]
  tags: Record<string, string>
}

export interface ManagedHsmCreateSpec {
  location: string
  skuName: string
  tenantId: string
  initialAdminObjectIds: string[]
  softDeleteRetentionInDays: number
  tags: Record<string, string>
}

export interface ManagedHsmsApi {
  get(resourceGroup: string, name: string): Promise<ManagedHsmState | undefined>
  /** Creates the HSM and waits for the long-running operation to end. */
  create(resourceGroup: string, name: string, spec: ManagedHsmCreateSpec): Promise<ManagedHsmState>
  /** Turns purge protection on (irreversible) and waits for the update to end. */
  enablePurgeProtection(resourceGroup: string, name: string): Promise<ManagedHsmState>
  /** Merges tags into the HSM's tags (`Tags_UpdateAtScope`), leaving the others as they are. */
  mergeTags(hsmId: string, tags: Record<string, string>): Promise<void>
  /** Removes tags from the HSM (`Tags_UpdateAtScope`, operation Delete). */
  deleteTags(hsmId: string, tags: Record<string, string>): Promise<void>
  /** The current version of a key, read through ARM (`ManagedHsmKeys_Get`). */
  getKey(resourceGroup: string, hsmName: string, keyName: string): Promise<HsmKeyState | undefined>
  /**
   * Creates the first version of a key unless the key exists, through ARM
   * (`ManagedHsmKeys_CreateIfNotExist`): it never adds a version, so repeating it is harmless.
   */
  createKeyIfNotExist(
    resourceGroup: string,
    hsmName: string,
    keyName: string,
    spec: ManagedHsmKeySpec
  ): Promise<HsmKeyState>
}

export interface ManagedHsmKeySpec {
  kty: 'RSA-HSM'
  keySize: number
  keyOps: string[]
  tags: Record<string, string>
}

export interface UserAssignedIdentityState {
  id: string
  name: string
  principalId: string
  clientId: string
}

export interface IdentitiesApi {
  getUserAssigned(
    subscriptionId: string,
    resourceGroup: string,
    name: string
  ): Promise<UserAssignedIdentityState | undefined>
}

export interface AccountIdentity {
  /** `None`, `SystemAssigned`, `UserAssigned` or `SystemAssigned,UserAssigned`. */
  type: string
  principalId?: string
  /** Keyed by identity resource id as the service returns it. */
  userAssignedIdentities: Record<string, { principalId?: string; clientId?: string }>
}

export interface CosmosAccountState {
  id: string
  name: string
  location: string
  kind?: string
  capabilities: string[]
  provisioningState?: string
  documentEndpoint?: string
  keyVaultKeyUri?: string
  /** The key version the account is actually using. */
  keyVaultKeyUriVersion?: string
  /** Health of the customer-managed key, e.g. "Access ... revoked ... (4002)". */
  customerManagedKeyStatus?: string
  defaultIdentity?: string
  identity: AccountIdentity
  /** `Periodic` or `Continuous`. */
  backupPolicyType?: string
  enableAnalyticalStorage?: boolean
  tags: Record<string, string>
}

export interface CosmosAccountCreateSpec {
  location: string
  kind: 'GlobalDocumentDB' | 'MongoDB'
  capabilities: string[]
  locations: string[]
  keyVaultKeyUri: string
  defaultIdentity: string
  /** Present for a user-assigned identity. */
  userAssignedIdentityId?: string
  /** Also create the account's system-assigned identity. */
  systemAssigned?: boolean
  tags: Record<string, string>
}

export interface CosmosCreationAccepted {
  /** The system-assigned identity's principal, which exists from the accepted creation on. */
  systemPrincipalId?: string
}

export type CosmosAccountPatch =
  | { identity: { type: string; userAssignedIdentityIds: string[] } }
  | { defaultIdentity: string }
  /** Alone, as Azure refuses it together with anything else. */
  | { keyVaultKeyUri: string }

export interface CosmosAccountsApi {
  get(resourceGroup: string, name: string): Promise<CosmosAccountState | undefined>
  /**
   * Creates the account and waits for the long-running operation to end. `accepted` learns what
   * the service's first answer says, while the creation is still running.
   */
  create(
    resourceGroup: string,
    name: string,
    spec: CosmosAccountCreateSpec,
    accepted?: (answer: CosmosCreationAccepted) => void
  ): Promise<CosmosAccountState>
  /** PATCHes the account and waits for the long-running operation to end. */
  update(
    resourceGroup: string,
    name: string,
    patch: CosmosAccountPatch
  ): Promise<CosmosAccountState>
  /** Every account of the subscription. */
  list(): Promise<CosmosAccountState[]>
  /** Deletes the account and waits for the long-running operation to end. */
  delete(resourceGroup: string, name: string): Promise<void>
}

/** One entry of ARM's permissions of the caller at a scope. */
export interface Permission {
  actions: string[]
  notActions: string[]
}

export interface PermissionsApi {
  /** What the caller may do at an ARM scope (a subscription, resource group or resource id). */
  at(scope: string): Promise<Permission[]>
}

export interface GraphApi {
  /** The object id of the tenant's service principal of an application, or undefined. */
  servicePrincipalIdByAppId(appId: string): Promise<string | undefined>
  /** A service principal by object id, or undefined when the tenant has none with that id. */
  servicePrincipal(objectId: string): Promise<ServicePrincipal | undefined>
}

export interface ServicePrincipal {
  id: string
  appId: string
  displayName: string
}

export interface RoleAssignment {
  id: string
  name: string
  scope: string
  roleDefinitionId: string
  principalId: string
}

export interface RoleDefinition {
  id: string
  name: string
  roleName: string
}

export interface HsmRbacApi {
  /** Assignments of one principal visible at a scope; `signal` cancels this read alone. */
  listForPrincipal(
    scope: string,
    principalId: string,
    options?: { signal?: AbortSignal }
  ): Promise<RoleAssignment[]>
  get(scope: string, name: string): Promise<RoleAssignment | undefined>
  create(
    scope: string,
    name: string,
    roleDefinitionId: string,
    principalId: string
  ): Promise<RoleAssignment>
  delete(scope: string, name: string): Promise<void>
  listRoleDefinitions(scope: string): Promise<RoleDefinition[]>
  getRoleDefinition(scope: string, name: string): Promise<RoleDefinition | undefined>
}

export interface HsmKeyState {
  /** Versioned key identifier (kid). */
  id: string
  name: string
  version: string
  kty: string
  /** RSA modulus length in bits. */
  keySize?: number
  keyOps: string[]
  enabled: boolean
  notBefore?: Date
  expiresOn?: Date
  createdOn?: Date
}

export interface HsmKeysApi {
  /** The current version of the key; `signal` cancels this read alone. */
  get(name: string, options?: { signal?: AbortSignal }): Promise<HsmKeyState | undefined>
  createRsa(
    name: string,
    size: number,
    keyOps: string[],
    tags: Record<string, string>
  ): Promise<HsmKeyState>
  /** Undefined when the key has no policy. */
  getRotationPolicy(name: string): Promise<RotationPolicy | undefined>
  setRotationPolicy(name: string, policy: RotationPolicy): Promise<RotationPolicy>
  /** Creates a new version (a policy must exist); answers it. */
  rotate(name: string): Promise<HsmKeyState>
  /** Every version of the key, oldest first. */
  versions(name: string): Promise<HsmKeyState[]>
}

/** A key rotation policy with ISO 8601 durations (Managed HSM: Rotate actions only). */
export interface RotationPolicy {
  /** `timeAfterCreate` of the Rotate action, if any. */
  rotateAfter?: string
  /** `timeBeforeExpiry` of the Rotate action, if any. */
  rotateBeforeExpiry?: string
  expireAfter?: string
}

export interface SecurityDomainStatus {
  /** `Success`, `InProgress` or `Failed`. */
  status: string
  statusDetails?: string
}

export interface SecurityDomainApi {
  /** Starts the download; answers the encrypted security domain. */
  download(certificates: SecurityDomainKey[], quorum: number): Promise<{ value: string }>
  /** The state of the download in progress, or undefined if none was started. */
  downloadStatus(): Promise<SecurityDomainStatus | undefined>
}
