import { RestError } from '@azure/core-rest-pipeline'
import type { SecurityDomainKey } from '../../src/certificates.js'
import type {
  AzureApis,
  CosmosAccountState,
  HsmDataPlane,
  HsmKeyState,
  RotationPolicy,
  ManagedHsmState,
  RoleAssignment,
  SecurityDomainStatus,
  UserAssignedIdentityState
} from '../../src/azure/api.js'
import type { Clock } from '../../src/clock.js'
import type { Inputs } from '../../src/inputs/settings.js'
import type { Runner } from '../../src/runner/runner.js'
import { normaliseScope, scopeCovers } from '../../src/roles.js'

export const ids = {
  tenant: '11111111-1111-1111-1111-111111111111',
  subscription: '22222222-2222-2222-2222-222222222222',
  client: '33333333-3333-3333-3333-333333333333',
  signedIn: '44444444-4444-4444-4444-444444444444',
  cosmosSp: '55555555-5555-5555-5555-555555555555',
  uaiPrincipal: '66666666-6666-6666-6666-666666666666',
  systemPrincipal: '77777777-7777-7777-7777-777777777777'
}

export const uaiId = `/subscriptions/${ids.subscription}/resourceGroups/rg-cmk/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-cmk`

/** The id, name and region of a resource `type/name` in rg-cmk, in westeurope. */
const inResourceGroup = (type: string, name: string) => ({
  id: `/subscriptions/${ids.subscription}/resourceGroups/rg-cmk/providers/${type}/${name}`,
  name,
  location: 'westeurope'
})

export function restError(
  status: number,
  code: string,
  message = code,
  innerCode?: string
): RestError {
  const error = new RestError(message, { code, statusCode: status })
  if (innerCode) Object.assign(error, { innerCode })
  return error
}

/** An account on its system-assigned identity (principal ids.systemPrincipal) as its default identity. */
export function onSystemIdentity(): Partial<CosmosAccountState> {
  return {
    defaultIdentity: 'SystemAssignedIdentity',
    identity: {
      type: 'SystemAssigned',
      principalId: ids.systemPrincipal,
      userAssignedIdentities: {}
    }
  }
}

/**
 * An account on the user-assigned identity id-cmk, attached under the id `attachedAs`; its default
 * identity names it in upper case, as Azure may.
 */
export function onUserAssignedIdentity(
  attachedAs = uaiId,
  attached: { principalId?: string } = {}
): Partial<CosmosAccountState> {
  return {
    defaultIdentity: `UserAssignedIdentity=${uaiId.toUpperCase()}`,
    identity: { type: 'UserAssigned', userAssignedIdentities: { [attachedAs]: attached } }
  }
}

/** A wait that keeps sleeping without moving fake time: it would spin instead of failing. */
export class FakeClockStalledError extends Error {
  override name = 'FakeClockStalledError'
}

/** A fake clock: sleeping advances time at once. */
export class FakeClock implements Clock {
  /** Sleeps in a row that may pass without advancing time before the clock calls it a stall. */
  static readonly STALL_LIMIT = 1_000
  sleeps: number[] = []
  private stalled = 0
  private sleptAt?: number
  constructor(public time = Date.parse('2026-11-28T12:00:00Z')) {}
  now(): number {
    return this.time
  }
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) {
      const error = new Error('aborted')
      error.name = 'AbortError'
      throw error
    }
    // Time that went by since the last sleep (a poll that took fake time) is progress too.
    this.stalled = ms > 0 || this.time !== this.sleptAt ? 0 : this.stalled + 1
    if (this.stalled >= FakeClock.STALL_LIMIT) {
      throw new FakeClockStalledError(
        `${this.stalled} sleeps in a row did not advance the fake clock (at ${new Date(this.time).toISOString()}): the wait would spin forever`
      )
    }
    this.sleeps.push(ms)
    this.time += Math.max(0, ms)
    this.sleptAt = this.time
    await Promise.resolve()
  }
}

