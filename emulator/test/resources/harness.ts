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
import type { World } from '../../src/core/world.js'
import { DEPLOYER, TENANT, baseWorld } from './test-tenant.js'

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
