import { azureError, type AzureError } from '../../core/errors.js'

/** Key Vault / Managed HSM data-plane error bodies: `{"error":{"code","message"[,"innererror"]}}`. */
export function kvError(
  status: number,
  code: string,
  message: string,
  innerCode?: string
): AzureError {
  return azureError(status, code, message, innerCode ? { innererror: { code: innerCode } } : {})
}

export function badParameter(message: string): AzureError {
  return kvError(400, 'BadParameter', message)
}

export function keyNotFound(name: string): AzureError {
  return kvError(
    404,
    'KeyNotFound',
    `A key with (name/id) ${name} was not found in this key vault. If you recently deleted this key ` +
      'you may be able to recover it using the correct recovery command. For help resolving this ' +
      'issue, please see https://go.microsoft.com/fwlink/?linkid=2125182'
  )
}

/** Managed HSM local RBAC denial, as the service words it. */
export function accessDenied(dataAction: string, scope: string, activityId: string): AzureError {
  return kvError(
    403,
    'AccessDenied',
    `Not authorized to access ${dataAction} on ${scope} (Activity ID: ${activityId})`
  )
}

/** Key and RBAC operations on an HSM whose security domain has not been downloaded yet. */
export function notActivated(hsmName: string): AzureError {
  return kvError(
    403,
    'HSMNotActivated',
    `The managed HSM '${hsmName}' is not activated, so it cannot be used for key or role ` +
      'management yet. Activate it by downloading its security domain: POST ' +
      '/securitydomain/download with 3 to 10 RSA certificates and a quorum (az keyvault ' +
      'security-domain download).'
  )
}
