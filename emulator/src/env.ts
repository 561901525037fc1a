import tls from 'node:tls'
import type { Scenario } from './core/scenario-types.js'

/** The variables a client process needs to reach the local Azure (see Emulator.env). */
export function emulatorEnv(o: {
  proxyUrl: string
  caCertPath: string
  idTokenRequestUrl: string
  idTokenRequestToken: string
  scenario: Scenario
}): Record<string, string> {
  const s = o.scenario
  const d = s.defaults ?? {}
  const sub =
    s.subscriptions.find(x => x.subscriptionId.toLowerCase() === d.subscriptionId?.toLowerCase()) ??
    s.subscriptions[0]
  const groups = sub?.resourceGroups ?? []
  const rg = groups.find(g => g.name.toLowerCase() === d.resourceGroup?.toLowerCase()) ?? groups[0]
  const hsm = d.hsmName ?? groups.flatMap(g => g.managedHsms ?? [])[0]?.name
  const uaiName =
    d.userAssignedIdentity ?? groups.flatMap(g => g.userAssignedIdentities ?? [])[0]?.name
  const uaiGroup = groups.find(g => g.userAssignedIdentities?.some(u => u.name === uaiName))
  const env: Record<string, string | undefined> = {
    HTTPS_PROXY: o.proxyUrl,
    https_proxy: o.proxyUrl,
    NO_PROXY: '',
    no_proxy: '',
    NODE_EXTRA_CA_CERTS: o.caCertPath,
    REQUESTS_CA_BUNDLE: o.caCertPath,
    ACTIONS_ID_TOKEN_REQUEST_URL: o.idTokenRequestUrl,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: o.idTokenRequestToken,
    AZURE_TENANT_ID: s.tenantId,
    AZURE_CLIENT_ID: d.clientId ?? s.applications?.[0]?.appId,
    AZURE_SUBSCRIPTION_ID: d.subscriptionId ?? sub?.subscriptionId,
    AZURE_RESOURCE_GROUP: d.resourceGroup ?? rg?.name,
    AZURE_LOCATION: d.location ?? rg?.location,
    AZURE_HSM_NAME: hsm,
    AZURE_USER_ASSIGNED_IDENTITY: uaiName,
    AZURE_USER_ASSIGNED_IDENTITY_ID:
      uaiName && uaiGroup && sub
        ? `/subscriptions/${sub.subscriptionId}/resourceGroups/${uaiGroup.name}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${uaiName}`
        : undefined
  }
  return Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined)
  )
}

/** Shell lines that export the variables (`export NAME='value'`). */
export function exportLines(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([k, v]) => `export ${k}='${v.replace(/'/g, `'\\''`)}'`)
    .join('\n')
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
