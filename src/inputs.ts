import { existsSync, readFileSync, statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { parseSecurityDomainCertificate, type SecurityDomainCertificate } from './certificates.js'
import { cloudNames, type CloudName } from './cloud.js'
import { ActionError } from './errors.js'

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
export const modes = ['apply', 'plan'] as const

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
  }
  securityDomain?: {
    certificates: SecurityDomainCertificate[]
    quorum: number
    /** Absolute path. */
    file: string
  }
  key: { name: string; size: KeySize }
  account: { name: string; api: Api; locations: string[] }
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
}

/** Every input the action reads, with its default ('' = none). action.yml mirrors this table. */
export const inputDefaults = {
  'client-id': '',
  'tenant-id': '',
  'subscription-id': '',
  audience: 'api://AzureADTokenExchange',
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
  'security-domain-certificates': '',
  'security-domain-quorum': '',
  'security-domain-file': '',
  'key-name': '',
  'key-size': '3072',
  'account-name': '',
  api: 'nosql',
  'account-locations': '',
  'identity-mode': 'first-party',
  'user-assigned-identity': '',
  'cosmos-principal-id': '',
  'bootstrap-identity': 'first-party',
  'remove-bootstrap-assignment': 'false',
  'role-scope': 'key',
  mode: 'apply',
  'timeout-minutes': '60',
  tags: ''
} as const

export type InputName = keyof typeof inputDefaults

export class InputError extends ActionError {
  constructor(readonly problems: string[]) {
    super(
      problems.length === 1
        ? problems[0]
        : `${problems.length} inputs are invalid:\n${problems.map(p => `- ${p}`).join('\n')}`
    )
    this.name = 'InputError'
  }
}

export interface InputSource {
  getInput(name: string): string
}

/** File access for certificate and output-path checks; injectable for tests. */
export interface InputFiles {
  exists(path: string): boolean
  isDirectory(path: string): boolean
  read(path: string): string
  cwd(): string
}

export const nodeFiles: InputFiles = {
  exists: path => existsSync(path),
  isDirectory: path => existsSync(path) && statSync(path).isDirectory(),
  read: path => readFileSync(path, 'utf8'),
  cwd: () => process.cwd()
}

const guidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const hsmNamePattern = /^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$/
const accountNamePattern = /^[a-z0-9][a-z0-9-]{1,42}[a-z0-9]$/
const keyNamePattern = /^[a-zA-Z0-9-]{1,127}$/
const resourceGroupPattern = /^[-\w._()]{1,90}$/
const identityNamePattern = /^[a-zA-Z0-9][a-zA-Z0-9_-]{2,127}$/
const uaiIdPattern =
  /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/([^/]+)$/i

const GUID_RULE = 'must be a GUID like 00000000-0000-0000-0000-000000000000'

/**
 * Reads and validates every input before anything touches the network. All problems are
 * collected and reported together.
 */