export class FakeRunner implements Runner {
  inputs: Record<string, string> = {}
  outputs: Record<string, string> = {}
  logs: string[] = []
  secrets: string[] = []
  summaries: string[] = []
  failed?: string
  idTokens = 0
  constructor(inputs: Record<string, string> = {}) {
    this.inputs = inputs
  }
  getInput(name: string): string {
    return (this.inputs[name] ?? '').trim()
  }
  setOutput(name: string, value: string): void {
    this.outputs[name] = value
  }
  info(message: string): void {
    this.logs.push(`info: ${message}`)
  }
  warning(message: string): void {
    this.logs.push(`warning: ${message}`)
  }
  error(message: string): void {
    this.logs.push(`error: ${message}`)
  }
  debug(message: string): void {
    this.logs.push(`debug: ${message}`)
  }
  async group<T>(name: string, fn: () => Promise<T>): Promise<T> {
    this.logs.push(`group: ${name}`)
    return fn()
  }
  setSecret(value: string): void {
    this.secrets.push(value)
  }
  async getIdToken(): Promise<string> {
    this.idTokens++
    return fakeJwt({
      iss: 'https://token.actions.githubusercontent.com',
      sub: 'repo:contoso/app:ref:refs/heads/main',
      aud: 'api://AzureADTokenExchange',
      n: this.idTokens
    })
  }
  async summary(markdown: string): Promise<void> {
    this.summaries.push(markdown)
  }
  setFailed(message: string): void {
    this.failed = message
  }
  resourceTags(): Record<string, string> {
    return { 'created-by': 'cosmos-cmk-hsm-action' }
  }
}

/** A security-domain certificate's key as the HSM receives it; its numbers are not a real key's. */
export function fakeSecurityDomainKey(kid: string, x5c: string[] = []): SecurityDomainKey {
  return {
    kid,
    kty: 'RSA',
    key_ops: ['wrapKey'],
    alg: 'RSA-OAEP-256',
    use: 'enc',
    n: 'AQAB',
    e: 'AQAB',
    x5c,
    x5t: kid,
    'x5t#S256': kid
  }
}

export function fakeJwt(claims: Record<string, unknown>): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
  return `${part({ alg: 'RS256', typ: 'JWT' })}.${part(claims)}.c2lnbmF0dXJlLXNpZ25hdHVyZQ`
}

export function baseInputs(overrides: Partial<Inputs> = {}): Inputs {
  return {
    auth: {
      type: 'oidc',
      clientId: ids.client,
      tenantId: ids.tenant,
      audience: 'api://AzureADTokenExchange'
    },
    environment: 'AzureCloud',
    subscriptionId: ids.subscription,
    resourceGroup: 'rg-cmk',
    location: 'westeurope',
    hsm: {
      name: 'hsm-cmk',
      resourceGroup: 'rg-cmk',
      create: false,
      administrators: [],
      sku: 'Standard_B1',
      retentionDays: 90,
      enablePurgeProtection: false,
      allowArmKeyManagement: false
    },
    key: { name: 'cosmos-key', size: 3072, rotateNow: false },
    account: {
      name: 'cosmos-cmk',
      others: [],
      concurrency: 8,
      api: 'nosql',
      locations: ['westeurope'],
      enableOnExisting: false,
      keySwitch: false
    },
    identity: { mode: 'first-party', bootstrap: 'first-party', removeBootstrapAssignment: false },
    roleScope: 'key',
    mode: 'apply',
    timeoutMinutes: 60,
    tags: {},
    teardown: { protectedTags: { environment: 'production' } },
    prComment: { enabled: false, token: '${{ github.token }}' },
    ...overrides
  }
}

/** An account of the fake Azure as Azure answers for one with a key, in rg-cmk. */
function newAccountState(overrides: Partial<CosmosAccountState> = {}): CosmosAccountState {
  return {
    ...inResourceGroup('Microsoft.DocumentDB/databaseAccounts', 'cosmos-cmk'),
    kind: 'GlobalDocumentDB',
    capabilities: [],
    provisioningState: 'Succeeded',
    documentEndpoint: 'https://cosmos-cmk.documents.azure.com:443/',
    keyVaultKeyUri: 'https://hsm-cmk.managedhsm.azure.net/keys/cosmos-key',
    defaultIdentity: 'FirstPartyIdentity',
    identity: { type: 'None', userAssignedIdentities: {} },
    tags: { 'created-by': 'cosmos-cmk-hsm-action' },
    ...overrides
  }
}

