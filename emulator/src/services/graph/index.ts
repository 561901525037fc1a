import type { EmuResponse, Service, ServiceContext } from '../../core/service.js'
import type { ServicePrincipal, World } from '../../core/world.js'
import type { AzureError } from '../../core/errors.js'
import { parseJsonObject } from '../../core/errors.js'
import { GRAPH_HOST } from '../../core/hosts.js'
import { findRoute, type Route } from '../../core/routes.js'
import { graphError } from './errors.js'

/** Microsoft's own tenant, which owns first-party apps such as Azure Cosmos DB. */
const MICROSOFT_TENANT = 'f8cdef31-a31e-4b4a-93e4-5f571e91255a'
const ORIGIN = `https://${GRAPH_HOST}`

interface GraphRequest {
  ctx: ServiceContext
  /** `v1.0` or `beta`. */
  version: string
}

const ROUTES: Route<GraphRequest>[] = [
  {
    methods: ['GET'],
    template: "/servicePrincipals(appId='{appId}')",
    handler: ({ ctx, version }, p) => {
      const sp = visible(ctx).find(s => s.appId === p.appId!.toLowerCase())
      if (!sp) throw notFound(ctx, p.appId!)
      return ok(ctx, version, 'servicePrincipals/$entity', sp)
    }
  },
  { methods: ['GET'], template: '/servicePrincipals/{id}', handler: (r, p) => byId(r, p.id!) },
  { methods: ['GET'], template: '/directoryObjects/{id}', handler: (r, p) => byId(r, p.id!) },
  {
    methods: ['GET'],
    template: '/servicePrincipals',
    handler: ({ ctx, version }) => list(ctx, version)
  },
  {
    methods: ['POST'],
    template: '/directoryObjects/getByIds',
    handler: ({ ctx, version }) => getByIds(ctx, version)
  }
]

/** Microsoft Graph: the service principal lookups the procedure needs. */
export const graphService: Service = {
  name: 'Microsoft Graph',
  matches: host => host === GRAPH_HOST,
  audiences: ['https://graph.microsoft.com', '00000003-0000-0000-c000-000000000000'],
  authErrorStyle: 'graph',
  handle: ctx => {
    const { req } = ctx
    const m = /^\/(v1\.0|beta)(\/.*)$/.exec(req.path)
    if (!m) throw graphError(ctx, 400, 'BadRequest', 'Invalid version.')
    const route = m[2]!
    // every token the local Azure issues is an app-only token (az ad signed-in-user show)
    if (/^\/me(\/|$)/i.test(route)) {
      throw graphError(
        ctx,
        400,
        'BadRequest',
        '/me request is only valid with delegated authentication flow.'
      )
    }
    checkDirectoryRead(ctx)
    const match = findRoute(ROUTES, req.method, route)
    if (!match?.allowed) {
      throw graphError(
        ctx,
        400,
        'BadRequest',
        `Resource not found for the segment '${route.split('/')[1] ?? ''}'. The local Azure's Microsoft ` +
          'Graph serves only service principal lookups.'
      )
    }
    return match.route.handler({ ctx, version: m[1]! }, match.params)
  }
}

function byId({ ctx, version }: GraphRequest, id: string): EmuResponse {
  const sp = visible(ctx).find(s => s.id === id.toLowerCase())
  if (!sp) throw notFound(ctx, id)
  return ok(ctx, version, 'servicePrincipals/$entity', sp)
}

function checkDirectoryRead(ctx: ServiceContext): void {
  const oid = ctx.principal?.objectId.toLowerCase() ?? ''
  if (canReadDirectory(ctx.world, oid)) return
  throw graphError(
    ctx,
    403,
    'Authorization_RequestDenied',
    'Insufficient privileges to complete the operation.'
  )
}

export function canReadDirectory(world: World, objectId: string): boolean {
  const app = Object.values(world.applications).find(a => a.servicePrincipalId === objectId)
  if (app) return app.canReadDirectory
  return (world.directoryReaders ?? []).includes(objectId)
}

/** Principals the directory already knows (a new one becomes visible at replicatedAt). */
function visible(ctx: ServiceContext): ServicePrincipal[] {
  const now = ctx.now()
  return Object.values(ctx.world.servicePrincipals).filter(sp => sp.replicatedAt <= now)
}

