import type { EmuResponse, Service, ServiceContext } from '../../core/service.js'
import { AzureError, azureError, notEmulated } from '../../core/errors.js'
import { ARM_HOST } from '../../core/hosts.js'
import { findRoute, type Route } from '../../core/routes.js'
import { advanceWorld } from '../../model/advance.js'
import { armChargeOf, spendArmRequest } from '../../model/arm-throttle.js'
import type { ArmRequest } from './context.js'
import {
  databaseAccount,
  databaseAccountNameExists,
  listDatabaseAccounts
} from './cosmos-accounts.js'
import { cosmosOperationResult, cosmosOperationStatus } from './cosmos-operations.js'
import { missingApiVersion, subscriptionRequestsThrottled } from './errors.js'
import { userAssignedIdentity } from './identities.js'
import {
  listManagedHsmKeys,
  listManagedHsmKeyVersions,
  managedHsmKey,
  managedHsmKeyVersion
} from './managed-hsm-keys.js'
import { checkMhsmNameAvailability, managedHsm, managedHsmOperationResult } from './managed-hsms.js'
import { listPermissions } from './permissions.js'
import { getProvider, getResourceGroup, registerProvider } from './providers.js'
import { getSubscription, listSubscriptions } from './subscriptions.js'
import { tagsAtScope } from './tags.js'

const SUB = '/subscriptions/{sub}'
const RG = `${SUB}/resourceGroups/{rg}`
const HSM_KEYS = `${RG}/providers/Microsoft.KeyVault/managedHSMs/{name}/keys`

const ROUTES: Route<ArmRequest>[] = [
  {
    methods: ['GET', 'PUT', 'PATCH', 'DELETE'],
    template: '/{scope*}/providers/Microsoft.Resources/tags/default',
    handler: (a, p) => tagsAtScope(a, p.scope!)
  },
  {
    methods: ['GET'],
    template: '/{scope*}/providers/Microsoft.Authorization/permissions',
    handler: (a, p) => listPermissions(a, p.scope!)
  },
  { methods: ['GET'], template: '/subscriptions', handler: a => listSubscriptions(a) },
  { methods: ['GET'], template: SUB, handler: (a, p) => getSubscription(a, p.sub!) },
  {
    methods: ['GET'],
    template: `${SUB}/providers/{ns}`,
    handler: (a, p) => getProvider(a, p.sub!, p.ns!)
  },
  {
    methods: ['POST'],
    template: `${SUB}/providers/{ns}/register`,
    handler: (a, p) => registerProvider(a, p.sub!, p.ns!)
  },
  { methods: ['GET', 'HEAD'], template: RG, handler: (a, p) => getResourceGroup(a, p.sub!, p.rg!) },
  {
    methods: ['GET', 'PUT', 'PATCH'],
    template: `${RG}/providers/Microsoft.KeyVault/managedHSMs/{name}`,
    handler: (a, p) => managedHsm(a, p.sub!, p.rg!, p.name!)
  },
  { methods: ['GET'], template: HSM_KEYS, handler: listManagedHsmKeys },
  { methods: ['GET', 'PUT'], template: `${HSM_KEYS}/{keyName}`, handler: managedHsmKey },
  {
    methods: ['GET'],
    template: `${HSM_KEYS}/{keyName}/versions`,
    handler: listManagedHsmKeyVersions
  },
  {
    methods: ['GET'],
    template: `${HSM_KEYS}/{keyName}/versions/{version}`,
    handler: managedHsmKeyVersion
  },
  {
    methods: ['GET'],
    template: `${SUB}/providers/Microsoft.KeyVault/locations/{loc}/managedHsmOperationResults/{op}`,
    handler: (a, p) => managedHsmOperationResult(a, p.sub!, p.op!)
  },
  {
    methods: ['POST'],
    template: `${SUB}/providers/Microsoft.KeyVault/checkMhsmNameAvailability`,
    handler: (a, p) => checkMhsmNameAvailability(a, p.sub!)
  },
  {
    methods: ['GET', 'PUT'],
    template: `${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}`,
    handler: (a, p) => userAssignedIdentity(a, p.sub!, p.rg!, p.name!)
  },
  {
    methods: ['GET'],
    template: `${SUB}/providers/Microsoft.DocumentDB/databaseAccounts`,
    handler: (a, p) => listDatabaseAccounts(a, p.sub!)
  },
  {
    methods: ['GET'],
    template: `${RG}/providers/Microsoft.DocumentDB/databaseAccounts`,
    handler: (a, p) => listDatabaseAccounts(a, p.sub!, p.rg!)
  },
  {
    methods: ['GET', 'PUT', 'PATCH', 'DELETE'],
    template: `${RG}/providers/Microsoft.DocumentDB/databaseAccounts/{name}`,
    handler: (a, p) => databaseAccount(a, p.sub!, p.rg!, p.name!)
  },
  {
    methods: ['GET'],
    template: `${SUB}/providers/Microsoft.DocumentDB/locations/{loc}/operationsStatus/{op}`,
    handler: (a, p) => cosmosOperationStatus(a, p.sub!, p.op!)
  },
  {
    methods: ['GET'],
    template: `${SUB}/providers/Microsoft.DocumentDB/locations/{loc}/operationResults/{op}`,
    handler: (a, p) => cosmosOperationResult(a, p.sub!, p.op!)
  },
  {
    methods: ['GET'],
    template: `${RG}/providers/Microsoft.DocumentDB/databaseAccounts/{name}/operationResults/{op}`,
    handler: (a, p) => cosmosOperationResult(a, p.sub!, p.op!)
  },
  {
    methods: ['HEAD'],
    template: '/providers/Microsoft.DocumentDB/databaseAccountNames/{name}',
    handler: (a, p) => databaseAccountNameExists(a, p.name!)
  }
]