/** The system-assigned principal of the fleet account `name`: one of its own per account. */
export function systemPrincipalOf(name: string): string {
  const hex = Buffer.from(name).toString('hex').slice(-12).padStart(12, '0')
  return `77777777-7777-7777-7777-${hex}`
}

type Failure = () => Error

/**
 * An in-memory Azure behind the AzureApis interface. Every call is logged in `calls` as
 * `<kind> <operation>` (kind read or write); `failNext(op, ...)` makes the next calls of an
 * operation fail.
 */
export class FakeAzure implements AzureApis {
  calls: string[] = []
  providerStates: Record<string, string> = {
    'Microsoft.DocumentDB': 'Registered',
    'Microsoft.KeyVault': 'Registered',
    'Microsoft.ManagedIdentity': 'Registered'
  }
  hsmState?: ManagedHsmState
  uai?: UserAssignedIdentityState
  account?: CosmosAccountState
  /** More accounts of the subscription (seen by list() only). */
  otherAccounts: CosmosAccountState[] = []
  /**
   * The accounts of a fleet by name. When set, every account operation works on the account it
   * names, each with a system-assigned principal of its own (`systemPrincipalOf`), and `account`
   * is not used.
   */
  fleet?: Record<string, CosmosAccountState | undefined>
  assignments: RoleAssignment[] = []
  keys: Record<string, HsmKeyState> = {}
  sdStatus?: SecurityDomainStatus
  graphCosmosSp: string | undefined = ids.cosmosSp
  /** How many polls a registration stays Registering. */
  registeringPolls = 1
  private failures: Record<string, Failure[]> = {}
  /** Set by a test: runs before an operation (after failures), e.g. to simulate a race. */
  before: Record<string, () => void> = {}

  private always: Record<string, Failure> = {}

  /** Makes every call of an operation fail from now on. */
  failAlways(operation: string, error: Failure): this {
    this.always[operation] = error
    return this
  }

  failNext(operation: string, ...errors: Failure[]): this {
    ;(this.failures[operation] ??= []).push(...errors)
    return this
  }

  /**
   * Makes the next call of an operation lose a race: `winner` makes what it would have made, then
   * the call fails with 409 Conflict.
   */
  loseRace(operation: string, winner: () => void, message: string): this {
    return this.failNext(operation, () => {
      winner()
      return restError(409, 'Conflict', message)
    })
  }

  /** Makes the next `times` calls of an operation fail with `error`. */
  failTimes(operation: string, times: number, error: Failure): this {
    return this.failNext(operation, ...Array.from({ length: times }, () => error))
  }

  /** Makes the next calls of an operation take effect and then fail: their answers are lost. */
  loseAnswers(operation: string, ...errors: Failure[]): this {
    ;(this.lostAnswers[operation] ??= []).push(...errors)
    return this
  }

  private lostAnswers: Record<string, Failure[]> = {}

  private answer<T>(operation: string, value: T): T {
    const lost = this.lostAnswers[operation]?.shift()
    if (lost) throw lost()
    return value
  }

  private enter(kind: 'read' | 'write', operation: string): void {
    this.calls.push(`${kind} ${operation}`)
    const next = this.failures[operation]?.shift() ?? this.always[operation]
    if (next) throw next()
    this.before[operation]?.()
  }

  /**
   * Wraps operation `op` of `api` from now on: `wrap` is given the operation as it was, e.g. to
   * hold back or change its answer.
   */
  around<A extends 'cosmos' | 'managedHsms' | 'permissions', K extends keyof FakeAzure[A]>(
    api: A,
    op: K,
    wrap: (inner: FakeAzure[A][K]) => FakeAzure[A][K]
  ): this {
    const inner = this[api]
    const wrapped = { ...inner, [op]: wrap(inner[op]) }
    Object.defineProperty(this, api, { configurable: true, get: () => wrapped })
    return this
  }

  writes(): string[] {
    return this.calls.filter(c => c.startsWith('write ')).map(c => c.slice(6))
  }

