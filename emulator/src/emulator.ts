import { randomUUID } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { EventEmitter } from 'node:events'
import type { FaultRule, Scenario } from './core/scenario-types.js'
import type { Service, Timing } from './core/service.js'
import type { Store } from './core/store.js'
import type { FaultCounts } from './core/faults.js'
import type { RequestLogEntry } from './core/request-log.js'
import { DEFAULT_SCENARIO_PATH, loadScenarioFile } from './core/scenario.js'
import { resolveStateDir } from './core/state-dir.js'
import { loadOrCreateSigningKey } from './core/signing-key.js'
import { TokenAuthority, type IssuedTokens } from './core/tokens.js'
import { GITHUB_RUNNER_HOST } from './core/hosts.js'
import { LocalCa } from './tls/local-ca.js'
import { LocalAzure, type PendingRequest, type RequestInterceptor } from './server/local-azure.js'
import { ProxyServer } from './server/proxy-server.js'
import { ADMIN_PREFIX, createAdminHandler } from './server/admin-api.js'
import { emulatorEnv } from './env.js'
import {
  configureGitHubApi,
  gitHubApiView,
  type GitHubApiChanges
} from './services/github/settings.js'
import { agentEnv } from './services/devops/agent-env.js'
import type { PipelineRun } from './services/devops/pipeline-run.js'
import { armChargeOf, drainArmBudget } from './model/arm-throttle.js'

export interface EmulatorOptions {
  /** 0 (default) picks any free port. Always bound to 127.0.0.1. */
  port?: number
  /**
   * Where the CA, its host certificates and the signing keys are kept; default `.emulator-state` in
   * the working directory.
   */
  stateDir?: string
  /** A scenario or the path of a scenario JSON file; default emulator/scenarios/default.json. */
  scenario?: Scenario | string
  /** Suppresses the start-up line on stderr. */
  quiet?: boolean
  /** More services, consulted before the built-in ones (e.g. a test double for one host). */
  extraServices?: Service[]
}

export interface TestAccessTokenOptions {
  /** The app whose service principal the token names; default the scenario's first application. */
  appId?: string
  /** Overrides the `oid` claim (e.g. a managed identity's principal id). */
  objectId?: string
  audience?: string
  tenantId?: string
  /** Seconds until expiry; 0 or negative gives an already expired token. Default 3600. */
  expiresInSeconds?: number
}

export interface TestIdTokenOptions {
  subject?: string
  audience?: string
  repository?: string
  /** Seconds until expiry; 0 or negative gives an already expired token. Default idTokenLifetimeSeconds. */
  expiresInSeconds?: number
}

/** A running local Azure. */
export class Emulator {
  readonly proxyUrl: string
  readonly adminUrl: string
  readonly idTokenRequestUrl: string

  constructor(
    private readonly azure: LocalAzure,
    private readonly server: ProxyServer,
    readonly port: number,
    readonly stateDir: string,
    readonly caCertPath: string,
    readonly caCertPem: string,
    runnerPath: string
  ) {
    this.proxyUrl = `http://127.0.0.1:${port}`
    this.adminUrl = `${this.proxyUrl}${ADMIN_PREFIX}`
    this.idTokenRequestUrl = `https://${GITHUB_RUNNER_HOST}${runnerPath}?api-version=2.0`
  }

  /** Every variable a client needs (proxy, CA, GitHub OIDC, AZURE_* names from the scenario). */
  get env(): Record<string, string> {
    return emulatorEnv({
      proxyUrl: this.proxyUrl,
      caCertPath: this.caCertPath,
      idTokenRequestUrl: this.idTokenRequestUrl,
      idTokenRequestToken: this.azure.workflow.requestToken,
      githubToken: this.azure.workflow.token,
      scenario: this.azure.scenario,
      azurePipelinesAgent: this.azurePipelinesAgentEnv()
    })
  }