async function handle(ctx: ServiceContext): Promise<EmuResponse> {
  const { req, world } = ctx
  const now = ctx.now()
  advanceWorld(world, now, ctx)
  const apiVersion = req.query.get('api-version')
  if (!apiVersion) throw missingApiVersion()
  if (!ctx.principal) {
    throw azureError(
      401,
      'AuthenticationFailed',
      'Authentication failed. The Authorization header is missing.'
    )
  }
  const a: ArmRequest = { ctx, world, now, apiVersion, callerId: ctx.principal.objectId }
  // Resource Manager spends the caller's budget before any resource provider sees the request.
  const limitHeaders = spendRequestBudget(ctx, ctx.principal.objectId, now)
  try {
    const match = findRoute(ROUTES, req.method, req.path)
    if (!match?.allowed) throw notEmulated(ARM_HOST, req.method, req.path)
    const response = await match.route.handler(a, match.params)
    // what the write changed takes effect from now on (key access, zero-length operations)
    if (req.method !== 'GET' && req.method !== 'HEAD') advanceWorld(world, ctx.now(), ctx)
    return withHeaders(response, limitHeaders)
  } catch (e) {
    if (e instanceof AzureError) throw new AzureError(withHeaders(e.response, limitHeaders))
    throw e
  }
}

/**
 * Takes one token of the caller's write (or delete) budget in the request's subscription, when
 * the timing limits it (model/arm-throttle.ts). Answers the `x-ms-ratelimit-remaining-subscription-*`
 * header for the response; a spent budget throws Resource Manager's 429 with `Retry-After`.
 */
function spendRequestBudget(
  ctx: ServiceContext,
  principal: string,
  now: number
): Record<string, string> {
  const charge = armChargeOf(ctx.req.method, ctx.req.path)
  const spent = charge && spendArmRequest(ctx.world, ctx.timing, charge, principal, now)
  if (!charge || !spent) return {}
  const headers = { [charge.header]: String(spent.remaining) }
  if (spent.allowed) return headers
  const operation = charge.type === 'writes' ? 'write' : 'delete'
  throw subscriptionRequestsThrottled(
    operation,
    charge.subscriptionId,
    principal,
    spent.retryAfterSeconds,
    headers
  )
}

function withHeaders(response: EmuResponse, headers: Record<string, string>): EmuResponse {
  if (Object.keys(headers).length === 0) return response
  return { ...response, headers: { ...response.headers, ...headers } }
}

export const armService: Service = {
  name: 'Azure Resource Manager',
  matches: host => host === ARM_HOST,
  audiences: ['https://management.azure.com', 'https://management.core.windows.net/'],
  handle
}