  withActiveHsm(overrides: Partial<ManagedHsmState> = {}): this {
    this.hsmState = {
      ...inResourceGroup('Microsoft.KeyVault/managedHSMs', 'hsm-cmk'),
      hsmUri: 'https://hsm-cmk.managedhsm.azure.net/',
      provisioningState: 'Succeeded',
      enableSoftDelete: true,
      enablePurgeProtection: true,
      softDeleteRetentionInDays: 90,
      activationStatus: 'Active',
      initialAdminObjectIds: [ids.signedIn],
      tags: {},
      ...overrides
    }
    return this
  }

  /** An HSM not activated yet, with a security domain download under way. */
  withDownloadUnderWay(): this {
    this.withActiveHsm({ activationStatus: 'NotActivated' })
    this.sdStatus = { status: 'InProgress' }
    return this
  }

  withUai(): this {
    this.uai = { id: uaiId, name: 'id-cmk', principalId: ids.uaiPrincipal, clientId: 'c' }
    return this
  }

  withKey(overrides: Partial<HsmKeyState> = {}): this {
    this.keys['cosmos-key'] = {
      id: 'https://hsm-cmk.managedhsm.azure.net/keys/cosmos-key/0123456789abcdef0123456789abcdef',
      name: 'cosmos-key',
      version: '0123456789abcdef0123456789abcdef',
      kty: 'RSA-HSM',
      keySize: 3072,
      keyOps: ['wrapKey', 'unwrapKey'],
      enabled: true,
      ...overrides
    }
    return this
  }

  withAccount(overrides: Partial<CosmosAccountState> = {}): this {
    this.account = newAccountState(overrides)
    return this
  }

  /** Adds an account of the fleet (see `fleet`), named `name`. */
  withFleetAccount(name: string, overrides: Partial<CosmosAccountState> = {}): this {
    ;(this.fleet ??= {})[name] = newAccountState({
      ...inResourceGroup('Microsoft.DocumentDB/databaseAccounts', name),
      documentEndpoint: `https://${name}.documents.azure.com:443/`,
      ...overrides
    })
    return this
  }

  private accountNamed(name: string): CosmosAccountState | undefined {
    return this.fleet ? this.fleet[name] : this.account
  }

  private placeAccount(name: string, state: CosmosAccountState | undefined): void {
    if (this.fleet) this.fleet[name] = state
    else this.account = state
  }

  private systemPrincipalFor(name: string): string {
    return this.fleet ? systemPrincipalOf(name) : ids.systemPrincipal
  }

  grant(
    roleGuid: string,
    principalId: string,
    scope: string,
    name = `pre-${this.assignments.length}`
  ): this {
    this.assignments.push({
      id: `/providers/Microsoft.Authorization/roleAssignments/${name}`,
      name,
      scope: normaliseScope(scope),
      roleDefinitionId: `Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/${roleGuid}`,
      principalId
    })
    return this
  }

  /** Regions each provider offers its resource types in (none: not reported). */
  offered: Record<string, Record<string, string[]>> = {}

  readonly providers = {
    get: async (namespace: string) => {
      this.enter('read', `providers.get ${namespace}`)
      let state = this.providerStates[namespace] ?? 'NotRegistered'
      if (state === 'Registering') {
        if (this.registeringPolls-- <= 0) this.providerStates[namespace] = state = 'Registered'
      }
      return { namespace, registrationState: state, locations: this.offered[namespace] }
    },
    register: async (namespace: string) => {
      this.enter('write', `providers.register ${namespace}`)
      this.providerStates[namespace] = 'Registering'
      return { namespace, registrationState: 'Registering' }
    }
  }

