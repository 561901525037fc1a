export type CloudName = 'AzureCloud' | 'AzureUSGovernment' | 'AzureChinaCloud'

export const cloudNames: readonly CloudName[] = [
  'AzureCloud',
  'AzureUSGovernment',
  'AzureChinaCloud'
]

export interface AzureCloud {
  name: CloudName
  /** Microsoft Entra ID authority host. */
  authorityHost: string
  /** Azure Resource Manager endpoint; also the ARM token audience. */
  resourceManager: string
  /** Microsoft Graph endpoint; also the Graph token audience. */
  graph: string
  /** DNS suffix of Managed HSM pools: `<name>.<suffix>`. */
  managedHsmDnsSuffix: string
  /** Token resource of the Managed HSM data plane. */
  managedHsmResource: string
  /** Application (client) id of the Azure Cosmos DB first-party service principal. */
  cosmosDbApplicationId: string
  /**
   * Whether a primary source gives `cosmosDbApplicationId` for this cloud. Where it does not, the
   * first-party identity is not the default (a user-assigned identity is).
   */
  cosmosDbApplicationIdConfirmed: boolean
  /**
   * Audience of a GitHub ID token that the cloud's Microsoft Entra ID exchanges (the audience of
   * the federated credential, unless `audience` says otherwise).
   */
  idTokenAudience: string
}

const clouds: Record<CloudName, AzureCloud> = {
  AzureCloud: {
    name: 'AzureCloud',
    authorityHost: 'https://login.microsoftonline.com',
    resourceManager: 'https://management.azure.com',
    graph: 'https://graph.microsoft.com',
    managedHsmDnsSuffix: 'managedhsm.azure.net',
    managedHsmResource: 'https://managedhsm.azure.net',
    cosmosDbApplicationId: 'a232010e-820c-4083-83bb-3ace5fc29d0b',
    cosmosDbApplicationIdConfirmed: true,
    idTokenAudience: 'api://AzureADTokenExchange'
  },
  AzureUSGovernment: {
    name: 'AzureUSGovernment',
    authorityHost: 'https://login.microsoftonline.us',
    resourceManager: 'https://management.usgovcloudapi.net',
    graph: 'https://graph.microsoft.us',
    managedHsmDnsSuffix: 'managedhsm.usgovcloudapi.net',
    managedHsmResource: 'https://managedhsm.usgovcloudapi.net',
    cosmosDbApplicationId: '57506a73-e302-42a9-b869-6f12d9ec29e9',
    cosmosDbApplicationIdConfirmed: true,
    idTokenAudience: 'api://AzureADTokenExchangeUSGov'
  },
  // The Cosmos DB documentation names a232010e-... and Azure Government's id only; that the China
  // cloud uses a232010e-... is not confirmed, and neither is the Managed HSM DNS suffix there
  // (README, "Azure Pipelines and sovereign clouds"). `cosmos-principal-id` skips the lookup.
  AzureChinaCloud: {
    name: 'AzureChinaCloud',
    authorityHost: 'https://login.chinacloudapi.cn',
    resourceManager: 'https://management.chinacloudapi.cn',
    graph: 'https://microsoftgraph.chinacloudapi.cn',
    managedHsmDnsSuffix: 'managedhsm.azure.cn',
    managedHsmResource: 'https://managedhsm.azure.cn',
    cosmosDbApplicationId: 'a232010e-820c-4083-83bb-3ace5fc29d0b',
    cosmosDbApplicationIdConfirmed: false,
    idTokenAudience: 'api://AzureADTokenExchangeChina'
  }
}

export function getCloud(name: CloudName): AzureCloud {
  return clouds[name]
}

export function scopeOf(resource: string): string {
  return `${resource.replace(/\/+$/, '')}/.default`
}

export function hsmUriFor(cloud: AzureCloud, hsmName: string): string {
  return `https://${hsmName.toLowerCase()}.${cloud.managedHsmDnsSuffix}`
}
