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
  if (given) {
    record(ctx, {
      step,
      observed: `cosmos-principal-id ${given}`,
      action: 'none (lookup skipped)',
      result: 'ok'
    })
    return given
  }
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
