import tls from 'node:tls'
import type { Scenario } from './core/scenario-types.js'
import { GITHUB_API_URL } from './core/hosts.js'
import { scenarioNames } from './model/scenario-names.js'

/** The variables a client process needs to reach the local Azure (see Emulator.env). */
export function emulatorEnv(o: {
  proxyUrl: string
  caCertPath: string
  idTokenRequestUrl: string
  idTokenRequestToken: string
  /** The workflow's GITHUB_TOKEN for the emulated REST API. */
  githubToken: string
  scenario: Scenario
  /** What an Azure Pipelines agent gives a task (SYSTEM_*, ENDPOINT_*, ...), when the scenario has a pipeline run. */
  azurePipelinesAgent?: Record<string, string>
}): Record<string, string> {
  const names = scenarioNames(o.scenario)
  const env: Record<string, string | undefined> = {
    HTTPS_PROXY: o.proxyUrl,
    https_proxy: o.proxyUrl,
    NO_PROXY: '',
    no_proxy: '',
    NODE_EXTRA_CA_CERTS: o.caCertPath,
    REQUESTS_CA_BUNDLE: o.caCertPath,
    ACTIONS_ID_TOKEN_REQUEST_URL: o.idTokenRequestUrl,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: o.idTokenRequestToken,
    GITHUB_API_URL,
    GITHUB_TOKEN: o.githubToken,
    AZURE_TENANT_ID: names.tenantId,
    AZURE_CLIENT_ID: names.clientId,
    AZURE_SUBSCRIPTION_ID: names.subscriptionId,
    AZURE_RESOURCE_GROUP: names.resourceGroup,
    AZURE_LOCATION: names.location,
    AZURE_HSM_NAME: names.hsmName,
    AZURE_USER_ASSIGNED_IDENTITY: names.userAssignedIdentity,
    AZURE_USER_ASSIGNED_IDENTITY_ID: names.userAssignedIdentityId
  }
  return Object.fromEntries(
    Object.entries({ ...env, ...o.azurePipelinesAgent }).filter(
      (e): e is [string, string] => e[1] !== undefined
    )
  )
}

/**
 * Shell lines that export the variables (`export NAME='value'`). Names a shell cannot export (an
 * Azure Pipelines agent's `ENDPOINT_*_<connection id>`, with the id's hyphens) go into a function
 * instead, `with_agent_env`, that runs a command with them: `with_agent_env node task/dist/index.js`.
 */
export function exportLines(env: Record<string, string>): string {
  const quote = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`
  const exportable = (k: string) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k)
  const lines = Object.entries(env)
    .filter(([k]) => exportable(k))
    .map(([k, v]) => `export ${k}=${quote(v)}`)
  const others = Object.entries(env).filter(([k]) => !exportable(k))
  if (others.length) {
    lines.push(
      `with_agent_env() { env ${others.map(([k, v]) => quote(`${k}=${v}`)).join(' ')} "$@"; }`
    )
  }
  return lines.join('\n')
}

/**
 * Makes this process trust the local CA for new TLS connections (Node 24+). NODE_EXTRA_CA_CERTS is
 * read only at process start, so in-process clients need this instead.
 */
export function trustEmulatorCa(caPem: string): void {
  if (typeof tls.setDefaultCACertificates !== 'function') {
    throw new Error(
      `trustEmulatorCa needs Node 24 or later (this is ${process.version}); start the process ` +
        'with NODE_EXTRA_CA_CERTS pointing at the CA certificate instead.'
    )
  }
  const normalise = (pem: string) => pem.replace(/\s+/g, '')
  const current = tls.getCACertificates('default')
  if (current.some(c => normalise(c) === normalise(caPem))) return
  tls.setDefaultCACertificates([...current, caPem])
}

/** Sets variables in process.env; returns a function that puts the previous values back. */
export function applyEnv(vars: Record<string, string>): () => void {
  const previous = new Map<string, string | undefined>()
  for (const [k, v] of Object.entries(vars)) {
    previous.set(k, process.env[k])
    process.env[k] = v
  }
  return () => {
    for (const [k, v] of previous) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
}

/** Routes this process's HTTPS clients (Azure SDK, @actions/http-client) through the proxy. */
export function useEmulatorProxy(proxyUrl: string): () => void {
  return applyEnv({ HTTPS_PROXY: proxyUrl, https_proxy: proxyUrl, NO_PROXY: '', no_proxy: '' })
}
