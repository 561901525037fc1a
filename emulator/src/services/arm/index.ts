import type { EmuResponse, Service, ServiceContext } from '../../core/service.js'
import { azureError, notEmulated } from '../../core/errors.js'
import { advanceWorld } from '../resources/advance.js'
import type { ArmRequest } from './context.js'
import {
  cosmosOperationResult,
  cosmosOperationStatus,
  databaseAccount,
  databaseAccountNameExists,
  listDatabaseAccounts
} from './cosmos-accounts.js'
import { missingApiVersion } from './errors.js'
import { userAssignedIdentity } from './identities.js'
import { checkMhsmNameAvailability, managedHsm, managedHsmOperationResult } from './managed-hsms.js'
import { matchPath } from './match.js'
import { getProvider, getResourceGroup, registerProvider } from './providers.js'
import { getSubscription, listSubscriptions } from './subscriptions.js'

export { armPermits, armRolesOf, requireArmPermission } from './authorization.js'

type Handler = (a: ArmRequest, p: Record<string, string>) => EmuResponse

interface Route {
  methods: string[]
  template: string
  handler: Handler
}

const SUB = '/subscriptions/{sub}'
const RG = `${SUB}/resourceGroups/{rg}`

const ROUTES: Route[] = [
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

function handle(ctx: ServiceContext): EmuResponse {
  const { req, world } = ctx
  const now = ctx.now()
  advanceWorld(world, now)
  const apiVersion = req.query.get('api-version')
  if (!apiVersion) return missingApiVersion()
  if (!ctx.principal) {
    return azureError(
      401,
      'AuthenticationFailed',
      'Authentication failed. The Authorization header is missing.'
    )
  }
  const a: ArmRequest = { ctx, world, now, apiVersion, callerId: ctx.principal.objectId }
  for (const route of ROUTES) {
    const params = matchPath(route.template, req.path)
    if (!params) continue
    if (!route.methods.includes(req.method)) break
    return route.handler(a, params)
  }
  return notEmulated('management.azure.com', req.method, req.path)
}

export const armService: Service = {
  name: 'Azure Resource Manager',
  matches: host => host === 'management.azure.com',
  audiences: ['https://management.azure.com', 'https://management.core.windows.net/'],
  handle
}
