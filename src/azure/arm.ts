import type { TokenCredential } from '@azure/core-auth'
import type { FullOperationResponse } from '@azure/core-client'
import { CosmosDBManagementClient } from '@azure/arm-cosmosdb'
import type { DatabaseAccountGetResults } from '@azure/arm-cosmosdb'
import { KeyVaultManagementClient } from '@azure/arm-keyvault'
import type { JsonWebKeyOperation, ManagedHsm, ManagedHsmKey } from '@azure/arm-keyvault'
import { ManagedServiceIdentityClient } from '@azure/arm-msi'
import { ResourceManagementClient } from '@azure/arm-resources'
import { scopeOf, type AzureCloud } from '../cloud.js'
import { whileWaiting } from '../concurrency.js'
import { codeOf, isNotFound, unlessAbsent } from '../errors.js'
import type {
  CosmosAccountCreateSpec,
  CosmosAccountsApi,
  CosmosAccountState,
  HsmKeyState,
  IdentitiesApi,
  ManagedHsmsApi,
  ManagedHsmState,
  ProvidersApi
} from './api.js'
import { AccountWatch } from './account-watch.js'
import { operationEnd, type OperationPoller } from './operation-end.js'
import { pollAsking, retryAfterMs, transportOptions } from './http.js'
import { pollPace, type TransportSettings } from './transport.js'

export interface ArmSetup {
  credential: TokenCredential
  cloud: AzureCloud
  subscriptionId: string
  transport: TransportSettings
  signal?: AbortSignal
}

function typeSpecOptions(setup: ArmSetup) {
  return {
    ...transportOptions(setup.transport),
    endpoint: setup.cloud.resourceManager,
    credentials: { scopes: [scopeOf(setup.cloud.resourceManager)] }
  }
}

/** `West Europe` as the programmatic `westeurope`. */
function regionName(displayName: string): string {
  return displayName.replace(/\s+/g, '').toLowerCase()
}

/** A client of the run's subscription, and the options of its long-running operations. */
function armClient<T>(
  Client: new (
    credential: TokenCredential,
    subscriptionId: string,
    options: ReturnType<typeof typeSpecOptions>
  ) => T,
  setup: ArmSetup
) {
  return {
    client: new Client(setup.credential, setup.subscriptionId, typeSpecOptions(setup)),
    operation: () => longRunning(setup)
  }
}

interface Poller<T> extends OperationPoller<T> {
  submitted(): Promise<void>
  poll(options: { abortSignal?: AbortSignal }): Promise<unknown>
}

/**
 * One long-running operation: the options of the request that starts it, and its end (see
 * operationEnd), where Azure asks for no pause, as Azure Cosmos DB's operations, polled at a pause
 * that grows with the time waited (pollPace).
 */
function longRunning(setup: ArmSetup) {
  let firstPollAfterMs: number | undefined
  let onStart: ((response: FullOperationResponse) => void) | undefined
  const pace = pollPace(setup.transport)
  return {
    options: {
      abortSignal: setup.signal,
      // Called for the starting request only, not for the polls.
      onResponse: (response: FullOperationResponse) => {
        firstPollAfterMs = retryAfterMs(response.headers)
        onStart?.(response)
      }
    },
    /** Also learns the starting request's answer. */
    onStart(callback: (response: FullOperationResponse) => void) {
      onStart = callback
      return this
    },
    /** Its end; `seenElsewhere` may tell it first (a fleet's list, see AccountWatch). */
    async done<T>(
      poller: Poller<T>,
      seenElsewhere?: (firstAfterMs: number | undefined) => Promise<T | undefined>
    ): Promise<T> {
      await poller.submitted()
      return whileWaiting(() =>
        operationEnd(poller, {
          poll: () => pollAsking(() => poller.poll({ abortSignal: setup.signal })),
          firstPollAfterMs,
          pace,
          seenElsewhere,
          signal: setup.signal
        })
      )
    }
  }
}

/** A read in a namespace that is not registered yet cannot find anything. */
function isAbsent(error: unknown): boolean {
  return isNotFound(error) || codeOf(error) === 'MissingSubscriptionRegistration'
}

