import type { IncomingMessage, ServerResponse } from 'node:http'
import type { World } from '../core/world.js'
import { ScenarioError } from '../core/scenario.js'
import type { LocalAzure } from './local-azure.js'
import { parseTarget, readBody } from './parse-request.js'
import { keyAdminRoutes } from './admin-keys.js'
import { configureGitHubApi, gitHubApiView } from '../services/github/settings.js'

export const ADMIN_PREFIX = '/_emulator'

interface AdminInfo {
  port: number
  caCertPath: string
  idTokenRequestUrl: string
  env: Record<string, string>
}

type Reply = { status: number; body?: unknown }
type Route = (azure: LocalAzure, body: unknown, query: URLSearchParams, info: AdminInfo) => Reply

const routes: Record<string, Partial<Record<string, Route>>> = {
  ...keyAdminRoutes,
  '/health': {
    GET: (azure, _b, _q, info) => ({
      status: 200,
      body: {
        status: 'ok',
        port: info.port,
        tenantId: azure.store.world.tenantId,
        caCertPath: info.caCertPath,
        idTokenRequestUrl: info.idTokenRequestUrl,
        lastRequestSeq: azure.log.lastSeq,
        now: new Date(azure.now()).toISOString()
      }
    })
  },
  '/env': { GET: (_a, _b, _q, info) => ({ status: 200, body: info.env }) },
  '/reset': {
    POST: azure => {
      azure.reset()
      return { status: 200, body: { status: 'reset', tenantId: azure.store.world.tenantId } }
    }
  },
  '/scenario': {
    GET: azure => ({ status: 200, body: azure.scenario }),
    POST: (azure, body) => loadScenario(azure, body),
    PUT: (azure, body) => loadScenario(azure, body)
  },
  '/state': {
    GET: azure => {
      azure.advance()
      return { status: 200, body: redactWorld(azure.store.snapshot()) }
    }
  },
  '/requests': {
    GET: (azure, _b, query) => {
      const since = Number(query.get('since') ?? '0')
      if (!Number.isFinite(since)) return badRequest('since must be a number')
      return { status: 200, body: { requests: azure.log.list(since), lastSeq: azure.log.lastSeq } }
    },
    DELETE: azure => ({
      status: 200,
      body: { cleared: azure.log.clear(), lastSeq: azure.log.lastSeq }
    })
  },
  '/timing': {
    GET: azure => ({ status: 200, body: azure.timing }),
    PUT: (azure, body) => ({ status: 200, body: azure.setTiming(body) }),
    PATCH: (azure, body) => ({ status: 200, body: azure.setTiming(body) })
  },
  '/faults': {
    GET: azure => ({
      status: 200,
      body: { rules: azure.faults.rules, counts: azure.faults.faultCounts() }
    }),
    PUT: (azure, body) => {
      const rules = azure.setFaults(body)
      return { status: 200, body: { rules, counts: azure.faults.faultCounts() } }
    }
  },
  '/github-subject': {
    GET: azure => ({
      status: 200,
      body: { subject: azure.workflow.subject, repository: azure.workflow.repository }
    }),
    PUT: (azure, body) => {
      const b = (body ?? {}) as { subject?: unknown; repository?: unknown }
      if (typeof b.subject !== 'string')
        return badRequest('body must be {"subject": "repo:OWNER/REPO:..."}')
      const wf = azure.setGitHubSubject(
        b.subject,
        typeof b.repository === 'string' ? b.repository : undefined
      )
      return { status: 200, body: { subject: wf.subject, repository: wf.repository } }
    }
  },
  '/github': {
    GET: azure => ({ status: 200, body: gitHubApiView(azure.store.world, azure.now()) }),
    PUT: (azure, body) => ({
      status: 200,
      body: configureGitHubApi(azure.store.world, body, azure.now())
    })
  },
  '/clock': {
    GET: azure => ({ status: 200, body: { now: new Date(azure.now()).toISOString() } }),
    POST: (azure, body) => {
      const ms = (body as { advanceMs?: unknown } | undefined)?.advanceMs
      if (typeof ms !== 'number' || !(ms >= 0))
        return badRequest('body must be {"advanceMs": <milliseconds >= 0>}')
      azure.advanceClock(ms)
      return { status: 200, body: { now: new Date(azure.now()).toISOString() } }
    }
  }
}

/** The admin API: plain HTTP on the proxy port, JSON in and out; never faulted. */
export function createAdminHandler(azure: LocalAzure, info: () => AdminInfo) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = (req.method ?? 'GET').toUpperCase()
    const { path, query } = parseTarget(req.url ?? '/')
    let reply: Reply
    try {
      const raw = await readBody(req)
      reply = dispatch(azure, method, path, raw, query, info())
    } catch (e) {
      reply =
        e instanceof ScenarioError
          ? {
              status: 400,
              body: { error: { code: 'InvalidInput', message: e.message, problems: e.problems } }
            }
          : {
              status: 500,
              body: {
                error: { code: 'InternalError', message: String((e as Error)?.message ?? e) }
              }
            }
    }
    const payload = JSON.stringify(reply.body ?? {}, null, 2)
    res.writeHead(reply.status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(payload),
      'cache-control': 'no-store'
    })
    res.end(payload)
  }
}

function dispatch(
  azure: LocalAzure,
  method: string,
  path: string,
  raw: Buffer,
  query: URLSearchParams,
  info: AdminInfo
): Reply {
  if (!path.startsWith(`${ADMIN_PREFIX}/`) && path !== ADMIN_PREFIX) {
    return {
      status: 404,
      body: {
        error: {
          code: 'NotFound',
          message:
            `This port is the local Azure's HTTPS proxy (use it as HTTPS_PROXY) and admin API ` +
            `(${ADMIN_PREFIX}/...). Nothing is served at ${path}.`
        }
      }
    }
  }
  const route = routes[path.slice(ADMIN_PREFIX.length).replace(/\/$/, '') || '/health']
  if (!route) return notFound(path)
  const handler = route[method]
  if (!handler) {
    return {
      status: 405,
      body: {
        error: {
          code: 'MethodNotAllowed',
          message: `${method} is not allowed on ${path}; use ${Object.keys(route).join(', ')}.`
        }
      }
    }
  }
  let body: unknown
  if (raw.length) {
    try {
      body = JSON.parse(raw.toString('utf8'))
    } catch (e) {
      return badRequest(`the body is not valid JSON: ${(e as Error).message}`)
    }
  }
  return handler(azure, body, query, info)
}

function loadScenario(azure: LocalAzure, body: unknown): Reply {
  azure.loadScenario(body)
  return { status: 200, body: { status: 'loaded', tenantId: azure.store.world.tenantId } }
}

function badRequest(message: string): Reply {
  return { status: 400, body: { error: { code: 'InvalidInput', message } } }
}

function notFound(path: string): Reply {
  return {
    status: 404,
    body: {
      error: {
        code: 'NotFound',
        message: `No admin route ${path}. Routes: ${Object.keys(routes)
          .map(r => ADMIN_PREFIX + r)
          .join(', ')}.`
      }
    }
  }
}

/** The world as the admin API shows it: private key material and client secrets left out. */
function redactWorld(world: World): World {
  for (const plane of Object.values(world.hsmDataPlanes)) {
    for (const key of Object.values(plane.keys)) {
      for (const v of key.versions) delete (v as Partial<typeof v>).privateKeyPem
    }
  }
  for (const app of Object.values(world.applications)) {
    app.clientSecrets = app.clientSecrets.map(() => '[redacted]')
  }
  return world
}