  get managedHsms() {
    return {
      get: async () => {
        this.enter('read', 'hsm.get')
        return this.hsmState ? { ...this.hsmState } : undefined
      },
      create: async (
        _rg: string,
        name: string,
        spec: {
          initialAdminObjectIds: string[]
          softDeleteRetentionInDays: number
          location: string
          tags: Record<string, string>
        }
      ) => {
        this.enter('write', 'hsm.create')
        this.withActiveHsm({
          name,
          activationStatus: 'NotActivated',
          initialAdminObjectIds: spec.initialAdminObjectIds,
          softDeleteRetentionInDays: spec.softDeleteRetentionInDays,
          tags: spec.tags
        })
        return { ...this.hsmState! }
      },
      enablePurgeProtection: async () => {
        this.enter('write', 'hsm.enablePurgeProtection')
        this.hsmState!.enablePurgeProtection = true
        return { ...this.hsmState! }
      },
      mergeTags: async (_id: string, tags: Record<string, string>) => {
        this.enter('write', 'hsm.tags')
        if (this.hsmState) this.hsmState.tags = { ...this.hsmState.tags, ...tags }
      },
      deleteTags: async (_id: string, tags: Record<string, string>) => {
        this.enter('write', 'hsm.untag')
        for (const name of Object.keys(tags)) delete this.hsmState?.tags[name]
      },
      getKey: async (_rg: string, _hsm: string, name: string) => {
        this.enter('read', 'armKey.get')
        return this.keys[name] ? { ...this.keys[name] } : undefined
      },
      createKeyIfNotExist: async (
        _rg: string,
        _hsm: string,
        name: string,
        spec: { keySize: number; keyOps: string[] }
      ) => {
        this.enter('write', 'armKey.create')
        if (this.hsmSettings.AllowKeyManagementOperationsThroughARM?.toLowerCase() !== 'true') {
          throw restError(
            400,
            'BadRequest',
            "The managed HSM 'hsm-cmk' does not allow key management operations through Azure " +
              "Resource Manager. A Managed HSM administrator must enable the setting 'AllowKeyManagementOperationsThroughARM'."
          )
        }
        return this.keys[name]
          ? { ...this.keys[name] }
          : this.addKey(name, spec.keySize, spec.keyOps)
      }
    }
  }

  private addKey(name: string, size: number, keyOps: string[]): HsmKeyState {
    const version = `${Object.keys(this.keys).length}`.padStart(32, 'f')
    this.keys[name] = {
      id: `https://hsm-cmk.managedhsm.azure.net/keys/${name}/${version}`,
      name,
      version,
      kty: 'RSA-HSM',
      keySize: size,
      keyOps,
      enabled: true
    }
    return { ...this.keys[name] }
  }

  get identities() {
    return {
      getUserAssigned: async () => {
        this.enter('read', 'uai.get')
        return this.uai
      }
    }
  }

  get cosmos() {
    return {
      get: async (_rg?: string, name = '') => {
        this.enter('read', 'account.get')
        const account = this.accountNamed(name)
        return account ? structuredClone(account) : undefined
      },
      create: async (
        _rg: string,
        name: string,
        spec: {
          keyVaultKeyUri: string
          defaultIdentity: string
          userAssignedIdentityId?: string
          systemAssigned?: boolean
          kind: string
          capabilities: string[]
          location: string
        },
        accepted?: (answer: { systemPrincipalId?: string }) => void
      ) => {
        this.enter('write', 'account.create')
        const systemPrincipal = this.systemPrincipalFor(name)
        const created = newAccountState({
          ...(this.fleet && {
            ...inResourceGroup('Microsoft.DocumentDB/databaseAccounts', name),
            documentEndpoint: `https://${name}.documents.azure.com:443/`
          }),
          name,
          kind: spec.kind,
          capabilities: spec.capabilities,
          keyVaultKeyUri: spec.keyVaultKeyUri,
          defaultIdentity: spec.defaultIdentity,
          identity: {
            type:
              [
                spec.systemAssigned ? 'SystemAssigned' : '',
                spec.userAssignedIdentityId ? 'UserAssigned' : ''
              ]
                .filter(Boolean)
                .join(',') || 'None',
            principalId: spec.systemAssigned ? systemPrincipal : undefined,
            userAssignedIdentities: spec.userAssignedIdentityId
              ? { [spec.userAssignedIdentityId]: { principalId: ids.uaiPrincipal } }
              : {}
          }
        })
        this.placeAccount(name, created)
        accepted?.({ systemPrincipalId: spec.systemAssigned ? systemPrincipal : undefined })
        return structuredClone(created)
      },
      update: async (
        _rg: string,
        name: string,
        patch: {
          identity?: { type: string; userAssignedIdentityIds: string[] }
          defaultIdentity?: string
          keyVaultKeyUri?: string
        }
      ) => {
        this.enter(
          'write',
          `account.update ${'identity' in patch ? 'identity' : 'keyVaultKeyUri' in patch ? 'keyVaultKeyUri' : 'defaultIdentity'}`
        )
        const account = this.accountNamed(name)!
        if (patch.keyVaultKeyUri) account.keyVaultKeyUri = patch.keyVaultKeyUri
        if (patch.identity) {
          account.identity = {
            type: patch.identity.type,
            principalId: /SystemAssigned/.test(patch.identity.type)
              ? this.systemPrincipalFor(name)
              : undefined,
            userAssignedIdentities: Object.fromEntries(
              patch.identity.userAssignedIdentityIds.map(id => [id, {}])
            )
          }
        }
        if (patch.defaultIdentity) account.defaultIdentity = patch.defaultIdentity
        return structuredClone(account)
      },
      delete: async (_rg: string, name: string) => {
        this.enter('write', 'account.delete')
        this.placeAccount(name, undefined)
      },
      list: async () => {
        this.enter('read', 'account.list')
        const own = this.fleet
          ? Object.values(this.fleet).filter(a => a !== undefined)
          : this.account
            ? [this.account]
            : []
        return structuredClone([...own, ...this.otherAccounts])
      }
    }
  }