  /**
   * The variables an Azure Pipelines agent gives a task in the scenario's pipeline job, with the
   * service connection `connectionId` (default: the first) as `ENDPOINT_*` variables; empty when the
   * scenario has no Azure DevOps block.
   */
  azurePipelinesAgentEnv(connectionId?: string): Record<string, string> {
    const run = this.azure.pipelineRun
    if (!run) return {}
    const connection = connectionId
      ? run.serviceConnections.find(c => c.id === connectionId.toLowerCase())
      : run.serviceConnections[0]
    if (connectionId && !connection) {
      throw new Error(
        `The scenario's Azure DevOps project has no service connection ${connectionId}.`
      )
    }
    return agentEnv(run, connection, join(this.stateDir, 'agent-temp'))
  }

  /** The scenario's Azure DevOps pipeline run, changed in place to rename or re-issue a connection. */
  get azureDevOps(): PipelineRun | undefined {
    return this.azure.pipelineRun
  }

  get store(): Store {
    return this.azure.store
  }

  get scenario(): Scenario {
    return this.azure.scenario
  }

  get timing(): Timing {
    return this.azure.timing
  }

  /** The request log (entries after `since`, all by default). */
  requests(since?: number): RequestLogEntry[] {
    return this.azure.log.list(since)
  }

  clearRequests(): void {
    this.azure.log.clear()
  }

  /** Rebuilds the world (and timing, faults, GitHub subject) from the loaded scenario. */
  reset(): void {
    this.azure.reset()
  }

  loadScenario(scenario: Scenario | string): void {
    this.azure.loadScenario(typeof scenario === 'string' ? loadScenarioFile(scenario) : scenario)
  }

  setTiming(patch: Partial<Timing>): Timing {
    return this.azure.setTiming(patch)
  }

  faults(): FaultRule[] {
    return this.azure.faults.rules
  }

  /** Replaces the fault rules; restarts their seeded random streams and the counts. */
  setFaults(rules: FaultRule[]): void {
    this.azure.setFaults(rules)
  }

  faultCounts(): FaultCounts {
    return this.azure.faults.faultCounts()
  }

  setGitHubSubject(subject: string, repository?: string): void {
    this.azure.setGitHubSubject(subject, repository)
  }

  /**
   * The emulated GitHub (`api.github.com`): with `changes`, first changes GITHUB_TOKEN's
   * permission, the rate limits or the pull requests (as `PUT /_emulator/github`).
   */
  github(changes?: GitHubApiChanges): ReturnType<typeof gitHubApiView> {
    const world = this.azure.store.world
    return changes
      ? configureGitHubApi(world, changes, this.azure.now())
      : gitHubApiView(world, this.azure.now())
  }

  /**
   * Empties the Resource Manager budget (model/arm-throttle.ts) that a request with this method
   * and path by `principal` spends, as other requests of the same identity would. False, and
   * nothing done, for reads, requests outside a subscription, or while the timing sets no limit.
   */
  drainArmBudget(request: { method: string; path: string; principal: string }): boolean {
    const charge = armChargeOf(request.method.toUpperCase(), request.path)
    if (!charge) return false
    const azure = this.azure
    return drainArmBudget(azure.store.world, azure.timing, charge, request.principal, azure.now())
  }

  /** Moves the emulator's clock forward, e.g. to expire tokens or finish operations. */
  advanceClock(ms: number): void {
    this.azure.advanceClock(ms)
  }

  now(): number {
    return this.azure.now()
  }

  /** Installs (or removes) a hook that may reset a request's connection before it is served. */
  intercept(interceptor: RequestInterceptor | undefined): void {
    this.azure.interceptor = interceptor
  }

  on(event: 'request', listener: (entry: RequestLogEntry) => void): this
  on(event: 'before-request', listener: (request: PendingRequest) => void): this
  on(event: 'request' | 'before-request', listener: (arg: never) => void): this {
    ;(this.azure as EventEmitter).on(event, listener as (...args: unknown[]) => void)
    return this
  }

  off(event: 'request' | 'before-request', listener: (arg: never) => void): this {
    ;(this.azure as EventEmitter).off(event, listener as (...args: unknown[]) => void)
    return this
  }

