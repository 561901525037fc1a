import type { TokenCredential } from '@azure/core-auth'
import type { AzureCloud } from '../cloud.js'
import type { AzureApis, HsmDataPlane } from './api.js'
import {
  createCosmosAccountsApi,
  createIdentitiesApi,
  createManagedHsmsApi,
  createProvidersApi
} from './arm.js'
import { createGraphApi } from './graph.js'
import { createPermissionsApi } from './permissions.js'
import { createHsmDataPlane } from './hsm-data-plane.js'
import type { TransportSettings } from './transport.js'

/** Builds every client once: one credential, one token per audience, reused connections. */
export function createAzureApis(setup: {
  credential: TokenCredential
  cloud: AzureCloud
  subscriptionId: string
  transport: TransportSettings
  signal?: AbortSignal
  /** Several accounts in this run (see createCosmosAccountsApi). */
  fleet?: boolean
}): AzureApis {
  const dataPlanes = new Map<string, HsmDataPlane>()
  return {
    providers: createProvidersApi(setup),
    managedHsms: createManagedHsmsApi(setup),
    identities: createIdentitiesApi(setup),
    cosmos: createCosmosAccountsApi(setup, setup.fleet),
    graph: createGraphApi(setup),
    permissions: createPermissionsApi(setup),
    hsm(hsmUri) {
      const key = hsmUri.replace(/\/+$/, '').toLowerCase()
      let plane = dataPlanes.get(key)
      if (!plane) {
        plane = createHsmDataPlane({ ...setup, hsmUri: key })
        dataPlanes.set(key, plane)
      }
      return plane
    }
  }
}
