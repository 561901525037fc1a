/** The action's inputs, from the variables the local Azure gives its clients (`emulator.env`). */
import { KEY_NAME } from './scenarios.js'

export type IdentityMode = 'first-party' | 'user-assigned' | 'system-assigned'
export const identityModes: IdentityMode[] = ['first-party', 'user-assigned', 'system-assigned']

/**
 * Inputs for one account on the HSM the env names, signed in as the scenario's pipeline app.
 * Without `mode` the action's default identity mode applies; `user-assigned` names the scenario's
 * identity. `extra` is added last and wins.
 */
export function actionInputs(
  env: Record<string, string>,
  account: string,
  mode?: IdentityMode,
  extra: Record<string, string> = {}
): Record<string, string> {
  return {
    'client-id': env.AZURE_CLIENT_ID,
    'tenant-id': env.AZURE_TENANT_ID,
    'subscription-id': env.AZURE_SUBSCRIPTION_ID,
    'resource-group': env.AZURE_RESOURCE_GROUP,
    location: env.AZURE_LOCATION,
    'hsm-name': env.AZURE_HSM_NAME,
    'key-name': KEY_NAME,
    'account-name': account,
    ...(mode ? { 'identity-mode': mode } : {}),
    ...(mode === 'user-assigned'
      ? { 'user-assigned-identity': env.AZURE_USER_ASSIGNED_IDENTITY }
      : {}),
    ...extra
  }
}

/**
 * The inputs that create the HSM (seven days of soft-delete retention) and activate it with the
 * security-domain certificates (quorum 2), downloading the security domain to `securityDomainFile`.
 */
export function createHsmInputs(
  certificates: string[],
  securityDomainFile: string
): Record<string, string> {
  return {
    'create-hsm': 'true',
    'hsm-retention-days': '7',
    'security-domain-certificates': certificates.join('\n'),
    'security-domain-quorum': '2',
    'security-domain-file': securityDomainFile
  }
}
