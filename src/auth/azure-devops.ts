import {
  createDefaultHttpClient,
  createHttpHeaders,
  createPipelineFromOptions,
  createPipelineRequest,
  type HttpClient
} from '@azure/core-rest-pipeline'
import { cloudNames, type CloudName } from '../cloud.js'
import { ActionError, messageOf } from '../errors.js'
import { sanitize } from '../sanitize.js'

/** The scheme of a service connection that signs in with workload identity federation. */
export const WIF_SCHEME = 'WorkloadIdentityFederation'

/**
 * The audience of every ID token Azure DevOps issues for a service connection: fixed, whatever the
 * cloud of the connection, so the federated credential must name exactly this one.
 */
export const AZURE_DEVOPS_TOKEN_AUDIENCE = 'api://AzureADTokenExchange'

/** How a task reads its service connection (task-lib's endpoint functions, or a test's table). */
export interface EndpointReader {
  scheme(id: string): string | undefined
  authParameter(id: string, key: string): string | undefined
  dataParameter(id: string, key: string): string | undefined
}

/** An Azure Resource Manager service connection that signs in with workload identity federation. */
export interface ServiceConnection {
  id: string
  clientId: string
  tenantId: string
  subscriptionId?: string
  environment: CloudName
}

const schemeAdvice: Record<string, string> = {
  serviceprincipal:
    'a service principal with a secret or a certificate; convert it (Project settings > Service ' +
    'connections > the connection > Convert) or create an Azure Resource Manager connection of ' +
    "type 'Workload identity federation'",
  managedserviceidentity:
    "the managed identity of a self-hosted agent's VM; create an Azure Resource Manager connection " +
    "of type 'Workload identity federation' for that identity (or an app registration) instead",
  publishprofile: "a publish profile; create a 'Workload identity federation' connection instead"
}

/**
 * The service connection a task's `azureSubscription` input names, from the agent's endpoint
 * variables. Anything but workload identity federation is refused here, before any network call,
 * with what to configure instead.
 */
export function readServiceConnection(id: string, endpoints: EndpointReader): ServiceConnection {
  const scheme = endpoints.scheme(id)
  if (!scheme) {
    throw new ActionError(
      `The agent gave the task no service connection '${id}' (no ENDPOINT_AUTH_SCHEME_${id}). Input ` +
        "'azureSubscription' must name an Azure Resource Manager service connection the pipeline may use."
    )
  }
  if (scheme.toLowerCase() !== WIF_SCHEME.toLowerCase()) {
    const advice = schemeAdvice[scheme.toLowerCase()] ?? 'another kind of sign-in'
    throw new ActionError(
      `Service connection '${id}' uses the authentication scheme '${scheme}' (${advice}). This task ` +
        `signs in only with workload identity federation (scheme '${WIF_SCHEME}'), so that no ` +
        'secret is stored; nothing was requested.'
    )
  }
  const clientId = endpoints.authParameter(id, 'serviceprincipalid')?.trim()
  const tenantId = endpoints.authParameter(id, 'tenantid')?.trim()
  if (!clientId || !tenantId) {
    throw new ActionError(
      `Service connection '${id}' has no ${clientId ? 'tenant id' : 'service principal (client) id'}; ` +
        'edit it in Project settings > Service connections and save it again.'
    )
  }
  const environment = endpoints.dataParameter(id, 'environment')?.trim() || 'AzureCloud'
  const cloud = cloudNames.find(name => name.toLowerCase() === environment.toLowerCase())
  if (!cloud) {
    throw new ActionError(
      `Service connection '${id}' is for the environment '${environment}'; this task supports ` +
        `${cloudNames.join(', ')}.`
    )
  }
  return {
    id,
    clientId,
    tenantId,
    subscriptionId: endpoints.dataParameter(id, 'subscriptionid')?.trim() || undefined,
    environment: cloud
  }
}

export interface OidcRequest {
  /** `System.OidcRequestUri`. */
  requestUri: string
  /** `System.AccessToken`, the job's bearer token for Azure DevOps. */
  accessToken: string
  serviceConnectionId: string
  httpClient?: HttpClient
}

