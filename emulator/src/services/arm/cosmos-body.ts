import type { CosmosAccount, World } from '../../core/world.js'
import { customerManagedKeyStatus, isEncrypting } from '../../model/cosmos-cmk.js'
import { hasSystemAssigned } from '../../model/cosmos-identity.js'
import { COSMOS_TYPE, worldKey } from '../../model/ids.js'
import { findRegion } from '../../model/regions.js'

function displayName(location: string): string {
  return findRegion(location)?.displayName ?? location
}

function enabledApiTypes(account: CosmosAccount): string {
  if (account.kind === 'MongoDB') return 'MongoDB'
  const caps = account.capabilities.map(c => c.toLowerCase())
  if (caps.includes('enablecassandra')) return 'Cassandra'
  if (caps.includes('enablegremlin')) return 'Gremlin, Sql'
  if (caps.includes('enabletable')) return 'Table, Sql'
  return 'Sql'
}

function backupPolicyBody(account: CosmosAccount): Record<string, unknown> {
  const policy = account.backupPolicy ?? 'Periodic'
  if (policy === 'Periodic') {
    return {
      type: 'Periodic',
      periodicModeProperties: {
        backupIntervalInMinutes: 240,
        backupRetentionIntervalInHours: 8,
        backupStorageRedundancy: 'Geo'
      }
    }
  }
  return { type: 'Continuous', continuousModeProperties: { tier: policy } }
}

/**
 * The key properties of an account with a customer-managed key. While its data is first being
 * encrypted the account reports neither a version in use nor a status: the spec has no
 * "encrypting" value, and the operation URL is the only progress signal (lifecycle reference 1).
 */
function keyProperties(world: World, account: CosmosAccount): Record<string, unknown> {
  if (!account.keyVaultKeyUri) return {}
  if (isEncrypting(world, account) || account.provisioningState === 'Creating') {
    return { keyVaultKeyUri: account.keyVaultKeyUri }
  }
  return {
    keyVaultKeyUri: account.keyVaultKeyUri,
    ...(account.keyVersionInUse ? { keyVaultKeyUriVersion: account.keyVersionInUse } : {}),
    customerManagedKeyStatus: customerManagedKeyStatus(account)
  }
}

function identityBody(world: World, account: CosmosAccount): Record<string, unknown> {
  if (account.identityType === 'None') return { type: 'None' }
  return {
    type: account.identityType,
    ...(hasSystemAssigned(account.identityType) && account.systemAssignedPrincipalId
      ? { principalId: account.systemAssignedPrincipalId, tenantId: world.tenantId }
      : {}),
    ...(account.userAssignedIdentities.length > 0
      ? {
          userAssignedIdentities: Object.fromEntries(
            account.userAssignedIdentities.map(id => {
              const uai = world.userAssignedIdentities[worldKey(id)]
              return [id, uai ? { principalId: uai.principalId, clientId: uai.clientId } : {}]
            })
          )
        }
      : {})
  }
}

/** The account as `GET .../databaseAccounts/{name}` returns it (shape of DatabaseAccountGetResults). */
export function cosmosAccountBody(world: World, account: CosmosAccount): Record<string, unknown> {
  const creating = account.provisioningState === 'Creating'
  const regionState = creating ? 'Creating' : 'Succeeded'
  const ordered = [...account.locations].sort((x, y) => x.failoverPriority - y.failoverPriority)
  const region = (l: CosmosAccount['locations'][number]) => ({
    id: `${account.name}-${l.locationName}`,
    locationName: displayName(l.locationName),
    ...(creating
      ? {}
      : { documentEndpoint: `https://${account.name}-${l.locationName}.documents.azure.com:443/` }),
    provisioningState: regionState,
    failoverPriority: l.failoverPriority,
    isZoneRedundant: l.isZoneRedundant
  })
  const created = new Date(account.createdAt).toISOString()
  return {
    id: account.id,
    name: account.name,
    location: displayName(account.location),
    type: COSMOS_TYPE,
    kind: account.kind,
    tags: account.tags,
    systemData: { createdAt: created },
    identity: identityBody(world, account),
    properties: {
      provisioningState: account.provisioningState,
      ...(creating ? {} : { documentEndpoint: `https://${account.name}.documents.azure.com:443/` }),
      publicNetworkAccess: 'Enabled',
      enableAutomaticFailover: false,
      enableMultipleWriteLocations: false,
      enablePartitionKeyMonitor: false,
      isVirtualNetworkFilterEnabled: false,
      virtualNetworkRules: [],
      EnabledApiTypes: enabledApiTypes(account),
      disableKeyBasedMetadataWriteAccess: false,
      enableFreeTier: false,
      enableAnalyticalStorage: account.enableAnalyticalStorage === true,
      analyticalStorageConfiguration: { schemaType: 'WellDefined' },
      instanceId: account.instanceId,
      createMode: 'Default',
      databaseAccountOfferType: 'Standard',
      defaultIdentity: account.defaultIdentity,
      networkAclBypass: 'None',
      disableLocalAuth: false,
      consistencyPolicy: {
        defaultConsistencyLevel: 'Session',
        maxIntervalInSeconds: 5,
        maxStalenessPrefix: 100
      },
      configurationOverrides: {},
      writeLocations: ordered.filter(l => l.failoverPriority === 0).map(region),
      readLocations: ordered.map(region),
      locations: ordered.map(region),
      failoverPolicies: ordered.map(l => ({
        id: `${account.name}-${l.locationName}`,
        locationName: displayName(l.locationName),
        failoverPriority: l.failoverPriority
      })),
      cors: [],
      capabilities: account.capabilities.map(name => ({ name })),
      ipRules: [],
      backupPolicy: backupPolicyBody(account),
      networkAclBypassResourceIds: [],
      minimalTlsVersion: 'Tls12',
      keysMetadata: {
        primaryMasterKey: { generationTime: created },
        secondaryMasterKey: { generationTime: created },
        primaryReadonlyMasterKey: { generationTime: created },
        secondaryReadonlyMasterKey: { generationTime: created }
      },
      ...keyProperties(world, account)
    }
  }
}
