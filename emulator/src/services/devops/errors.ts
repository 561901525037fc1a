import { randomUUID } from 'node:crypto'
import { AzureError } from '../../core/errors.js'

/** Headers Azure DevOps puts on every answer; clients quote the first two in their errors. */
export function devOpsHeaders(): Record<string, string> {
  return {
    'x-vss-e2eid': randomUUID(),
    'x-msedge-ref': `Ref A: ${randomUUID().replace(/-/g, '').toUpperCase()} Ref B: AMS04EDGE Ref C: local-azure`,
    activityid: randomUUID()
  }
}

/** Azure DevOps' exception body: `{"$id","innerException","message","typeName","typeKey","errorCode","eventId"}`. */
export function devOpsError(status: number, typeKey: string, message: string): AzureError {
  return new AzureError({
    status,
    headers: devOpsHeaders(),
    body: {
      $id: '1',
      innerException: null,
      message,
      typeName: `Microsoft.TeamFoundation.DistributedTask.WebApi.${typeKey}, Microsoft.TeamFoundation.DistributedTask.WebApi`,
      typeKey,
      errorCode: 0,
      eventId: 3000
    },
    logAs: 'token'
  })
}

/**
 * A job access token that is missing or not valid: 401 when the client asks Azure DevOps not to
 * redirect (`X-TFS-FedAuthRedirect: Suppress`), otherwise the browser's answer, a 302 to the
 * sign-in page with an HTML body.
 */
export function notSignedIn(suppressRedirect: boolean, replyTo: string): AzureError {
  if (suppressRedirect) {
    const error = devOpsError(
      401,
      'UnauthorizedRequestException',
      'TF400813: Resource not available for anonymous access. Client authentication required.'
    )
    error.response.headers = {
      ...error.response.headers,
      'www-authenticate': 'Bearer authorization_uri=https://login.microsoftonline.com/common'
    }
    return error
  }
  const location =
    'https://spsprodweu5.vssps.visualstudio.com/_signin?realm=dev.azure.com&reply_to=' +
    `${encodeURIComponent(replyTo)}&redirect=1&context=eyJodCI6MiwiaGlkIjoi`
  return new AzureError({
    status: 302,
    headers: { ...devOpsHeaders(), location, 'content-type': 'text/html; charset=utf-8' },
    body:
      '<html><head><title>Object moved</title></head><body>\r\n' +
      `<h2>Object moved to <a href="${location.replace(/&/g, '&amp;')}">here</a>.</h2>\r\n</body></html>\r\n`,
    logAs: 'token'
  })
}

/** Since 2026 a job gets ID tokens only for connections its stage references. */
export function notReferenced(connectionId: string, stage: string, job: string): AzureError {
  const value =
    `There is no explicit reference to service connection ${connectionId} from current stage ` +
    `${stage}.${job}.__default.`
  return new AzureError({
    status: 400,
    headers: devOpsHeaders(),
    body: { count: value.length, value },
    logAs: 'token'
  })
}