function list(ctx: ServiceContext, version: string): EmuResponse {
  const filter = ctx.req.query.get('$filter')
  let items = visible(ctx)
  // `az ad sp show --id <appId>` asks servicePrincipalNames/any(c:c eq '<appId>')
  const byName =
    filter &&
    /^\s*servicePrincipalNames\/any\(\s*(\w+)\s*:\s*\1\s+eq\s+'((?:[^']|'')*)'\s*\)\s*$/i.exec(
      filter
    )
  if (byName) {
    const name = byName[2]!.replace(/''/g, "'")
    items = items.filter(sp => toGraph(ctx.world, sp).servicePrincipalNames.some(n => n === name))
  } else if (filter) {
    const m = /^\s*(appId|id|displayName|servicePrincipalType)\s+eq\s+'((?:[^']|'')*)'\s*$/i.exec(
      filter
    )
    if (!m) {
      throw graphError(
        ctx,
        400,
        'Request_UnsupportedQuery',
        `Unsupported or invalid query filter clause specified for property of resource 'ServicePrincipal'. ` +
          `The local Azure supports only "appId eq '...'", "id eq '...'", "displayName eq '...'" and ` +
          `"servicePrincipalNames/any(c:c eq '...')".`
      )
    }
    const field = m[1]!.toLowerCase()
    const value = m[2]!.replace(/''/g, "'")
    items = items.filter(sp => {
      if (field === 'appid') return sp.appId === value.toLowerCase()
      if (field === 'id') return sp.id === value.toLowerCase()
      if (field === 'displayname') return sp.displayName === value
      return sp.servicePrincipalType === value
    })
  }
  const top = Number(ctx.req.query.get('$top') ?? '')
  if (Number.isInteger(top) && top > 0) items = items.slice(0, top)
  return {
    status: 200,
    headers: graphHeaders(ctx),
    body: {
      '@odata.context': `${ORIGIN}/${version}/$metadata#servicePrincipals`,
      value: items.map(sp => select(ctx, toGraph(ctx.world, sp)))
    }
  }
}

function getByIds(ctx: ServiceContext, version: string): EmuResponse {
  const parsed = parseJsonObject(ctx.req.body, true)
  if (!parsed.ok && parsed.problem === 'syntax') {
    throw graphError(ctx, 400, 'BadRequest', 'Unable to read JSON request payload.')
  }
  const { ids, types } = parsed.ok ? parsed.value : {}
  if (!Array.isArray(ids) || !ids.every(i => typeof i === 'string')) {
    throw graphError(
      ctx,
      400,
      'Request_BadRequest',
      "The 'ids' parameter is required and must be a list of strings."
    )
  }
  if (types !== undefined && (!Array.isArray(types) || !types.every(t => typeof t === 'string'))) {
    throw graphError(
      ctx,
      400,
      'Request_BadRequest',
      "The 'types' parameter must be a list of strings."
    )
  }
  const wanted = new Set((ids as string[]).map(i => i.toLowerCase()))
  const typeOk =
    !types ||
    (types as string[]).some(
      t => t.toLowerCase().replace(/^microsoft\.graph\./, '') === 'serviceprincipal'
    )
  const value = typeOk
    ? visible(ctx)
        .filter(sp => wanted.has(sp.id))
        .map(sp => ({
          '@odata.type': '#microsoft.graph.servicePrincipal',
          ...toGraph(ctx.world, sp)
        }))
    : []
  return {
    status: 200,
    headers: graphHeaders(ctx),
    body: { '@odata.context': `${ORIGIN}/${version}/$metadata#directoryObjects`, value }
  }
}

function ok(
  ctx: ServiceContext,
  version: string,
  entity: string,
  sp: ServicePrincipal
): EmuResponse {
  return {
    status: 200,
    headers: graphHeaders(ctx),
    body: {
      '@odata.context': `${ORIGIN}/${version}/$metadata#${entity}`,
      ...select(ctx, toGraph(ctx.world, sp))
    }
  }
}

function notFound(ctx: ServiceContext, key: string): AzureError {
  return graphError(
    ctx,
    404,
    'Request_ResourceNotFound',
    `Resource '${key}' does not exist or one of its queried reference-property objects are not present.`
  )
}

function graphHeaders(ctx: ServiceContext): Record<string, string> {
  const requestId = ctx.newGuid()
  const header = ctx.req.headers['client-request-id']
  return {
    'request-id': requestId,
    'client-request-id': (Array.isArray(header) ? header[0] : header) ?? requestId,
    'odata-version': '4.0',
    'content-type':
      'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8'
  }
}

function select(ctx: ServiceContext, obj: Record<string, unknown>): Record<string, unknown> {
  const sel = ctx.req.query.get('$select')
  if (!sel) return obj
  const fields = sel.split(',').map(f => f.trim().toLowerCase())
  return Object.fromEntries(
    Object.entries(obj).filter(([k]) => k === 'id' || fields.includes(k.toLowerCase()))
  )
}

function toGraph(
  world: World,
  sp: ServicePrincipal
): Record<string, unknown> & { servicePrincipalNames: string[] } {
  const ownApp = Object.values(world.applications).some(a => a.servicePrincipalId === sp.id)
  const managed = sp.servicePrincipalType === 'ManagedIdentity'
  return {
    id: sp.id,
    accountEnabled: true,
    appDisplayName: managed ? null : sp.displayName,
    appId: sp.appId,
    appOwnerOrganizationId: managed ? null : ownApp ? world.tenantId : MICROSOFT_TENANT,
    displayName: sp.displayName,
    servicePrincipalNames: [sp.appId],
    servicePrincipalType: sp.servicePrincipalType,
    signInAudience: managed ? null : ownApp ? 'AzureADMyOrg' : 'AzureADMultipleOrgs',
    tags: [],
    appRoles: [],
    oauth2PermissionScopes: [],
    alternativeNames: []
  }
}
