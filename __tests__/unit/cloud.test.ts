import { describe, expect, it } from '@jest/globals'
import { cloudNames, getCloud, hsmUriFor, scopeOf } from '../../src/cloud.js'

describe('cloud table', () => {
  it.each([
    [
      'AzureCloud',
      'https://login.microsoftonline.com',
      'https://management.azure.com',
      'https://graph.microsoft.com',
      'managedhsm.azure.net',
      'a232010e-820c-4083-83bb-3ace5fc29d0b'
    ],
    [
      'AzureUSGovernment',
      'https://login.microsoftonline.us',
      'https://management.usgovcloudapi.net',
      'https://graph.microsoft.us',
      'managedhsm.usgovcloudapi.net',
      '57506a73-e302-42a9-b869-6f12d9ec29e9'
    ],
    [
      'AzureChinaCloud',
      'https://login.chinacloudapi.cn',
      'https://management.chinacloudapi.cn',
      'https://microsoftgraph.chinacloudapi.cn',
      'managedhsm.azure.cn',
      'a232010e-820c-4083-83bb-3ace5fc29d0b'
    ]
  ] as const)('%s', (name, authority, arm, graph, suffix, cosmosApp) => {
    const cloud = getCloud(name)
    expect(cloud).toMatchObject({
      authorityHost: authority,
      resourceManager: arm,
      graph,
      managedHsmDnsSuffix: suffix,
      managedHsmResource: `https://${suffix}`,
      cosmosDbApplicationId: cosmosApp
    })
    expect(hsmUriFor(cloud, 'My-HSM')).toBe(`https://my-hsm.${suffix}`)
  })

  it('lists every cloud and builds .default scopes', () => {
    expect(cloudNames).toEqual(['AzureCloud', 'AzureUSGovernment', 'AzureChinaCloud'])
    expect(scopeOf('https://management.azure.com/')).toBe('https://management.azure.com/.default')
  })
})