  /** Rotation policies by key name. */
  rotationPolicies: Record<string, RotationPolicy> = {}

  /**
   * The HSM's account settings. This HSM trusts ARM with key management already (Azure's default
   * is false), so that tests of the ARM path need no setup; ARM refuses key creation without it.
   */
  hsmSettings: Record<string, string> = { AllowKeyManagementOperationsThroughARM: 'true' }

  /** ARM permissions of the caller by scope (default: everything). */
  permissionsAt: Record<string, { actions: string[]; notActions: string[] }[]> = {}

  get permissions() {
    return {
      at: async (scope: string) => {
        this.enter('read', 'permissions')
        return this.permissionsAt[scope] ?? [{ actions: ['*'], notActions: [] }]
      }
    }
  }

  get graph() {
    return {
      servicePrincipalIdByAppId: async () => {
        this.enter('read', 'graph.servicePrincipal')
        return this.graphCosmosSp
      },
      servicePrincipal: async (objectId: string) => {
        this.enter('read', 'graph.servicePrincipalById')
        return this.servicePrincipals[objectId]
      }
    }
  }

  /** Principals the HSM's directory does not know: assigning them a role fails. */
  unknownPrincipals = new Set<string>()

  /** The tenant's service principals by object id, for lookups by id. */
  servicePrincipals: Record<string, { id: string; appId: string; displayName: string }> = {
    [ids.cosmosSp]: {
      id: ids.cosmosSp,
      appId: 'a232010e-820c-4083-83bb-3ace5fc29d0b',
      displayName: 'Azure Cosmos DB'
    },
    [ids.uaiPrincipal]: {
      id: ids.uaiPrincipal,
      appId: '88888888-8888-8888-8888-888888888888',
      displayName: 'id-cmk'
    }
  }

