import { EMULATED_CLOUDS } from './clouds.js'

/** Azure's (and GitHub's) host names the local Azure answers for. */
export const ENTRA_HOST = 'login.microsoftonline.com'
export const GRAPH_HOST = 'graph.microsoft.com'
export const ARM_HOST = 'management.azure.com'
export const MANAGED_HSM_SUFFIX = '.managedhsm.azure.net'
export const GITHUB_ISSUER_HOST = 'token.actions.githubusercontent.com'
export const GITHUB_ISSUER = `https://${GITHUB_ISSUER_HOST}`
/** Where a runner asks for ID tokens (ACTIONS_ID_TOKEN_REQUEST_URL points here). */
export const GITHUB_RUNNER_HOST = 'pipelines.actions.githubusercontent.com'
/** GitHub's REST API (`GITHUB_API_URL`), as far as a workflow's pull-request comment needs it. */
export const GITHUB_API_HOST = 'api.github.com'
export const GITHUB_API_URL = `https://${GITHUB_API_HOST}`

/** Azure DevOps Services: the organizations' REST APIs, among them a job's OIDC token endpoint. */
export const AZURE_DEVOPS_HOST = 'dev.azure.com'
/** The Azure DevOps OIDC issuer (`https://vstoken.dev.azure.com/{organization id}`). */
export const AZURE_DEVOPS_ISSUER_HOST = 'vstoken.dev.azure.com'

/** The Managed HSM name a host addresses (in any emulated cloud), or undefined when it is not an HSM host. */
export function managedHsmNameOf(host: string): string | undefined {
  const h = host.toLowerCase()
  const suffix = EMULATED_CLOUDS.map(c => c.hsmSuffix).find(s => h.endsWith(s))
  if (!suffix) return undefined
  const name = h.slice(0, -suffix.length)
  return name && !name.includes('.') ? name : undefined
}
