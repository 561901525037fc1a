import type { SecurityDomainCertificate } from '../certificates.js'
import type { CloudName } from '../cloud.js'

export const authTypes = ['oidc', 'azure-cli', 'credential-chain'] as const
export const hsmSkus = [
  'Standard_B1',
  'Custom_B32',
  'Custom_B6',
  'Custom_C42',
  'Custom_C10'
] as const
export const keySizes = [2048, 3072, 4096] as const
export const apis = ['nosql', 'mongodb', 'cassandra', 'gremlin', 'table'] as const
export const identityModes = ['first-party', 'user-assigned', 'system-assigned'] as const
export const bootstrapIdentities = ['first-party', 'user-assigned'] as const
export const roleScopes = ['key', 'keys'] as const
export const modes = ['apply', 'plan', 'prepare', 'verify', 'teardown', 'plan-teardown'] as const

export type AuthType = (typeof authTypes)[number]
export type HsmSku = (typeof hsmSkus)[number]
export type KeySize = (typeof keySizes)[number]
export type Api = (typeof apis)[number]
export type IdentityMode = (typeof identityModes)[number]
export type BootstrapIdentity = (typeof bootstrapIdentities)[number]
export type RoleScope = (typeof roleScopes)[number]
export type Mode = (typeof modes)[number]

/** An ARM resource addressed by subscription, resource group and name. */
export interface ResourceRef {
  subscriptionId: string
  resourceGroup: string
  name: string
  id: string
}

export function userAssignedIdentityId(
  subscriptionId: string,
  resourceGroup: string,
  name: string
): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`
}

/** The security domain download that activates a new HSM. */
export interface SecurityDomainSettings {
  certificates: SecurityDomainCertificate[]
  quorum: number
  /** Absolute path. */
  file: string
}

export interface Inputs {
  auth: { type: AuthType; clientId?: string; tenantId?: string; audience: string }
  environment: CloudName
  subscriptionId: string
  resourceGroup: string
  /** Normalised (lower case, no spaces); needed only when something is created. */
  location?: string
  hsm: {
    name: string
    resourceGroup: string
    create: boolean
    /** Object ids; the signed-in principal is always added at creation. */
    administrators: string[]
    sku: HsmSku
    retentionDays: number
    enablePurgeProtection: boolean
    /** Turn on the HSM setting that lets ARM manage keys (create-if-not-exist). */
    allowArmKeyManagement: boolean
  }
  securityDomain?: SecurityDomainSettings
  key: {
    name: string
    size: KeySize
    /** The rotation policy to keep, as ISO 8601 durations; absent: leave the key's policy alone. */
    rotation?: { rotateAfter: string; expireAfter?: string }
    /** Rotate now (`rotate-key`). */
    rotateNow: boolean
  }
  account: {
    /** The account of the run; with `others`, the first account of a fleet. */
    name: string
    /** The accounts after the first when `account-name` lists several (a fleet, on one key). */
    others: string[]
    /** How many accounts of a fleet are worked on at once. */
    concurrency: number
    api: Api
    locations: string[]
    /** Turn CMK on for an existing account without it (irreversible). */
    enableOnExisting: boolean
    /** Move an existing account on another key to this key. */
    keySwitch: boolean
  }
  identity: {
    mode: IdentityMode
    userAssignedIdentity?: ResourceRef
    cosmosPrincipalId?: string
    bootstrap: BootstrapIdentity
    removeBootstrapAssignment: boolean
  }
  roleScope: RoleScope
  mode: Mode
  timeoutMinutes: number
  tags: Record<string, string>
  teardown: {
    /** The account name typed again to confirm. */
    confirm?: string
    /** Tags that make an account off limits for teardown. */
    protectedTags: Record<string, string>
  }
  prComment: { enabled: boolean; token?: string }
}

/** Every input the action reads, with its default ('' = none). action.yml mirrors this table. */
export const inputDefaults = {
  'client-id': '',
  'tenant-id': '',
  'subscription-id': '',
  audience: '',
  'auth-type': 'oidc',
  environment: 'AzureCloud',
  'resource-group': '',
  location: '',
  'hsm-name': '',
  'hsm-resource-group': '',
  'create-hsm': 'false',
  'hsm-administrators': '',
  'hsm-sku': 'Standard_B1',
  'hsm-retention-days': '90',
  'enable-purge-protection': 'false',
  'allow-arm-key-management': 'false',
  'security-domain-certificates': '',
  'security-domain-quorum': '',
  'security-domain-file': '',
  'key-name': '',
  'key-size': '3072',
  'account-name': '',
  'account-concurrency': '8',
  api: 'nosql',
  'account-locations': '',
  'identity-mode': '',
  'user-assigned-identity': '',
  'cosmos-principal-id': '',
  'bootstrap-identity': 'first-party',
  'remove-bootstrap-assignment': 'false',
  'role-scope': 'key',
  mode: 'apply',
  'enable-on-existing': 'false',
  'key-switch': 'false',
  'key-rotate-after': '',
  'key-expire-after': '',
  'rotate-key': 'false',
  'confirm-teardown': '',
  'protected-tags': 'environment=production',
  'comment-on-pr': 'false',
  'github-token': '${{ github.token }}',
  'timeout-minutes': '60',
  tags: ''
} as const

export type InputName = keyof typeof inputDefaults

/** Every account of the run, in the order `account-name` lists them (none in mode prepare). */
export function accountNames(inputs: Pick<Inputs, 'account'>): string[] {
  return inputs.account.name ? [inputs.account.name, ...inputs.account.others] : []
}
