/**
 * The Azure clouds whose host names the local Azure answers for. One world stands behind all of
 * them: a request's host decides which cloud's names, token audiences and Managed HSM suffix the
 * answer uses.
 */
export type EmulatedCloudName = 'AzureCloud' | 'AzureUSGovernment' | 'AzureChinaCloud'

export interface EmulatedCloud {
  name: EmulatedCloudName
  entraHost: string
  graphHost: string
  armHost: string
  /** With its leading dot: `<name>.managedhsm.azure.net`. */
  hsmSuffix: string
  /** Token audiences Azure Resource Manager accepts. */
  armAudiences: string[]
  graphAudience: string
  /** Token resource (and challenge resource) of the Managed HSM data plane. */
  hsmResource: string
  /** Application id of the Azure Cosmos DB first-party app in this cloud. */
  cosmosAppId: string
  /** DNS suffix of Cosmos DB account endpoints: `https://<account>.documents.azure.com:443/`. */
  cosmosSuffix: string
}

export const EMULATED_CLOUDS: readonly EmulatedCloud[] = [
  {
    name: 'AzureCloud',
    entraHost: 'login.microsoftonline.com',
    graphHost: 'graph.microsoft.com',
    armHost: 'management.azure.com',
    hsmSuffix: '.managedhsm.azure.net',
    armAudiences: ['https://management.azure.com', 'https://management.core.windows.net/'],
    graphAudience: 'https://graph.microsoft.com',
    hsmResource: 'https://managedhsm.azure.net',
    cosmosAppId: 'a232010e-820c-4083-83bb-3ace5fc29d0b',
    cosmosSuffix: '.documents.azure.com'
  },
  {
    name: 'AzureUSGovernment',
    entraHost: 'login.microsoftonline.us',
    graphHost: 'graph.microsoft.us',
    armHost: 'management.usgovcloudapi.net',
    hsmSuffix: '.managedhsm.usgovcloudapi.net',
    armAudiences: [
      'https://management.usgovcloudapi.net',
      'https://management.core.usgovcloudapi.net/'
    ],
    graphAudience: 'https://graph.microsoft.us',
    hsmResource: 'https://managedhsm.usgovcloudapi.net',
    cosmosAppId: '57506a73-e302-42a9-b869-6f12d9ec29e9',
    cosmosSuffix: '.documents.azure.us'
  },
  {
    name: 'AzureChinaCloud',
    entraHost: 'login.chinacloudapi.cn',
    graphHost: 'microsoftgraph.chinacloudapi.cn',
    armHost: 'management.chinacloudapi.cn',
    // The suffix the action's cloud table uses; Azure's own documentation does not confirm it.
    hsmSuffix: '.managedhsm.azure.cn',
    armAudiences: [
      'https://management.chinacloudapi.cn',
      'https://management.core.chinacloudapi.cn/'
    ],
    graphAudience: 'https://microsoftgraph.chinacloudapi.cn',
    hsmResource: 'https://managedhsm.azure.cn',
    // Not confirmed by Azure's documentation for this cloud, as the suffix above.
    cosmosAppId: 'a232010e-820c-4083-83bb-3ace5fc29d0b',
    cosmosSuffix: '.documents.azure.cn'
  }
]

export const PUBLIC_CLOUD = EMULATED_CLOUDS[0]!

/** The clouds other than the public one. */
export const SOVEREIGN_CLOUDS = EMULATED_CLOUDS.slice(1)

/** The cloud a host belongs to; undefined for hosts that belong to none (GitHub, Azure DevOps). */
export function cloudOfHost(host: string): EmulatedCloud | undefined {
  const h = host.toLowerCase()
  return EMULATED_CLOUDS.find(
    c => h === c.entraHost || h === c.graphHost || h === c.armHost || h.endsWith(c.hsmSuffix)
  )
}

export function cloudNamed(name: string | undefined): EmulatedCloud {
  return EMULATED_CLOUDS.find(c => c.name.toLowerCase() === name?.toLowerCase()) ?? PUBLIC_CLOUD
}

/** Every resource Microsoft Entra ID issues tokens for, in every cloud (no trailing slash). */
export function knownTokenResources(): string[] {
  return EMULATED_CLOUDS.flatMap(c => [
    ...c.armAudiences.map(a => a.replace(/\/+$/, '')),
    c.graphAudience,
    c.hsmResource
  ])
}