  hsm(): HsmDataPlane {
    return {
      rbac: {
        listForPrincipal: async (scope: string, principalId: string) => {
          this.enter('read', 'rbac.list')
          // As the HSM answers: the assignments at the scope, above it and below it.
          return this.assignments.filter(
            a =>
              a.principalId === principalId &&
              (scopeCovers(a.scope, scope) || scopeCovers(scope, a.scope))
          )
        },
        get: async (scope: string, name: string) => {
          this.enter('read', 'rbac.get')
          return this.assignments.find(a => a.name === name && a.scope === normaliseScope(scope))
        },
        create: async (
          scope: string,
          name: string,
          roleDefinitionId: string,
          principalId: string
        ) => {
          this.enter('write', 'rbac.create')
          if (this.unknownPrincipals.has(principalId)) {
            throw restError(400, 'BadRequest', `PrincipalNotFound: ${principalId} does not exist`)
          }
          const assignment = {
            id: `${normaliseScope(scope) === '/' ? '' : normaliseScope(scope)}/providers/Microsoft.Authorization/roleAssignments/${name}`,
            name,
            scope: normaliseScope(scope),
            roleDefinitionId,
            principalId
          }
          this.assignments.push(assignment)
          return this.answer('rbac.create', assignment)
        },
        delete: async (scope: string, name: string) => {
          this.enter('write', 'rbac.delete')
          this.assignments = this.assignments.filter(
            a => !(a.name === name && a.scope === normaliseScope(scope))
          )
        },
        listRoleDefinitions: async () => {
          this.enter('read', 'rbac.roleDefinitions')
          return []
        },
        getRoleDefinition: async () => {
          this.enter('read', 'rbac.roleDefinition')
          return undefined
        }
      },
      keys: {
        get: async (name: string) => {
          this.enter('read', 'key.get')
          return this.keys[name] ? { ...this.keys[name] } : undefined
        },
        createRsa: async (name: string, size: number, keyOps: string[]) => {
          this.enter('write', 'key.create')
          return this.addKey(name, size, keyOps)
        },
        getRotationPolicy: async (name: string) => {
          this.enter('read', 'key.rotationPolicy')
          return this.rotationPolicies[name]
        },
        setRotationPolicy: async (name: string, policy: RotationPolicy) => {
          this.enter('write', 'key.setRotationPolicy')
          this.rotationPolicies[name] = { ...policy }
          return { ...policy }
        },
        rotate: async (name: string) => {
          this.enter('write', 'key.rotate')
          const current = this.keys[name]
          const version = `${Object.keys(this.keys).length}${Date.now()}`.padStart(32, 'e')
          this.keys[name] = {
            ...current,
            version,
            id: `https://hsm-cmk.managedhsm.azure.net/keys/${name}/${version}`
          }
          return { ...this.keys[name] }
        },
        versions: async (name: string) => {
          this.enter('read', 'key.versions')
          return this.keys[name] ? [{ ...this.keys[name] }] : []
        }
      },
      settings: {
        get: async (name: string) => {
          this.enter('read', 'settings.get')
          return this.hsmSettings[name]
        },
        update: async (name: string, value: string) => {
          this.enter('write', `settings.update ${name}`)
          this.hsmSettings[name] = value
        }
      },
      securityDomain: {
        download: async () => {
          this.enter('write', 'sd.download')
          this.sdStatus = { status: 'InProgress' }
          return { value: '{"EncData":"opaque"}' }
        },
        downloadStatus: async () => {
          this.enter('read', 'sd.status')
          if (this.sdStatus?.status === 'InProgress') {
            this.sdStatus = { status: 'Success' }
            if (this.hsmState) this.hsmState.activationStatus = 'Active'
            return { status: 'InProgress' }
          }
          return this.sdStatus
        }
      }
    }
  }
}

/** The base inputs with the user-assigned identity id-cmk, in `mode` with `bootstrap`. */
export function withUserAssigned(
  mode: 'user-assigned' | 'system-assigned',
  bootstrap: 'first-party' | 'user-assigned' = 'first-party',
  removeBootstrapAssignment = false
): Inputs {
  return baseInputs({
    identity: {
      mode,
      bootstrap,
      removeBootstrapAssignment,
      userAssignedIdentity: {
        subscriptionId: ids.subscription,
        resourceGroup: 'rg-cmk',
        name: 'id-cmk',
        id: uaiId
      }
    }
  })
}

/** The base inputs in system-assigned mode, bootstrapped by the first-party identity. */
export function systemAssignedInputs(removeBootstrapAssignment = false): Inputs {
  return baseInputs({
    identity: { mode: 'system-assigned', bootstrap: 'first-party', removeBootstrapAssignment }
  })
}

/** The raw inputs of the base inputs, as a workflow passes them. */
export const validInputs: Record<string, string> = {
  'client-id': ids.client,
  'tenant-id': ids.tenant,
  'subscription-id': ids.subscription,
  'resource-group': 'rg-cmk',
  location: 'westeurope',
  'hsm-name': 'hsm-cmk',
  'key-name': 'cosmos-key',
  'account-name': 'cosmos-cmk'
}
