import { AzureError } from '../../core/errors.js'

export interface EntraErrorContext {
  traceId: string
  correlationId: string
  now: number
}

/** Entra ID's OAuth error body: `{error, error_description: "AADSTSnnn: ...", error_codes, ...}`. */
export function entraError(
  ctx: EntraErrorContext,
  status: number,
  error: string,
  code: number,
  message: string
): AzureError {
  const timestamp = new Date(ctx.now)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z')
  return new AzureError({
    status,
    headers: { 'x-ms-request-id': ctx.traceId, 'client-request-id': ctx.correlationId },
    body: {
      error,
      error_description:
        `AADSTS${code}: ${message} Trace ID: ${ctx.traceId} ` +
        `Correlation ID: ${ctx.correlationId} Timestamp: ${timestamp}`,
      error_codes: [code],
      timestamp,
      trace_id: ctx.traceId,
      correlation_id: ctx.correlationId,
      error_uri: `https://login.microsoftonline.com/error?code=${code}`
    },
    logAs: 'token'
  })
}

const WIF_DOCS = 'https://learn.microsoft.com/entra/workload-id/workload-identity-federation'

/** Entra's answer when no federated credential matches one claim of the presented assertion. */
function noFederatedRecord(code: number, claim: string, value: string, advice: string) {
  return [
    code,
    `No matching federated identity record found for presented assertion ${claim} '${value}'. ` +
      `${advice} your federated identity credential Subject, Audience and Issuer against the ` +
      `presented assertion. ${WIF_DOCS}`
  ] as const
}

export const AADSTS = {
  tenantNotFound: (tenant: string) =>
    [
      90002,
      `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are ` +
        'signing into the correct cloud. Check with your subscription administrator, this may ' +
        'happen if there are no active subscriptions for the tenant.'
    ] as const,
  missingParameter: (name: string) =>
    [900144, `The request body must contain the following parameter: '${name}'.`] as const,
  unsupportedGrant: (grant: string) =>
    [70003, `The app requested an unsupported grant type '${grant}'.`] as const,
  appNotFound: (appId: string, tenant: string) =>
    [
      700016,
      `Application with identifier '${appId}' was not found in the directory '${tenant}'. This can ` +
        'happen if the application has not been installed by the administrator of the tenant or ' +
        'consented to by any user in the tenant. You may have sent your authentication request to ' +
        'the wrong tenant.'
    ] as const,
  badSecret: (appId: string) =>
    [
      7000215,
      'Invalid client secret provided. Ensure the secret being sent in the request is the client ' +
        `secret value, not the client secret ID, for a secret added to app '${appId}'.`
    ] as const,
  noCredential: () =>
    [
      7000218,
      "The request body must contain the following parameter: 'client_assertion' or 'client_secret'."
    ] as const,
  badAssertionType: () =>
    [
      700026,
      "Client assertion type is not supported. Use 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'."
    ] as const,
  malformedAssertion: () => [50027, 'JWT token is invalid or malformed.'] as const,
  issuerMismatch: (iss: string) => noFederatedRecord(700211, 'issuer', iss, 'Please check'),
  subjectMismatch: (sub: string) => noFederatedRecord(700213, 'subject', sub, 'Check'),
  audienceMismatch: (aud: string) => noFederatedRecord(700212, 'audience', aud, 'Please check'),
  externalIssuerUnreachable: (iss: string) =>
    [
      50166,
      `Request to External OIDC endpoint failed. The issuer '${iss}' cannot be reached from the ` +
        'local Azure, which only knows the keys of https://token.actions.githubusercontent.com, ' +
        'of the Azure DevOps organization of its scenario and of its own tenant.'
    ] as const,
  badSignature: (kid: string) =>
    [
      700027,
      `Client assertion contains an invalid signature. [Reason - The key was not found., Key ID of ` +
        `the key used by client: '${kid}']`
    ] as const,
  assertionTime: (now: number, nbf: number | undefined, exp: number | undefined) =>
    [
      700024,
      `Client assertion is not within its valid time range. Current time: ${iso(now)}, assertion ` +
        `valid from ${nbf === undefined ? 'unknown' : iso(nbf * 1000)}, expiry time of assertion ` +
        `${exp === undefined ? 'unknown' : iso(exp * 1000)}. Review the documentation at ` +
        'https://learn.microsoft.com/entra/identity-platform/certificate-credentials .'
    ] as const,
  invalidScope: (scope: string) =>
    [
      1002012,
      `The provided value for scope ${scope} is not valid. Client credential flows must have a ` +
        'scope value with /.default suffixed to the resource identifier (application ID URI).'
    ] as const,
  unknownResource: (resource: string, tenant: string) =>
    [
      500011,
      `The resource principal named ${resource} was not found in the tenant named ${tenant}. This ` +
        'can happen if the application has not been installed by the administrator of the tenant ' +
        'or consented to by any user in the tenant. You might have sent your authentication ' +
        'request to the wrong tenant.'
    ] as const
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, '.0000000Z')
}
