import { AzureError, azureError } from '../../core/errors.js'

/** Errors that Azure Resource Manager itself answers with (`{"error":{"code","message"}}`). */

export function missingApiVersion(): AzureError {
  return azureError(
    400,
    'MissingApiVersionParameter',
    'The api-version query parameter (?api-version=) is required for all requests.'
  )
}

export function subscriptionNotFound(subscriptionId: string): AzureError {
  return azureError(
    404,
    'SubscriptionNotFound',
    `The subscription '${subscriptionId}' could not be found.`
  )
}

export function resourceGroupNotFound(resourceGroup: string): AzureError {
  return azureError(
    404,
    'ResourceGroupNotFound',
    `Resource group '${resourceGroup}' could not be found.`
  )
}

export function resourceNotFound(type: string, name: string, resourceGroup: string): AzureError {
  return azureError(
    404,
    'ResourceNotFound',
    `The Resource '${type}/${name}' under resource group '${resourceGroup}' was not found. ` +
      'For more details please go to https://aka.ms/ARMResourceNotFoundFix'
  )
}

export function authorizationFailed(objectId: string, action: string, scope: string): AzureError {
  return azureError(
    403,
    'AuthorizationFailed',
    `The client '${objectId}' with object id '${objectId}' does not have authorization to perform ` +
      `action '${action}' over scope '${scope}' or the scope is invalid. If access was recently ` +
      'granted, please refresh your credentials.'
  )
}

export function linkedAuthorizationFailed(
  objectId: string,
  action: string,
  scope: string,
  linkedAction: string,
  linkedScope: string
): AzureError {
  return azureError(
    403,
    'LinkedAuthorizationFailed',
    `The client '${objectId}' with object id '${objectId}' has permission to perform action ` +
      `'${action}' on scope '${scope}'; however, it does not have permission to perform action(s) ` +
      `'${linkedAction}' on the linked scope(s) '${linkedScope}' (respectively) or the linked ` +
      'scope(s) are invalid.'
  )
}

export function missingSubscriptionRegistration(namespace: string): AzureError {
  const message =
    `The subscription is not registered to use namespace '${namespace}'. ` +
    'See https://aka.ms/rps-not-found for how to register subscriptions.'
  return azureError(409, 'MissingSubscriptionRegistration', message, {
    details: [{ code: 'MissingSubscriptionRegistration', target: namespace, message }]
  })
}

export function invalidRequestContent(detail: string): AzureError {
  return azureError(
    400,
    'InvalidRequestContent',
    `The request content was invalid and could not be deserialized: '${detail}'.`
  )
}

export function locationNotAvailable(
  location: unknown,
  type: string,
  available: string[]
): AzureError {
  if (typeof location !== 'string' || location === '') {
    return azureError(
      400,
      'LocationRequired',
      'The location property is required for this definition.'
    )
  }
  return azureError(
    400,
    'LocationNotAvailableForResourceType',
    `The provided location '${location}' is not available for resource type '${type}'. ` +
      `List of available regions for the resource type is '${available.join(',').toLowerCase().replace(/ /g, '')}'.`
  )
}

export function badRequest(message: string, code = 'BadRequest'): AzureError {
  return azureError(400, code, message)
}

/**
 * Errors the Cosmos DB resource provider answers with: a bare `{"code","message"}` whose message
 * ends with the activity id and gateway version, as the service sends them.
 */
export function cosmosError(
  status: number,
  code: string,
  message: string,
  activityId: string
): AzureError {
  return new AzureError({
    status,
    body: {
      code,
      message: `${message}\r\nActivityId: ${activityId}, Microsoft.Azure.Documents.Common/2.14.0`
    }
  })
}

/**
 * Resource Manager's own throttling answer (429) for a spent subscription budget: the operation
 * type ('write', 'delete'), the subscription, the caller ("actor") and the wait. Azure's
 * documentation names only the status and `Retry-After`; the code and wording are those of
 * answers Azure sends (as clients print them), rather than the `TooManyRequests` of some resource
 * providers' own limits.
 */
export function subscriptionRequestsThrottled(
  operation: 'write' | 'delete',
  subscriptionId: string,
  principal: string,
  retryAfterSeconds: number,
  headers: Record<string, string>
): AzureError {
  return azureError(
    429,
    'SubscriptionRequestsThrottled',
    `Number of '${operation}' requests for subscription '${subscriptionId}' actor '${principal}' ` +
      `exceeded. Please try again after '${retryAfterSeconds}' seconds after additional tokens are ` +
      'available. Refer to https://aka.ms/arm-throttling for additional information.',
    {},
    { ...headers, 'Retry-After': String(retryAfterSeconds) }
  )
}
