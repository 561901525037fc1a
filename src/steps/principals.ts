import { ActionError, describeError, statusOf } from '../errors.js'
import { record, type StepContext } from './context.js'
import { Step } from './names.js'

/**
 * The object id of the Azure Cosmos DB first-party service principal in this tenant: from
 * `cosmos-principal-id` when given, else looked up in Microsoft Graph by application id (the
 * object id differs per tenant).
 */
export function firstPartyPrincipalId(ctx: StepContext): Promise<string> {
  ctx.firstPartyPrincipal ??= lookUpFirstPartyPrincipal(ctx)
  return ctx.firstPartyPrincipal
}

async function lookUpFirstPartyPrincipal(ctx: StepContext): Promise<string> {
  const appId = ctx.cloud.cosmosDbApplicationId
  const given = ctx.inputs.identity.cosmosPrincipalId
  const step = Step.CosmosPrincipal
  if (given) return checkGivenPrincipal(ctx, given)
  let id: string | undefined
  try {
    id = await ctx.apis.graph.servicePrincipalIdByAppId(appId)
  } catch (error) {
    if (statusOf(error) === 403 || statusOf(error) === 401) {
      throw new ActionError(
        `Microsoft Graph refused to look up the Azure Cosmos DB service principal (${describeError(error)}). ` +
          'Pipeline identities often lack Graph read permission. Set cosmos-principal-id to its object id in ' +
          `your tenant instead; someone with directory read access can get it with: az ad sp show --id ${appId} --query id -o tsv`
      )
    }
    throw error
  }
  if (!id) {
    throw new ActionError(
      `The Azure Cosmos DB service principal (application ${appId}) does not exist in tenant ` +
        `${ctx.principal.tenantId}. Registering the Microsoft.DocumentDB resource provider creates it; or set cosmos-principal-id.`
    )
  }
  record(ctx, {
    step,
    observed: `application ${appId} is object ${id}`,
    action: 'none',
    result: 'ok'
  })
  return id
}

/**
 * Checks `cosmos-principal-id` against the directory when it may be read: a GUID that is no
 * principal, or another application's, is refused before any write. A directory that may not be
 * read leaves it unchecked (the role assignment then fails fast, naming the input).
 */
async function checkGivenPrincipal(ctx: StepContext, given: string): Promise<string> {
  const appId = ctx.cloud.cosmosDbApplicationId
  const howToGet = `az ad sp show --id ${appId} --query id -o tsv`
  let principal
  try {
    principal = await ctx.apis.graph.servicePrincipal(given)
  } catch (error) {
    if (statusOf(error) !== 403 && statusOf(error) !== 401) throw error
    record(ctx, {
      step: Step.CosmosPrincipal,
      observed: `cosmos-principal-id ${given}; the directory may not be read to check it`,
      action: 'none',
      result: 'ok'
    })
    return given
  }
  if (!principal) {
    throw new ActionError(
      `Input 'cosmos-principal-id' is '${given}': no service principal has that object id in tenant ` +
        `${ctx.principal.tenantId}. Get the object id of the Azure Cosmos DB principal with: ${howToGet}`
    )
  }
  if (principal.appId !== appId) {
    throw new ActionError(
      `Input 'cosmos-principal-id' is '${given}': it is the object id of '${principal.displayName}' ` +
        `(application ${principal.appId}), not of Azure Cosmos DB (application ${appId}). Get the right one with: ${howToGet}`
    )
  }
  record(ctx, {
    step: Step.CosmosPrincipal,
    observed: `cosmos-principal-id ${given} is application ${appId}`,
    action: 'none',
    result: 'ok'
  })
  return given
}
