import type { IncomingMessage, ServerResponse } from 'node:http'
import { randomUUID } from 'node:crypto'
import type { EmuResponse, Principal, RequestKind } from '../core/service.js'
import { AzureError, azureError } from '../core/errors.js'
import { bodyFieldPaths, redactQuery, throttledRetryAfter } from '../core/request-log.js'
import type { FaultKind } from '../core/scenario-types.js'
import type { LocalAzure, PendingRequest } from './local-azure.js'
import { readBody, toEmuRequest } from './parse-request.js'
import { authenticate } from './authenticate.js'
import { faultResponse } from './fault-response.js'
import { writeResponse } from './write-response.js'

/** How the server gets rid of a connection without answering (reset and stall faults). */
export interface ConnectionControl {
  /** Drops the connection at once (TCP reset). */
  reset(req: IncomingMessage): void
  /** Keeps the connection silent, then drops it after `ms`. */
  stall(req: IncomingMessage, ms: number): void
}

/** Serves one HTTPS request that arrived through a CONNECT tunnel to an emulated host. */
export async function serveEmulatedRequest(
  azure: LocalAzure,
  host: string,
  req: IncomingMessage,
  res: ServerResponse,
  connection: ConnectionControl
): Promise<void> {
  const started = performance.now()
  const time = new Date(azure.now()).toISOString()
  const method = (req.method ?? 'GET').toUpperCase()
  let body: Buffer
  try {
    body = await readBody(req)
  } catch {
    connection.reset(req)
    return
  }
  const emuReq = toEmuRequest(host, req, body)
  const service = azure.serviceFor(emuReq.host)
  const requestId = randomUUID()
  const correlation =
    header(req, 'x-ms-correlation-request-id') ?? header(req, 'x-ms-client-request-id') ?? requestId
  const defaults: Record<string, string> = {
    'x-ms-request-id': requestId,
    'x-ms-correlation-request-id': correlation,
    'cache-control': 'no-cache'
  }
  if (header(req, 'x-ms-client-request-id')) {
    defaults['x-ms-client-request-id'] = header(req, 'x-ms-client-request-id')!
  }
  const defaultKind: RequestKind =
    service?.logKind?.(emuReq) ?? (method === 'GET' || method === 'HEAD' ? 'read' : 'write')
  const bodyFields = defaultKind === 'write' ? bodyFieldPaths(body) : undefined
  const base = {
    time,
    method,
    host: emuReq.host,
    path: emuReq.path,
    query: redactQuery(emuReq.query),
    service: service?.name,
    ...(bodyFields ? { bodyFields } : {})
  }
  const finish = (
    status: number,
    extra: {
      kind?: RequestKind
      principal?: string
      fault?: FaultKind
      error?: string
      headers?: Record<string, string>
    } = {}
  ) => {
    const retryAfterSeconds = throttledRetryAfter(status, extra.headers)
    return azure.record({
      ...base,
      status,
      kind: extra.kind ?? defaultKind,
      ...(extra.principal ? { principal: extra.principal } : {}),
      durationMs: Math.round(performance.now() - started),
      ...(extra.fault ? { fault: extra.fault } : {}),
      ...(extra.error ? { error: extra.error } : {}),
      ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {})
    })
  }
  const send = async (response: EmuResponse) => {
    const latency = azure.sampleLatency()
    if (latency > 0) await sleep(latency)
    if (!res.destroyed && !res.writableEnded) writeResponse(res, response, defaults, method)
  }

  if (!service) {
    const notFound = azureError(
      404,
      'NotFound',
      `The local Azure does not emulate the host '${emuReq.host}'.`
    )
    await send(notFound.response)
    finish(404)
    return
  }

  const fault = azure.faults.decide({ host: emuReq.host, method, path: emuReq.path })
  if (fault) {
    if (fault.kind === 'reset') {
      connection.reset(req)
      finish(0, { fault: 'reset' })
    } else if (fault.kind === 'stall') {
      connection.stall(req, fault.stallMs ?? 30_000)
      finish(0, { fault: 'stall' })
    } else {
      const response = faultResponse(fault, emuReq.host, requestId)
      await send(response)
      finish(response.status, { fault: fault.kind, headers: response.headers })
    }
    return
  }

  let principal: Principal | undefined
  let response: EmuResponse
  try {
    if (service.audiences) {
      principal = authenticate(service, emuReq, {
        tokens: azure.tokens,
        tenantId: azure.store.world.tenantId,
        now: azure.now(),
        newGuid: randomUUID
      })
    }
    const pending: PendingRequest = {
      method,
      host: emuReq.host,
      path: emuReq.path,
      query: base.query,
      kind: defaultKind,
      ...(principal ? { principal: principal.objectId } : {}),
      service: service.name
    }
    if ((await intercept(azure, pending)) === 'reset') {
      connection.reset(req)
      finish(0, { principal: principal?.objectId, error: 'connection reset by interceptor' })
      return
    }
    response = await service.handle(azure.context(emuReq, principal))
  } catch (e) {
    // The one place where failures become answers: handlers throw AzureError in their own shape.
    if (e instanceof AzureError) {
      response = e.response
    } else {
      console.error(`[local-azure] ${service.name} failed on ${method} ${emuReq.path}:`, e)
      response = azureError(
        500,
        'InternalServerError',
        `The local Azure's ${service.name} failed while serving ${method} ${emuReq.path}: ${(e as Error)?.message ?? e}`
      ).response
    }
  }
  await send(response)
  finish(response.status, {
    kind: response.logAs ?? defaultKind,
    principal: principal?.objectId ?? response.logPrincipal,
    headers: response.headers
  })
}

/** Tells 'before-request' listeners, then asks the interceptor whether to drop the connection. */
async function intercept(
  azure: LocalAzure,
  pending: PendingRequest
): Promise<'continue' | 'reset'> {
  azure.emit('before-request', pending)
  if (!azure.interceptor) return 'continue'
  try {
    return (await azure.interceptor(pending)) === 'reset' ? 'reset' : 'continue'
  } catch (e) {
    console.error('[local-azure] request interceptor failed:', e)
    return 'continue'
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name]
  return Array.isArray(v) ? v[0] : v
}

function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms))
}