export function parseInputs(source: InputSource, files: InputFiles = nodeFiles): Inputs {
  const problems: string[] = []
  const raw = (name: InputName): string => {
    const value = (source.getInput(name) ?? '').trim()
    return value === '' ? inputDefaults[name] : value
  }
  // GitHub passes action.yml defaults as if they were set, so "given" means "differs from the default".
  const given = (name: InputName): boolean => {
    const value = (source.getInput(name) ?? '').trim()
    return value !== '' && value !== inputDefaults[name]
  }
  const fail = (name: InputName, rule: string, value = raw(name)) => {
    problems.push(`Input '${name}' is '${value}': ${rule}.`)
  }
  const missing = (name: InputName, when?: string) => {
    problems.push(`Input '${name}' is required${when ? ` ${when}` : ''}.`)
  }

  function oneOf<T extends string | number>(name: InputName, allowed: readonly T[]): T {
    const value = raw(name)
    const match = allowed.find(a => String(a).toLowerCase() === value.toLowerCase())
    if (match === undefined) {
      fail(name, `must be one of ${allowed.join(', ')}`)
      return allowed[0]
    }
    return match
  }
  function bool(name: InputName): boolean {
    const value = raw(name)
    if (/^(true|True|TRUE)$/.test(value)) return true
    if (/^(false|False|FALSE)$/.test(value)) return false
    fail(name, 'must be true or false')
    return false
  }
  function guid(name: InputName, when?: string): string | undefined {
    const value = raw(name)
    if (!value) {
      if (when !== undefined) missing(name, when)
      return undefined
    }
    if (!guidPattern.test(value)) {
      fail(name, GUID_RULE)
      return undefined
    }
    return value.toLowerCase()
  }
  function integer(name: InputName, min: number, max: number, rule?: string): number | undefined {
    const value = raw(name)
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
      fail(name, rule ?? `must be a whole number from ${min} to ${max}`)
      return undefined
    }
    return Number(value)
  }
  function text(name: InputName, pattern: RegExp, rule: string, when = ''): string {
    const value = raw(name)
    if (!value) {
      missing(name, when)
      return ''
    }
    if (!pattern.test(value)) fail(name, rule)
    return value
  }

  // Sign-in
  const authType = oneOf('auth-type', authTypes)
  const environment = oneOf('environment', cloudNames)
  const oidc = authType === 'oidc'
  const clientId = guid('client-id', oidc ? "when auth-type is 'oidc'" : undefined)
  const tenantId = guid('tenant-id', oidc ? "when auth-type is 'oidc'" : undefined)
  const subscriptionId = guid('subscription-id', '') ?? ''
  const audience = raw('audience')
  if (given('audience') && !oidc) fail('audience', "is used only with auth-type 'oidc'")

  // Where
  const resourceGroup = text(
    'resource-group',
    resourceGroupPattern,
    'must be 1-90 characters: letters, digits, underscores, hyphens, periods and parentheses'
  )
  if (resourceGroup.endsWith('.')) fail('resource-group', 'must not end with a period')
  const location = locationOf(raw('location'), v =>
    fail('location', 'must be an Azure region name like westeurope', v)
  )

  // Managed HSM
  const hsmName = text(
    'hsm-name',
    hsmNamePattern,
    'must be 3-24 characters, letters, digits and hyphens, starting with a letter and not ending with a hyphen'
  )
  if (hsmName.includes('--')) fail('hsm-name', 'must not contain two hyphens in a row')
  const hsmResourceGroup = given('hsm-resource-group')
    ? text(
        'hsm-resource-group',
        resourceGroupPattern,
        'must be 1-90 characters: letters, digits, underscores, hyphens, periods and parentheses'
      )
    : resourceGroup
  const createHsm = bool('create-hsm')
  const administrators: string[] = []
  for (const id of list(raw('hsm-administrators'))) {
    if (!guidPattern.test(id)) {
      fail(
        'hsm-administrators',
        `every entry ${GUID_RULE} (object ids, separated by commas or new lines)`,
        id
      )
    } else if (!administrators.includes(id.toLowerCase())) {
      administrators.push(id.toLowerCase())
    }
  }
  if (administrators.length && !createHsm) {
    problems.push(
      "Input 'hsm-administrators' is used only when create-hsm is true (it sets the new HSM's administrators)."
    )
  }
  const sku = oneOf('hsm-sku', hsmSkus)
  const retentionDays = integer('hsm-retention-days', 7, 90) ?? 90
  const enablePurgeProtection = bool('enable-purge-protection')

  // Security domain (activation)
  const securityDomain = parseSecurityDomain()

  // Key
  const keyName = text(
    'key-name',
    keyNamePattern,
    'must be 1-127 characters: letters, digits and hyphens'
  )
  const keySize = oneOf('key-size', keySizes)

  // Cosmos DB account
  const accountName = text(
    'account-name',
    accountNamePattern,
    'must be 3-44 characters: lowercase letters, digits and hyphens, not starting or ending with a hyphen'
  )
  const api = oneOf('api', apis)
  const accountLocations: string[] = []
  for (const entry of list(raw('account-locations'))) {
    const normalised = locationOf(entry, v =>
      fail('account-locations', 'every entry must be an Azure region name like westeurope', v)
    )
    if (normalised && accountLocations.includes(normalised)) {
      fail('account-locations', `lists ${normalised} twice`, entry)
    } else if (normalised) accountLocations.push(normalised)
  }
  if (!accountLocations.length && location) accountLocations.push(location)

  // Identities
  const identityMode = oneOf('identity-mode', identityModes)
  const bootstrap = oneOf('bootstrap-identity', bootstrapIdentities)
  const removeBootstrapAssignment = bool('remove-bootstrap-assignment')
  const systemAssigned = identityMode === 'system-assigned'
  if (given('bootstrap-identity') && !systemAssigned) {
    problems.push("Input 'bootstrap-identity' applies only with identity-mode 'system-assigned'.")
  }
  if (removeBootstrapAssignment && !systemAssigned) {
    problems.push(
      "Input 'remove-bootstrap-assignment' applies only with identity-mode 'system-assigned'."
    )
  }
  const needsUai =
    identityMode === 'user-assigned' || (systemAssigned && bootstrap === 'user-assigned')
  let userAssignedIdentity: ResourceRef | undefined
  if (given('user-assigned-identity')) {
    userAssignedIdentity = identityRef(raw('user-assigned-identity'))
    if (!needsUai) {
      problems.push(
        "Input 'user-assigned-identity' applies only with identity-mode 'user-assigned', or with " +
          "identity-mode 'system-assigned' and bootstrap-identity 'user-assigned'."
      )
    }
  } else if (identityMode === 'user-assigned') {
    missing('user-assigned-identity', "when identity-mode is 'user-assigned'")
  } else if (needsUai) {
    missing('user-assigned-identity', "when bootstrap-identity is 'user-assigned'")
  }
  const usesFirstParty =
    identityMode === 'first-party' || (systemAssigned && bootstrap === 'first-party')
  const cosmosPrincipalId = guid('cosmos-principal-id')
  if (cosmosPrincipalId && !usesFirstParty) {
    problems.push(
      "Input 'cosmos-principal-id' applies only when the Azure Cosmos DB first-party identity is used " +
        "(identity-mode 'first-party', or 'system-assigned' with bootstrap-identity 'first-party')."
    )
  }

  const roleScope = oneOf('role-scope', roleScopes)
  const mode = oneOf('mode', modes)
  const timeoutMinutes = integer('timeout-minutes', 1, 360) ?? 60
  const tags = parseTags(raw('tags'))

  if (problems.length) throw new InputError(problems)

  return {
    auth: { type: authType, clientId, tenantId, audience },
    environment,
    subscriptionId,
    resourceGroup,
    location,
    hsm: {
      name: hsmName,
      resourceGroup: hsmResourceGroup,
      create: createHsm,
      administrators,
      sku,
      retentionDays,
      enablePurgeProtection
    },
    securityDomain,
    key: { name: keyName, size: keySize },
    account: { name: accountName, api, locations: accountLocations },
    identity: {
      mode: identityMode,
      userAssignedIdentity,
      cosmosPrincipalId,
      bootstrap,
      removeBootstrapAssignment
    },
    roleScope,
    mode,
    timeoutMinutes,
    tags
  }

  function parseSecurityDomain(): Inputs['securityDomain'] {
    const paths = list(raw('security-domain-certificates'))
    if (!paths.length) {
      if (given('security-domain-quorum') || given('security-domain-file')) {
        problems.push(
          "Inputs 'security-domain-quorum' and 'security-domain-file' apply only with 'security-domain-certificates'."
        )
      }
      return undefined
    }
    const certificates: SecurityDomainCertificate[] = []
    if (paths.length < 3 || paths.length > 10) {
      fail(
        'security-domain-certificates',
        `must list 3 to 10 PEM certificate files (it lists ${paths.length})`,
        paths.join(', ')
      )
    }
    for (const path of paths) {
      const absolute = resolve(files.cwd(), path)
      if (!files.exists(absolute)) {
        problems.push(
          `Input 'security-domain-certificates' lists '${path}': the file does not exist.`
        )
        continue
      }
      try {
        const cert = parseSecurityDomainCertificate(path, files.read(absolute))
        const twin = certificates.find(c => c.jwk['x5t#S256'] === cert.jwk['x5t#S256'])
        if (twin) {
          problems.push(
            `Input 'security-domain-certificates' lists '${path}': it is the same certificate as '${twin.path}'.`
          )
        } else certificates.push(cert)
      } catch (error) {
        problems.push(
          `Input 'security-domain-certificates' lists '${path}': ${(error as Error).message}.`
        )
      }
    }
    let quorum = 0
    if (!given('security-domain-quorum')) {
      missing('security-domain-quorum', "with 'security-domain-certificates'")
    } else {
      quorum =
        integer(
          'security-domain-quorum',
          2,
          Math.max(2, paths.length),
          `must be a whole number from 2 to ${paths.length} (the number of certificates)`
        ) ?? 0
    }
    let file = ''
    if (!given('security-domain-file')) {
      missing(
        'security-domain-file',
        "with 'security-domain-certificates' (the encrypted security domain is written there)"
      )
    } else {
      file = resolve(files.cwd(), raw('security-domain-file'))
      if (files.isDirectory(file)) {
        fail('security-domain-file', 'must be a file path, not a directory')
      } else if (!files.isDirectory(dirname(file))) {
        fail('security-domain-file', 'its folder does not exist')
      }
    }
    return { certificates, quorum, file }
  }

  function identityRef(value: string): ResourceRef | undefined {
    const match = uaiIdPattern.exec(value)
    if (match) {
      const [, sub, rg, name] = match
      if (!guidPattern.test(sub)) {
        fail(
          'user-assigned-identity',
          'must be an identity name or a resource id with a GUID subscription',
          value
        )
        return undefined
      }
      return {
        subscriptionId: sub.toLowerCase(),
        resourceGroup: rg,
        name,
        id: userAssignedIdentityId(sub.toLowerCase(), rg, name)
      }
    }
    if (value.startsWith('/')) {
      fail(
        'user-assigned-identity',
        'must be /subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>, or a name',
        value
      )
      return undefined
    }
    if (!identityNamePattern.test(value)) {
      fail(
        'user-assigned-identity',
        'must be 3-128 characters: letters, digits, hyphens and underscores, starting with a letter or digit',
        value
      )
      return undefined
    }
    return {
      subscriptionId,
      resourceGroup,
      name: value,
      id: userAssignedIdentityId(subscriptionId, resourceGroup, value)
    }
  }

  function parseTags(value: string): Record<string, string> {
    const result: Record<string, string> = {}
    for (const entry of list(value)) {
      const eq = entry.indexOf('=')
      const key = eq < 0 ? '' : entry.slice(0, eq).trim()
      const tagValue = eq < 0 ? '' : entry.slice(eq + 1).trim()
      if (!key || key.length > 512 || /[<>%&\\?/]/.test(key) || tagValue.length > 256) {
        fail(
          'tags',
          'every entry must be key=value (key up to 512 characters without <>%&\\?/, value up to 256)',
          entry
        )
      } else result[key] = tagValue
    }
    return result
  }
}

export function userAssignedIdentityId(
  subscriptionId: string,
  resourceGroup: string,
  name: string
): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`
}

function list(value: string): string[] {
  return value
    .split(/[\n,]/)
    .map(v => v.trim())
    .filter(Boolean)
}

function locationOf(value: string, onInvalid: (value: string) => void): string | undefined {
  if (!value) return undefined
  const normalised = value.toLowerCase().replace(/\s+/g, '')
  if (!/^[a-z][a-z0-9]{2,}$/.test(normalised)) {
    onInvalid(value)
    return undefined
  }
  return normalised
}
