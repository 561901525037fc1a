import { randomUUID } from 'node:crypto'
import type {
  EmuResponse,
  Principal,
  Service,
  ServiceContext,
  Timing
} from '../../src/core/service.js'
import { AzureError } from '../../src/core/errors.js'
import { DEFAULT_TIMING } from '../../src/core/timing.js'
import { emptyWorld, type ArmRoleAssignment, type World } from '../../src/core/world.js'

export const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47'
export const SUB = '11111111-2222-3333-4444-555555555555'
export const RG = 'cmk-rg'
export const DEPLOYER_APP = '0a0a0a0a-0000-0000-0000-000000000001'
export const DEPLOYER = 'd0d0d0d0-0000-0000-0000-000000000001'
export const READER_APP = '0a0a0a0a-0000-0000-0000-000000000002'
export const READER = 'd0d0d0d0-0000-0000-0000-000000000002'
export const COSMOS_FP_APP = 'a232010e-820c-4083-83bb-3ace5fc29d0b'
export const COSMOS_FP = 'c0c0c0c0-0000-0000-0000-000000000001'

export interface CallOptions {
  method: string
  path: string
  host?: string
  query?: Record<string, string>
  /** Omit for no api-version; defaults to a current one. */
  apiVersion?: string | null
  body?: unknown
  /** The verified caller; `null` for none. Defaults to the deployer. */
  as?: string | null
}

export interface JsonResponse extends EmuResponse {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests probe response bodies freely
  json: any
}

/** Drives service handlers directly, with a controllable clock and a world built for the test. */
export class Harness {
  world: World
  now = Date.UTC(2026, 0, 15, 12, 0, 0)
  timing: Timing
  /** Every operation is instant (the emulator's default timing) unless `timing` says otherwise. */
  constructor(timing: Partial<Timing> = {}) {
    this.world = baseWorld()
    this.timing = { ...DEFAULT_TIMING, ...timing }
  }

  advance(ms: number): void {
    this.now += ms
  }

  principal(objectId: string): Principal {
    const app = Object.values(this.world.applications).find(a => a.servicePrincipalId === objectId)
    const sp = this.world.servicePrincipals[objectId]
    return {
      objectId,
      appId: app?.appId ?? sp?.appId ?? objectId,
      tenantId: TENANT,
      audience: 'test'
    }
  }

  async call(service: Service, o: CallOptions): Promise<JsonResponse> {
    const query = new URLSearchParams(o.query ?? {})
    const apiVersion = o.apiVersion === undefined ? '2026-02-01' : o.apiVersion
    if (apiVersion !== null) query.set('api-version', apiVersion)
    const host = o.host ?? 'management.azure.com'
    const bodyBuffer =
      o.body === undefined
        ? Buffer.alloc(0)
        : Buffer.from(typeof o.body === 'string' ? o.body : JSON.stringify(o.body))
    const as = o.as === undefined ? DEPLOYER : o.as
    const ctx: ServiceContext = {
      req: {
        method: o.method,
        host,
        path: decodeURIComponent(o.path).replace(/\/{2,}/g, '/'),
        rawUrl: `${o.path}?${query.toString()}`,
        query,
        headers: {},
        body: bodyBuffer
      },
      world: this.world,
      ...(as === null ? {} : { principal: this.principal(as) }),
      now: () => this.now,
      delay: kind => {
        const d = this.timing[kind]
        return typeof d === 'number' ? d : d[0]
      },
      timing: this.timing,
      random: () => 0.5,
      newGuid: () => randomUUID(),
      origin: `https://${host}`
    }
    let res: EmuResponse
    try {
      res = await service.handle(ctx)
    } catch (e) {
      // what the server does with a failure a handler throws
      if (!(e instanceof AzureError)) throw e
      res = e.response
    }
    return { ...res, json: res.body }
  }
}

export function addApp(
  world: World,
  appId: string,
  objectId: string,
  roles: ArmRoleAssignment[]
): void {
  world.applications[appId] = {
    appId,
    displayName: `app-${appId.slice(-4)}`,
    servicePrincipalId: objectId,
    clientSecrets: [],
    federatedCredentials: [],
    armRoles: roles,
    canReadDirectory: false
  }
  world.servicePrincipals[objectId] = {
    id: objectId,
    appId,
    displayName: `app-${appId.slice(-4)}`,
    servicePrincipalType: 'Application',
    replicatedAt: 0
  }
}

/** A tenant with one subscription (providers registered), one resource group, a Contributor
 * deployer, a Reader and the Azure Cosmos DB first-party service principal. */
export function baseWorld(): World {
  const world = emptyWorld(TENANT)
  world.subscriptions[SUB] = {
    subscriptionId: SUB,
    displayName: 'Test subscription',
    tenantId: TENANT,
    providers: Object.fromEntries(
      ['Microsoft.DocumentDB', 'Microsoft.KeyVault', 'Microsoft.ManagedIdentity'].map(ns => [
        ns.toLowerCase(),
        { namespace: ns, state: 'Registered' as const }
      ])
    )
  }
  world.resourceGroups[`/subscriptions/${SUB}/resourcegroups/${RG}`] = {
    subscriptionId: SUB,
    name: RG,
    location: 'westeurope'
  }
  addApp(world, DEPLOYER_APP, DEPLOYER, [{ role: 'Contributor', scope: `/subscriptions/${SUB}` }])
  addApp(world, READER_APP, READER, [{ role: 'Reader', scope: `/subscriptions/${SUB}` }])
  world.servicePrincipals[COSMOS_FP] = {
    id: COSMOS_FP,
    appId: COSMOS_FP_APP,
    displayName: 'Azure Cosmos DB',
    servicePrincipalType: 'Application',
    replicatedAt: 0
  }
  return world
}

export const rgPath = `/subscriptions/${SUB}/resourceGroups/${RG}`
export const hsmPath = (name: string) =>
  `${rgPath}/providers/Microsoft.KeyVault/managedHSMs/${name}`
export const uaiPath = (name: string) =>
  `${rgPath}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`
export const cosmosPath = (name: string) =>
  `${rgPath}/providers/Microsoft.DocumentDB/databaseAccounts/${name}`

/** What ARM puts around a resource of the test resource group (in westeurope). */
export function armEnvelope(type: string, name: string) {
  return { id: `${rgPath}/providers/${type}/${name}`, name, type, location: 'westeurope' }
}

export function hsmCreateBody(
  overrides: Record<string, unknown> = {},
  props: Record<string, unknown> = {}
): unknown {
  return {
    location: 'westeurope',
    sku: { family: 'B', name: 'Standard_B1' },
    tags: { env: 'test' },
    properties: {
      tenantId: TENANT,
      initialAdminObjectIds: [DEPLOYER],
      enableSoftDelete: true,
      softDeleteRetentionInDays: 7,
      enablePurgeProtection: true,
      ...props
    },
    ...overrides
  }
}

export function pathOf(url: string): string {
  return new URL(url).pathname
}

export function queryOf(url: string): Record<string, string> {
  return Object.fromEntries(new URL(url).searchParams)
}
