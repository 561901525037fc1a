import type { TokenCredential } from '@azure/core-auth'
import { scopeOf, type AzureCloud } from '../cloud.js'
import { ActionError } from '../errors.js'
import type { SignedInPrincipal } from '../steps/context.js'
import { decodeJwtClaims, stringClaim } from './jwt.js'

/**
 * Who is signed in, from the `oid` and `tid` claims of an ARM access token. Graph's /me works only
 * for users, and a pipeline identity often may not read the directory at all.
 */
export async function signedInPrincipal(
  credential: TokenCredential,
  cloud: AzureCloud,
  signal?: AbortSignal
): Promise<SignedInPrincipal> {
  const token = await credential.getToken(scopeOf(cloud.resourceManager), { abortSignal: signal })
  if (!token?.token) throw new ActionError('Signing in to Azure returned no access token.')
  const claims = decodeJwtClaims(token.token)
  const objectId = stringClaim(claims, 'oid')
  const tenantId = stringClaim(claims, 'tid')
  if (!objectId || !tenantId) {
    throw new ActionError(
      'The access token has no oid/tid claim, so the signed-in principal is unknown.'
    )
  }
  return { objectId: objectId.toLowerCase(), tenantId: tenantId.toLowerCase() }
}
