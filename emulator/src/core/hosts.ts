/** Azure's (and GitHub's) host names the local Azure answers for. */
export const ENTRA_HOST = 'login.microsoftonline.com'
export const GRAPH_HOST = 'graph.microsoft.com'
export const ARM_HOST = 'management.azure.com'
export const MANAGED_HSM_SUFFIX = '.managedhsm.azure.net'
export const GITHUB_ISSUER_HOST = 'token.actions.githubusercontent.com'
export const GITHUB_ISSUER = `https://${GITHUB_ISSUER_HOST}`
/** Where a runner asks for ID tokens (ACTIONS_ID_TOKEN_REQUEST_URL points here). */
export const GITHUB_RUNNER_HOST = 'pipelines.actions.githubusercontent.com'

/** The Managed HSM name a host addresses, or undefined when it is not an HSM host. */
export function managedHsmNameOf(host: string): string | undefined {
  const h = host.toLowerCase()
  if (!h.endsWith(MANAGED_HSM_SUFFIX)) return undefined
  const name = h.slice(0, -MANAGED_HSM_SUFFIX.length)
  return name && !name.includes('.') ? name : undefined
}
