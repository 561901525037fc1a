import { parseKeyUri } from '../../model/cosmos-cmk.js'
import { findKey, keyUnusable, latestVersion } from '../../model/keys.js'
import { findHsmByName } from '../../model/lookup.js'
import { DataActions, principalMayPerform } from '../../model/rbac.js'
import type { ArmRequest } from './context.js'
import { cosmosError } from './errors.js'

export { parseKeyUri }

interface KeyAccessRequest {
  accountName: string
  keyUri: string
  /** The default identity as the client wrote it, for messages. */
  defaultIdentity: string
  /** Its principal; undefined when it has none in this tenant. */
  principalId: string | undefined
}

/**
 * What Cosmos DB checks, synchronously, before it accepts a customer-managed key: a versionless
 * Managed HSM key URI, an HSM with soft delete and purge protection, and a default identity that
 * can read, wrap and unwrap with the key at this moment (role assignment propagation honoured),
 * on a key that exists, is enabled, not expired and allows wrapKey and unwrapKey.
 */
export function checkKeyAccess(a: ArmRequest, req: KeyAccessRequest): void {
  const fail = (message: string) => cosmosError(400, 'BadRequest', message, a.ctx.newGuid())
  const parsed = parseKeyUri(req.keyUri)
  if ('problem' in parsed) throw fail(parsed.problem)
  if (parsed.host.endsWith('.vault.azure.net')) {
    throw fail(
      `The key '${req.keyUri}' is in an Azure Key Vault vault; the local Azure emulates Managed HSM ` +
        'keys only (https://{hsm}.managedhsm.azure.net/keys/{key name}).'
    )
  }
  const hsmName = parsed.host.endsWith('.managedhsm.azure.net')
    ? parsed.host.split('.')[0]!
    : undefined
  const hsm = hsmName ? findHsmByName(a.world, hsmName) : undefined
  if (!hsm) {
    throw fail(
      `The DNS name of the key vault in '${req.keyUri}' could not be resolved (KeyVaultDnsNotResolved).`
    )
  }
  if (!hsm.enableSoftDelete || !hsm.enablePurgeProtection) {
    throw fail(
      `The key vault '${hsm.name}' must have soft delete and purge protection enabled to be used for ` +
        'customer-managed keys. Enable purge protection on the managed HSM and retry.'
    )
  }
  if (hsm.provisioningState !== 'Succeeded' && hsm.provisioningState !== 'Updating') {
    throw fail(`The managed HSM '${hsm.name}' is not available yet (KeyVaultServiceUnavailable).`)
  }
  if (hsm.activationStatus !== 'Active') {
    throw fail(
      `The managed HSM '${hsm.name}' is not activated, so it cannot serve key '${parsed.keyName}' (KeyVaultServiceUnavailable).`
    )
  }
  const scope = `/keys/${parsed.keyName}`
  const missing = [DataActions.keysRead, DataActions.keysWrap, DataActions.keysUnwrap].filter(
    action =>
      !req.principalId ||
      !principalMayPerform(a.world, hsm.name, req.principalId, action, scope, a.now)
  )
  if (missing.length > 0) {
    throw fail(
      `Unable to access the customer-managed key '${req.keyUri}' with the default identity ` +
        `'${req.defaultIdentity}' (principal id ${req.principalId ?? 'unknown: the identity has no service principal in this tenant'}). ` +
        'KeyVaultAuthenticationFailure: the identity is not permitted to perform wrapKey and unwrapKey ' +
        `with this key yet (missing ${missing.join(', ')} at scope ${scope}). Assign it the 'Managed HSM ` +
        "Crypto Service Encryption User' role on the key (scope /keys or /keys/{key name}); a new role " +
        'assignment can take several minutes to propagate.'
    )
  }
  const key = findKey(a.world.hsmDataPlanes[hsm.name.toLowerCase()]!, parsed.keyName)
  if (!key) {
    throw fail(
      `The key '${parsed.keyName}' was not found in the key vault '${hsm.name}' (KeyVaultKeyNotFound).`
    )
  }
  const latest = latestVersion(key)
  const nowSeconds = Math.floor(a.now / 1000)
  const problem =
    keyUnusable(latest, 'wrapKey', nowSeconds) ?? keyUnusable(latest, 'unwrapKey', nowSeconds)
  if (problem) {
    throw fail(`The key '${req.keyUri}' cannot be used: ${problem} (KeyVaultWrapUnwrapFailure).`)
  }
}
