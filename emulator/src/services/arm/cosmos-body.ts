import type { CosmosAccount, World } from '../../core/world.js'
import { COSMOS_TYPE, hsmHost, worldKey } from '../../model/ids.js'
import { findKey, latestVersion } from '../../model/keys.js'
import { findHsmByName } from '../../model/lookup.js'
import { findRegion } from '../../model/regions.js'
import { parseKeyUri } from './cosmos-cmk.js'
import { hasSystemAssigned } from './cosmos-identity.js'

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

/** The versioned URI of the key version the account currently encrypts with. */
function keyUriVersion(world: World, keyUri: string): string | undefined {
  const parsed = parseKeyUri(keyUri)
  if ('problem' in parsed) return undefined
  const hsm = findHsmByName(world, parsed.host.split('.')[0]!)
  const plane = hsm && world.hsmDataPlanes[hsm.name.toLowerCase()]
  const key = plane && findKey(plane, parsed.keyName)
  const latest = key && latestVersion(key)
  return latest && hsm
    ? `https://${hsmHost(hsm.name)}/keys/${key.name}/${latest.version}`
    : undefined
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
  const keyVersion = account.keyVaultKeyUri
    ? keyUriVersion(world, account.keyVaultKeyUri)
    : undefined
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
      enableAnalyticalStorage: false,
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
      backupPolicy: {
        type: 'Periodic',
        periodicModeProperties: {
          backupIntervalInMinutes: 240,
          backupRetentionIntervalInHours: 8,
          backupStorageRedundancy: 'Geo'
        }
      },
      networkAclBypassResourceIds: [],
      minimalTlsVersion: 'Tls12',
      keysMetadata: {
        primaryMasterKey: { generationTime: created },
        secondaryMasterKey: { generationTime: created },
        primaryReadonlyMasterKey: { generationTime: created },
        secondaryReadonlyMasterKey: { generationTime: created }
      },
      ...(account.keyVaultKeyUri
        ? {
            keyVaultKeyUri: account.keyVaultKeyUri,
            ...(keyVersion ? { keyVaultKeyUriVersion: keyVersion } : {}),
            customerManagedKeyStatus: 'Access to the configured customer managed key confirmed.'
          }
        : {})
    }
  }
}
