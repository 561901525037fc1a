import type { EmuResponse } from './service.js'

/** ARM and Key Vault share this error shape: `{"error":{"code","message"}}`. */
export function azureError(
  status: number,
  code: string,
  message: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {}
): EmuResponse {
  return { status, headers, body: { error: { code, message, ...extra } } }
}

/** What every host answers for an operation the local Azure does not emulate. */
export function notEmulated(service: string, method: string, path: string): EmuResponse {
  return azureError(
    501,
    'NotImplementedInLocalAzure',
    `The local Azure does not emulate ${method} ${path} on ${service}. ` +
      'Only the endpoints of the CMK-on-Managed-HSM procedure are served.'
  )
}
