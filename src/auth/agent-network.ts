import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import tls from 'node:tls'
import { ActionError } from '../errors.js'

/**
 * A self-hosted agent's network settings (Agent.ProxyUrl, Agent.CAInfo) are agent variables, not
 * the HTTPS_PROXY and NODE_EXTRA_CA_CERTS a Node process and the Azure SDKs read: this module makes
 * every request of the task (ID token, sign-in, ARM, Managed HSM, Graph) go through that proxy and
 * trust that CA.
 */

/** Set in the restarted process, so that it does not restart again. */
const RESTARTED = 'COSMOS_CMK_AGENT_CA_RESTARTED'

const canTrustInProcess = () =>
  typeof (tls as { setDefaultCACertificates?: unknown }).setDefaultCACertificates === 'function'

/**
 * Node reads NODE_EXTRA_CA_CERTS only at start-up and, before Node 24, cannot add a CA to a running
 * process: there, with Agent.CAInfo set, the task runs itself again in a child process that trusts
 * it, with the same arguments and environment, and exits as the child does. Must run before
 * anything reads the environment (the task library moves inputs out of it when it loads).
 */
export function restartToTrustAgentCa(env: NodeJS.ProcessEnv = process.env): void {
  const ca = env.AGENT_CAINFO?.trim()
  if (!ca || canTrustInProcess() || env[RESTARTED] === ca || !existsSync(ca)) return
  let bundle = ca
  const extra = env.NODE_EXTRA_CA_CERTS
  if (extra && extra !== ca && existsSync(extra)) {
    bundle = join(env.AGENT_TEMPDIRECTORY || tmpdir(), `cosmos-cmk-ca-${process.pid}.pem`)
    writeFileSync(bundle, `${readFileSync(extra, 'utf8')}\n${readFileSync(ca, 'utf8')}\n`)
  }
  const child = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...env, NODE_EXTRA_CA_CERTS: bundle, [RESTARTED]: ca }
  })
  process.exit(child.status ?? 1)
}

/** Adds the certificates of the agent's CA file to the ones every new TLS connection trusts. */
export function trustAgentCa(caFile: string | undefined): void {
  if (!caFile || !canTrustInProcess()) return
  let pem: string
  try {
    pem = readFileSync(caFile, 'utf8')
  } catch (error) {
    throw new ActionError(
      `The agent's CA certificate file (Agent.CAInfo) '${caFile}' cannot be read: ${(error as Error).message}.`
    )
  }
  const certificates = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)
  if (!certificates?.length) {
    throw new ActionError(
      `The agent's CA certificate file (Agent.CAInfo) '${caFile}' holds no PEM certificate.`
    )
  }
  const current = tls.getCACertificates('default')
  const known = new Set(current.map(c => c.replace(/\s+/g, '')))
  const added = certificates.filter(c => !known.has(c.replace(/\s+/g, '')))
  if (added.length) tls.setDefaultCACertificates([...current, ...added])
}

export interface AgentProxy {
  proxyUrl: string
  /** The proxy URL with the agent's proxy credentials in it. */
  proxyFormattedUrl?: string
  /** Regular expressions of URLs that bypass the proxy (Agent.ProxyBypassList). */
  proxyBypassHosts?: string[]
}

/**
 * Points HTTPS_PROXY (which the Azure SDK pipelines read when they are built) at the agent's
 * proxy, and NO_PROXY at the bypass entries that name hosts. Answers the entries that are regular
 * expressions no host list can say, which then go through the proxy.
 */
export function useAgentProxy(
  proxy: AgentProxy | null | undefined,
  env: NodeJS.ProcessEnv = process.env
): string[] {
  if (!proxy?.proxyUrl) return []
  const url = proxy.proxyFormattedUrl || proxy.proxyUrl
  env.HTTPS_PROXY = env.https_proxy = url
  env.HTTP_PROXY = env.http_proxy = url
  const hosts: string[] = []
  const unusable: string[] = []
  for (const entry of proxy.proxyBypassHosts ?? []) {
    const host = bypassHost(entry)
    if (host) hosts.push(host)
    else unusable.push(entry)
  }
  env.NO_PROXY = env.no_proxy = hosts.join(',')
  return unusable
}

/** `^host\.example\.com$` as `host.example.com`, `\.example\.com$` as `.example.com`. */
function bypassHost(pattern: string): string | undefined {
  const body = pattern
    .trim()
    .replace(/^\^?(https?:\/\/)?/, '')
    .replace(/^\.\*/, '')
    .replace(/(\/\.\*)?\$?$/, '')
  const host = body.replace(/\\\./g, '.')
  return /^\.?[a-z0-9-]+(\.[a-z0-9-]+)*$/i.test(host) ? host.toLowerCase() : undefined
}