export function createProvidersApi(setup: ArmSetup): ProvidersApi {
  const { client } = armClient(ResourceManagementClient, setup)
  const options = { abortSignal: setup.signal }
  return {
    async get(namespace) {
      const provider = await client.providers.get(namespace, options)
      const locations: Record<string, string[]> = {}
      for (const type of provider.resourceTypes ?? []) {
        if (!type.resourceType || !type.locations?.length) continue
        locations[type.resourceType.toLowerCase()] = type.locations.map(regionName)
      }
      return {
        namespace: provider.namespace ?? namespace,
        registrationState: provider.registrationState ?? 'Unknown',
        locations
      }
    },
    async register(namespace) {
      const provider = await client.providers.register(namespace, options)
      return {
        namespace: provider.namespace ?? namespace,
        registrationState: provider.registrationState ?? 'Unknown'
      }
    }
  }
}

export function createManagedHsmsApi(setup: ArmSetup): ManagedHsmsApi {
  const { client, operation } = armClient(KeyVaultManagementClient, setup)
  const { client: resources, operation: tagsOperation } = armClient(ResourceManagementClient, setup)
  const updateTags = async (
    id: string,
    operation: 'Merge' | 'Delete',
    tags: Record<string, string>
  ) => {
    const lro = tagsOperation()
    await lro.done(
      resources.tagsOperations.updateAtScope(id, { operation, properties: { tags } }, lro.options)
    )
  }
  return {
    mergeTags: (hsmId, tags) => updateTags(hsmId, 'Merge', tags),
    deleteTags: (hsmId, tags) => updateTags(hsmId, 'Delete', tags),
    async get(resourceGroup, name) {
      let status = 0
      try {
        const hsm = await client.managedHsms.get(resourceGroup, name, {
          abortSignal: setup.signal,
          onResponse: response => {
            status = response.status
          }
        })
        return status === 204 || !hsm?.id ? undefined : toHsmState(hsm)
      } catch (error) {
        // The spec allows 204 (no body) for "does not exist"; the deserializer trips over it.
        if (status === 204 || isAbsent(error)) return undefined
        throw error
      }
    },
    async create(resourceGroup, name, spec) {
      const lro = operation()
      const poller = client.managedHsms.createOrUpdate(
        resourceGroup,
        name,
        {
          location: spec.location,
          tags: spec.tags,
          sku: {
            family: spec.skuName.startsWith('Custom_C') ? 'C' : 'B',
            name: spec.skuName as 'Standard_B1'
          },
          properties: {
            tenantId: spec.tenantId,
            initialAdminObjectIds: spec.initialAdminObjectIds,
            enableSoftDelete: true,
            softDeleteRetentionInDays: spec.softDeleteRetentionInDays,
            enablePurgeProtection: true,
            createMode: 'default',
            publicNetworkAccess: 'Enabled'
          }
        },
        lro.options
      )
      return toHsmState(await lro.done(poller))
    },
    async enablePurgeProtection(resourceGroup, name) {
      const lro = operation()
      const poller = client.managedHsms.update(
        resourceGroup,
        name,
        { properties: { enablePurgeProtection: true } },
        lro.options
      )
      return toHsmState(await lro.done(poller))
    },
    async getKey(resourceGroup, hsmName, keyName) {
      const key = await unlessAbsent(() =>
        client.managedHsmKeys.get(resourceGroup, hsmName, keyName, { abortSignal: setup.signal })
      )
      return key && toKeyState(key)
    },
    async createKeyIfNotExist(resourceGroup, hsmName, keyName, spec) {
      const key = await client.managedHsmKeys.createIfNotExist(
        resourceGroup,
        hsmName,
        keyName,
        {
          tags: spec.tags,
          properties: {
            kty: spec.kty,
            keySize: spec.keySize,
            keyOps: spec.keyOps as JsonWebKeyOperation[],
            attributes: { enabled: true }
          }
        },
        { abortSignal: setup.signal }
      )
      return toKeyState(key)
    }
  }
}

