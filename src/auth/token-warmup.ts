import type { TokenCredential } from '@azure/core-auth'
import { scopeOf, type AzureCloud } from '../cloud.js'
import type { Inputs } from '../inputs/settings.js'

/**
 * Asks for the access tokens the first reads need alongside ARM's at sign-in: each is an exchange
 * of its own with Entra ID, which would otherwise wait for the read that needs it. The credential
 * keeps them for those reads; a refusal here is left to the read to report.
 */
export function warmTokens(
  credential: TokenCredential,
  cloud: AzureCloud,
  inputs: Pick<Inputs, 'identity'>,
  signal?: AbortSignal
): void {
  const scopes = [scopeOf(cloud.managedHsmResource)]
  if (usesFirstParty(inputs)) scopes.push(scopeOf(cloud.graph))
  for (const scope of scopes) credential.getToken(scope, { abortSignal: signal }).catch(() => {})
}

/** Whether the run looks up the Azure Cosmos DB first-party principal (in Microsoft Graph). */
function usesFirstParty({ identity }: Pick<Inputs, 'identity'>): boolean {
  return (
    identity.mode === 'first-party' ||
    (identity.mode === 'system-assigned' && identity.bootstrap === 'first-party')
  )
}
