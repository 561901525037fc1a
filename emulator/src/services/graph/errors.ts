import type { ServiceContext } from '../../core/service.js'
import { AzureError } from '../../core/errors.js'

/** Microsoft Graph's error shape, with the innerError block Graph always adds. */
export function graphError(
  ctx: Pick<ServiceContext, 'req' | 'now' | 'newGuid'>,
  status: number,
  code: string,
  message: string,
  requestId = ctx.newGuid()
): AzureError {
  const header = ctx.req.headers['client-request-id']
  const clientRequestId = (Array.isArray(header) ? header[0] : header) ?? requestId
  return new AzureError({
    status,
    headers: { 'request-id': requestId, 'client-request-id': clientRequestId },
    body: {
      error: {
        code,
        message,
        innerError: {
          date: new Date(ctx.now()).toISOString().replace(/\.\d+Z$/, ''),
          'request-id': requestId,
          'client-request-id': clientRequestId
        }
      }
    }
  })
}