function toKeyState(key: ManagedHsmKey): HsmKeyState {
  // ARM writes the default port into its key URIs (`:443`); the data plane's kid has none.
  const id = key.keyUriWithVersion ? new URL(key.keyUriWithVersion).href : ''
  const seconds = (value?: number) => (value === undefined ? undefined : new Date(value * 1000))
  return {
    id,
    name: key.name ?? '',
    version: id.split('/').filter(Boolean).pop() ?? '',
    kty: key.kty ?? 'unknown',
    keySize: key.keySize,
    keyOps: key.keyOps ?? [],
    enabled: key.attributes?.enabled !== false,
    notBefore: seconds(key.attributes?.notBefore),
    expiresOn: seconds(key.attributes?.expires)
  }
}

function toHsmState(hsm: ManagedHsm): ManagedHsmState {
  const p = hsm.properties ?? {}
  return {
    id: hsm.id ?? '',
    name: hsm.name ?? '',
    location: hsm.location ?? '',
    hsmUri: p.hsmUri ?? '',
    provisioningState: p.provisioningState ?? 'Unknown',
    statusMessage: p.statusMessage,
    enableSoftDelete: p.enableSoftDelete !== false,
    enablePurgeProtection: p.enablePurgeProtection === true,
    softDeleteRetentionInDays: p.softDeleteRetentionInDays,
    activationStatus: p.securityDomainProperties?.activationStatus ?? 'Unknown',
    activationStatusMessage: p.securityDomainProperties?.activationStatusMessage,
    initialAdminObjectIds: p.initialAdminObjectIds ?? [],
    tags: hsm.tags ?? {}
  }
}

export function createIdentitiesApi(setup: ArmSetup): IdentitiesApi {
  const clients = new Map<string, ManagedServiceIdentityClient>()
  const clientFor = (subscriptionId: string) => {
    let client = clients.get(subscriptionId)
    if (!client) {
      client = new ManagedServiceIdentityClient(setup.credential, subscriptionId, {
        ...transportOptions(setup.transport),
        endpoint: setup.cloud.resourceManager,
        $host: setup.cloud.resourceManager,
        credentialScopes: [scopeOf(setup.cloud.resourceManager)]
      })
      clients.set(subscriptionId, client)
    }
    return client
  }
  return {
    async getUserAssigned(subscriptionId, resourceGroup, name) {
      const identity = await unlessAbsent(
        () =>
          clientFor(subscriptionId).userAssignedIdentities.get(resourceGroup, name, {
            abortSignal: setup.signal
          }),
        isAbsent
      )
      return (
        identity && {
          id: identity.id ?? '',
          name: identity.name ?? name,
          principalId: identity.principalId ?? '',
          clientId: identity.clientId ?? ''
        }
      )
    }
  }
}

/**
 * A fleet's list answers for all its accounts in one large response: its first pause is five times
 * an operation poll's (1 s by default), which keeps a fleet of 50 well within its memory.
 */
const LIST_PAUSE_FACTOR = 5

/**
 * `watchCreations`: several accounts are created at once (a fleet), so their creations are seen
 * through one list of their resource group per interval (see AccountWatch).
 */
