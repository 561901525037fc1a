import type { EmuResponse } from '../core/service.js'
import type { FaultRule } from '../core/scenario-types.js'
import { azureError } from '../core/errors.js'
import { ENTRA_HOST, MANAGED_HSM_SUFFIX } from '../core/hosts.js'

/** The answer an injected throttle or server error gives, shaped like the host's own errors. */
export function faultResponse(rule: FaultRule, host: string, requestId: string): EmuResponse {
  if (rule.kind === 'throttle') {
    const retryAfter = rule.retryAfterSeconds ?? 1
    const headers = { 'retry-after': String(retryAfter) }
    if (host === ENTRA_HOST) {
      return oauthError(
        429,
        'temporarily_unavailable',
        50196,
        'The server is throttling this client. Retry later.',
        headers
      )
    }
    if (host.endsWith(MANAGED_HSM_SUFFIX)) {
      return azureError(
        429,
        'Throttled',
        'Request was not processed because too many requests were received. Reason: Managed HSM service limit reached.',
        {},
        headers
      ).response
    }
    return azureError(
      429,
      'TooManyRequests',
      `The request is being throttled. Retry after ${retryAfter} seconds. For more information, see - https://aka.ms/srpthrottlinglimits`,
      {},
      headers
    ).response
  }
  const status = rule.status ?? 503
  const [code, message] =
    status === 500
      ? ['InternalServerError', `Encountered internal server error. Tracking id '${requestId}'.`]
      : status === 502
        ? ['BadGateway', 'The service received an invalid response from an upstream server.']
        : status === 504
          ? [
              'GatewayTimeout',
              'The gateway did not receive a response within the specified time period.'
            ]
          : [
              'ServiceUnavailable',
              'The service is temporarily unavailable. Please try again later.'
            ]
  if (host === ENTRA_HOST) return oauthError(status, 'temporarily_unavailable', 90033, message)
  return azureError(status, code, message).response
}

function oauthError(
  status: number,
  error: string,
  code: number,
  message: string,
  headers: Record<string, string> = {}
): EmuResponse {
  return {
    status,
    headers,
    body: {
      error,
      error_description: `AADSTS${code}: ${message}`,
      error_codes: [code],
      timestamp: new Date()
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, 'Z')
    }
  }
}