  /** Tokens signed by the emulator's keys, for tests that need one without a full sign-in. */
  get tokens() {
    const azure = this.azure
    return {
      accessToken(o: TestAccessTokenOptions = {}): string {
        const world = azure.store.world
        const app = o.appId
          ? world.applications[o.appId.toLowerCase()]
          : Object.values(world.applications)[0]
        const expiresIn = o.expiresInSeconds ?? 3600
        const lifetime = expiresIn > 0 ? expiresIn : 3600
        const now = azure.now() + (expiresIn > 0 ? 0 : (expiresIn - lifetime) * 1000)
        return azure.tokens.issueAccessToken({
          tenantId: o.tenantId ?? world.tenantId,
          appId: app?.appId ?? o.appId ?? '00000000-0000-0000-0000-000000000000',
          objectId: o.objectId ?? app?.servicePrincipalId ?? '00000000-0000-0000-0000-000000000000',
          audience: o.audience ?? 'https://management.azure.com',
          lifetimeSeconds: lifetime,
          now,
          credential: 'assertion'
        }).token
      },
      githubIdToken(o: TestIdTokenOptions = {}): string {
        const wf = azure.workflow
        const expiresIn = o.expiresInSeconds ?? azure.timing.idTokenLifetimeSeconds
        const lifetime = expiresIn > 0 ? expiresIn : 300
        const now = azure.now() + (expiresIn > 0 ? 0 : (expiresIn - lifetime) * 1000)
        return azure.tokens.issueGitHubIdToken({
          subject: o.subject ?? wf.subject,
          audience: o.audience ?? 'api://AzureADTokenExchange',
          repository: o.repository ?? wf.repository,
          lifetimeSeconds: lifetime,
          now
        }).token
      },
      /**
       * Every access token and GitHub ID token (client assertion) issued so far, for tests that
       * check that no output ever contains one. Not exposed by the admin API.
       */
      issued(): IssuedTokens {
        return azure.tokens.issued()
      }
    }
  }

  async stop(): Promise<void> {
    await this.server.close()
    this.azure.removeAllListeners()
    this.azure.interceptor = undefined
  }
}

/** Starts the local Azure on 127.0.0.1 and resolves once it listens. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const scenario =
    typeof options.scenario === 'object'
      ? options.scenario
      : loadScenarioFile(options.scenario ?? DEFAULT_SCENARIO_PATH)
  const stateDir = resolveStateDir(options.stateDir)
  const ca = await LocalCa.loadOrCreate(stateDir)
  const tokens = new TokenAuthority(
    loadOrCreateSigningKey(stateDir, 'entra-signing-key.pem'),
    loadOrCreateSigningKey(stateDir, 'github-signing-key.pem'),
    loadOrCreateSigningKey(stateDir, 'azure-devops-signing-key.pem')
  )
  mkdirSync(join(stateDir, 'agent-temp'), { recursive: true })
  const azure = new LocalAzure(scenario, tokens, options.extraServices)
  const runnerPath =
    '/local-azure/00000000-0000-0000-0000-000000000000/_apis/distributedtask/hubs/Actions/' +
    `plans/${randomUUID()}/jobs/${randomUUID()}/idtoken`
  const started: { emulator?: Emulator } = {}
  const server = new ProxyServer(
    azure,
    ca,
    createAdminHandler(azure, () => ({
      port: started.emulator?.port ?? 0,
      caCertPath: ca.certPath,
      idTokenRequestUrl: started.emulator?.idTokenRequestUrl ?? '',
      env: started.emulator?.env ?? {}
    }))
  )
  const port = await server.listen(options.port ?? 0)
  const emulator = new Emulator(azure, server, port, stateDir, ca.certPath, ca.certPem, runnerPath)
  started.emulator = emulator
  if (!options.quiet) {
    process.stderr.write(
      `Local Azure listening on ${emulator.proxyUrl} (admin ${emulator.adminUrl}/health, CA ${ca.certPath})\n`
    )
  }
  return emulator
}