export function createCosmosAccountsApi(
  setup: ArmSetup,
  watchCreations = false
): CosmosAccountsApi {
  const { client, operation } = armClient(CosmosDBManagementClient, setup)
  const watch = watchCreations
    ? new AccountWatch(
        async (resourceGroup: string) => {
          const accounts: DatabaseAccountGetResults[] = []
          const pages = client.databaseAccounts.listByResourceGroup(resourceGroup, {
            abortSignal: setup.signal
          })
          for await (const account of pages) accounts.push(account)
          return accounts
        },
        pollPace({ pollIntervalMs: LIST_PAUSE_FACTOR * setup.transport.pollIntervalMs }),
        setup.signal
      )
    : undefined
  return {
    async get(resourceGroup, name) {
      const account = await unlessAbsent(
        () => client.databaseAccounts.get(resourceGroup, name, { abortSignal: setup.signal }),
        isAbsent
      )
      return account && toAccountState(account)
    },
    async create(resourceGroup, name, spec, accepted) {
      const lro = operation().onStart(response => {
        if (!accepted || response.status < 200 || response.status > 202) return
        accepted({ systemPrincipalId: systemPrincipalOf(response.parsedBody) })
      })
      const poller = client.databaseAccounts.createOrUpdate(
        resourceGroup,
        name,
        {
          location: spec.location,
          tags: spec.tags,
          kind: spec.kind,
          identity: creationIdentity(spec),
          locations: spec.locations.map((locationName, failoverPriority) => ({
            locationName,
            failoverPriority,
            isZoneRedundant: false
          })),
          databaseAccountOfferType: 'Standard',
          capabilities: spec.capabilities.map(capability => ({ name: capability })),
          keyVaultKeyUri: spec.keyVaultKeyUri,
          defaultIdentity: spec.defaultIdentity
        },
        lro.options
      )
      return toAccountState(
        await lro.done(poller, watch && (after => watch.until(resourceGroup, name, after)))
      )
    },
    async update(resourceGroup, name, patch) {
      const body =
        'identity' in patch
          ? {
              identity: {
                type: patch.identity.type as 'SystemAssigned',
                userAssignedIdentities: patch.identity.userAssignedIdentityIds.length
                  ? Object.fromEntries(patch.identity.userAssignedIdentityIds.map(id => [id, {}]))
                  : undefined
              }
            }
          : 'keyVaultKeyUri' in patch
            ? { keyVaultKeyUri: patch.keyVaultKeyUri }
            : { defaultIdentity: patch.defaultIdentity }
      const lro = operation()
      return toAccountState(
        await lro.done(client.databaseAccounts.update(resourceGroup, name, body, lro.options))
      )
    },
    async delete(resourceGroup, name) {
      const lro = operation()
      await lro.done(client.databaseAccounts.delete(resourceGroup, name, lro.options))
    },
    async list() {
      const accounts: CosmosAccountState[] = []
      for await (const account of client.databaseAccounts.list({ abortSignal: setup.signal })) {
        accounts.push(toAccountState(account))
      }
      return accounts
    }
  }
}

function systemPrincipalOf(body: unknown): string | undefined {
  const principalId = (body as { identity?: { principalId?: unknown } } | undefined)?.identity
    ?.principalId
  return typeof principalId === 'string' && principalId ? principalId : undefined
}

function creationIdentity(spec: CosmosAccountCreateSpec) {
  const userAssigned = spec.userAssignedIdentityId
    ? { [spec.userAssignedIdentityId]: {} }
    : undefined
  if (spec.systemAssigned) {
    return userAssigned
      ? { type: 'SystemAssigned,UserAssigned' as const, userAssignedIdentities: userAssigned }
      : { type: 'SystemAssigned' as const }
  }
  return userAssigned
    ? { type: 'UserAssigned' as const, userAssignedIdentities: userAssigned }
    : undefined
}

function toAccountState(account: DatabaseAccountGetResults): CosmosAccountState {
  const identity = account.identity
  return {
    id: account.id ?? '',
    name: account.name ?? '',
    location: account.location ?? '',
    kind: account.kind,
    capabilities: (account.capabilities ?? []).map(c => c.name ?? '').filter(Boolean),
    provisioningState: account.provisioningState,
    documentEndpoint: account.documentEndpoint,
    keyVaultKeyUri: account.keyVaultKeyUri,
    keyVaultKeyUriVersion: account.keyVaultKeyUriVersion,
    customerManagedKeyStatus: account.customerManagedKeyStatus,
    defaultIdentity: account.defaultIdentity,
    backupPolicyType: account.backupPolicy?.type,
    enableAnalyticalStorage: account.enableAnalyticalStorage,
    tags: account.tags ?? {},
    identity: {
      type: identity?.type ?? 'None',
      principalId: identity?.principalId,
      userAssignedIdentities: Object.fromEntries(
        Object.entries(identity?.userAssignedIdentities ?? {}).map(([id, value]) => [
          id,
          { principalId: value?.principalId, clientId: value?.clientId }
        ])
      )
    }
  }
}