/**
 * A fresh ID token for the service connection from the job's OIDC endpoint ("Oidctoken - Create"),
 * as AzurePipelinesCredential asks for it: `X-TFS-FedAuthRedirect: Suppress` turns a bad job token
 * into a 401 instead of a sign-in page. Throttling, 5xx answers and resets are retried.
 */
export async function requestIdToken(request: OidcRequest): Promise<string> {
  const url = new URL(request.requestUri)
  url.searchParams.set('api-version', '7.1')
  url.searchParams.set('serviceConnectionId', request.serviceConnectionId)
  const pipeline = createPipelineFromOptions({
    retryOptions: { maxRetries: 4, retryDelayInMs: 500, maxRetryDelayInMs: 8_000 },
    userAgentOptions: { userAgentPrefix: 'cosmos-cmk-hsm-task' }
  })
  const response = await pipeline.sendRequest(
    request.httpClient ?? createDefaultHttpClient(),
    createPipelineRequest({
      url: url.toString(),
      method: 'POST',
      headers: createHttpHeaders({
        authorization: `Bearer ${request.accessToken}`,
        'content-type': 'application/json',
        'x-tfs-fedauthredirect': 'Suppress'
      }),
      body: '',
      timeout: 30_000
    })
  )
  const text = response.bodyAsText ?? ''
  const body = parseJson(text)
  const token = body?.oidcToken
  if (response.status === 200 && typeof token === 'string' && token) return token
  throw new ActionError(
    explainTokenFailure(response.status, text, body, request.serviceConnectionId) +
      traceOf(response.headers.get('x-vss-e2eid'), response.headers.get('x-msedge-ref'))
  )
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === 'object' && value !== null
      ? (value as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

function explainTokenFailure(
  status: number,
  text: string,
  body: Record<string, unknown> | undefined,
  connectionId: string
): string {
  const said = typeof body?.message === 'string' ? body.message : undefined
  if (typeof body?.value === 'string' && /no explicit reference/i.test(body.value)) {
    return (
      `Azure DevOps issues ID tokens only for service connections the stage references, and it ` +
      `refused connection ${connectionId}: "${sanitize(body.value)}". Name the connection in the ` +
      "task's azureSubscription input itself (not through a variable set at run time), or in a " +
      'template expression of the stage, and authorize the pipeline to use it.'
    )
  }
  if (status === 302 || status === 203 || /^\s*<(!doctype|html)/i.test(text)) {
    return (
      `Azure DevOps answered the ID-token request with its sign-in page (HTTP ${status}) instead of a ` +
      'token: the job access token (System.AccessToken) is not valid for this organization. Check ' +
      "that the job's access token is not restricted away from the project (job authorization scope) " +
      'and that the task runs in the job the token was made for.'
    )
  }
  if (status === 401) {
    return (
      'Azure DevOps refused the job access token (System.AccessToken) when asked for an ID token ' +
      `(HTTP 401${said ? `: ${sanitize(said)}` : ''}). The task must run in the job the token was made for.`
    )
  }
  if (status === 200) {
    return 'Azure DevOps answered the ID-token request without an oidcToken.'
  }
  const detail = said ?? (typeof body?.value === 'string' ? body.value : text.slice(0, 300))
  return (
    `Azure DevOps refused the ID-token request for service connection ${connectionId} (HTTP ${status}): ` +
    `${sanitize(detail).trim() || 'no details'}.`
  )
}

function traceOf(e2eId: string | undefined, edgeRef: string | undefined): string {
  const parts = [e2eId && `x-vss-e2eid ${e2eId}`, edgeRef && `x-msedge-ref ${edgeRef}`]
  const present = parts.filter(Boolean)
  return present.length ? ` (${present.join(', ')})` : ''
}

/** The job access token from the `SystemVssConnection` endpoint the agent passes to every task. */
export function jobAccessToken(
  authorization: { parameters?: Record<string, string> } | undefined
): string {
  const token = authorization?.parameters?.AccessToken ?? authorization?.parameters?.accesstoken
  if (!token) {
    throw new ActionError(
      'The agent gave the task no job access token (the SystemVssConnection endpoint), so no ID ' +
        'token can be requested. Run the task on an Azure Pipelines agent.'
    )
  }
  return token
}

export function describeOidcFailure(error: unknown): string {
  return error instanceof ActionError ? error.message : messageOf(error)
}
