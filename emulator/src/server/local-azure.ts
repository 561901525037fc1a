import { EventEmitter } from 'node:events'
import { randomBytes, randomUUID } from 'node:crypto'
import type { FaultRule, Scenario } from '../core/scenario-types.js'
import type {
  DelayKind,
  EmuRequest,
  Principal,
  Service,
  ServiceContext,
  Timing
} from '../core/service.js'
import { MemoryStore } from '../core/store.js'
import { FaultInjector } from '../core/faults.js'
import { RequestLog, type RequestLogEntry } from '../core/request-log.js'
import { TokenAuthority } from '../core/tokens.js'
import { DEFAULT_TIMING, mergeTiming, sampleDelay, timingProblems } from '../core/timing.js'
import { deriveSeed, guidFrom, seededRandom, type RandomSource } from '../core/random.js'
import { ScenarioError, validateFaultRules, validateScenario } from '../core/scenario.js'
import { managedHsmNameOf } from '../core/hosts.js'
import { buildWorld } from '../model/build-world.js'
import { advanceWorld } from '../model/advance.js'
import { createEntraService } from '../services/entra/index.js'
import { graphService } from '../services/graph/index.js'
import { armService } from '../services/arm/index.js'
import { hsmService } from '../services/hsm/index.js'
import {
  createAzureDevOpsIssuerService,
  createAzureDevOpsService
} from '../services/devops/index.js'
import {
  azureDevOpsIssuer,
  pipelineRunFromScenario,
  type PipelineRun
} from '../services/devops/pipeline-run.js'
import { sovereignServices } from './sovereign-services.js'
import {
  createGitHubApiService,
  createGitHubIssuerService,
  createGitHubRunnerService
} from '../services/github/index.js'
import {
  newInstallationToken,
  workflowFromScenario,
  repositoryOf,
  type GitHubWorkflow
} from '../model/github-workflow.js'

/** What 'before-request' listeners and interceptors learn about a request about to be served. */
export interface PendingRequest {
  method: string
  host: string
  path: string
  query: Record<string, string>
  /** The kind the request log will most likely record (GET/HEAD read, others write, tokens token). */
  kind: RequestLogEntry['kind']
  principal?: string
  service: string
}

/**
 * Decides what happens to a request before its service sees it: 'continue' serves it, 'reset'
 * drops the connection without serving it (the service never runs).
 */
export type RequestInterceptor = (
  request: PendingRequest
) => 'continue' | 'reset' | void | Promise<'continue' | 'reset' | void>

interface LocalAzureEvents {
  request: [RequestLogEntry]
  'before-request': [PendingRequest]
}

/** Everything the local Azure knows and does, independent of sockets. */
export class LocalAzure extends EventEmitter<LocalAzureEvents> {
  readonly store: MemoryStore
  readonly log = new RequestLog()
  readonly faults: FaultInjector
  readonly services: Service[]
  interceptor?: RequestInterceptor
  private currentScenario!: Scenario
  private currentTiming: Timing = DEFAULT_TIMING
  private currentWorkflow!: GitHubWorkflow
  private serviceRandom!: RandomSource
  private latencyRandom!: RandomSource
  private seedRandom!: RandomSource
  private clockOffset = 0
  private readonly generatedRequestToken = randomBytes(24).toString('base64url')
  private readonly generatedAccessToken = randomBytes(39).toString('base64url')
  private currentPipelineRun: PipelineRun | undefined
  private readonly generatedGitHubToken = newInstallationToken()

  constructor(
    scenario: Scenario,
    readonly tokens: TokenAuthority,
    extraServices: Service[] = []
  ) {
    super()
    const seedEnv = {
      now: () => this.now(),
      newGuid: () => guidFrom(this.seedRandom),
      random: () => this.seedRandom()
    }
    this.store = new MemoryStore(s => buildWorld(s, seedEnv))
    this.faults = new FaultInjector(scenario.seed ?? 1)
    const entra = createEntraService(tokens, () =>
      this.currentPipelineRun
        ? [{ issuer: azureDevOpsIssuer(this.currentPipelineRun), key: tokens.azureDevOpsKey }]
        : []
    )
    this.services = [
      ...extraServices,
      entra,
      graphService,
      armService,
      hsmService,
      createGitHubIssuerService(tokens),
      createGitHubRunnerService(tokens, () => this.currentWorkflow),
      createAzureDevOpsService(tokens, () => this.currentPipelineRun),
      createAzureDevOpsIssuerService(tokens, () => this.currentPipelineRun),
      createGitHubApiService(() => this.currentWorkflow),
      ...sovereignServices({ entra, graph: graphService, arm: armService, hsm: hsmService })
    ]
    this.loadScenario(scenario)
  }

  get scenario(): Scenario {
    return this.currentScenario
  }

  get timing(): Timing {
    return this.currentTiming
  }

  get workflow(): GitHubWorkflow {
    return this.currentWorkflow
  }

  /** The Azure DevOps pipeline run of the scenario, if it has one (changed in place by tests). */
  get pipelineRun(): PipelineRun | undefined {
    return this.currentPipelineRun
  }

  now(): number {
    return Date.now() + this.clockOffset
  }

  /** Moves the emulator's clock forward (token expiry, operation completion) without waiting. */
  advanceClock(ms: number): void {
    this.clockOffset += ms
  }

  /** Validates and loads a scenario, then resets to it. */
  loadScenario(scenario: unknown): void {
    const previous = this.currentScenario
    this.currentScenario = structuredClone(validateScenario(scenario))
    try {
      this.reset()
    } catch (e) {
      // Seeding can still reject a scenario; keep running the previous one.
      if (previous === undefined) throw e
      this.currentScenario = previous
      this.reset()
      throw new ScenarioError([`the scenario cannot be seeded: ${(e as Error)?.message ?? e}`])
    }
  }

  /** Rebuilds the world, timing, faults and GitHub workflow from the loaded scenario. */
  reset(): void {
    const s = this.currentScenario
    const seed = s.seed ?? 1
    this.seedRandom = seededRandom(deriveSeed(seed, 'seed'))
    this.serviceRandom = seededRandom(deriveSeed(seed, 'services'))
    this.latencyRandom = seededRandom(deriveSeed(seed, 'latency'))
    this.currentTiming = mergeTiming(DEFAULT_TIMING, s.timing)
    this.currentWorkflow = workflowFromScenario(
      s,
      this.generatedRequestToken,
      this.generatedGitHubToken
    )
    this.currentPipelineRun = pipelineRunFromScenario(s, this.generatedAccessToken)
    this.faults.setRules(s.faults ?? [], seed)
    this.store.reset(s)
  }

  setTiming(patch: unknown): Timing {
    const problems = timingProblems(patch)
    if (problems.length) throw new ScenarioError(problems)
    this.currentTiming = mergeTiming(this.currentTiming, patch as Partial<Timing>)
    return this.currentTiming
  }

  setFaults(rules: unknown): FaultRule[] {
    this.faults.setRules(validateFaultRules(rules))
    return this.faults.rules
  }

  setGitHubSubject(subject: string, repository?: string): GitHubWorkflow {
    if (typeof subject !== 'string' || !subject)
      throw new ScenarioError(['subject must be a non-empty string'])
    this.currentWorkflow = {
      ...this.currentWorkflow,
      subject,
      repository: repository ?? repositoryOf(subject) ?? this.currentWorkflow.repository
    }
    return this.currentWorkflow
  }

  serviceFor(host: string): Service | undefined {
    return this.services.find(s => s.matches(host))
  }

  /** Whether a CONNECT to this host is served (an HSM host only when that HSM exists). */
  isEmulatedHost(host: string): boolean {
    return this.services.some(s => s.matches(host))
  }

  hsmExists(host: string): boolean {
    const name = managedHsmNameOf(host)
    if (!name) return false
    const world = this.store.world
    return (
      Object.values(world.managedHsms).some(h => h.name.toLowerCase() === name) ||
      name in world.hsmDataPlanes
    )
  }

  /** A new key version name: 32 hex digits, as Managed HSM names versions. */
  newVersionName(): string {
    return randomUUID().replace(/-/g, '')
  }

  /** Moves the world's time-driven state to now, as every request does (admin changes). */
  advance(): void {
    advanceWorld(this.store.world, this.now(), {
      delay: (kind: DelayKind) => sampleDelay(this.currentTiming[kind], this.serviceRandom),
      newGuid: () => randomUUID()
    })
  }

  sampleLatency(): number {
    return sampleDelay(this.currentTiming.requestLatency, this.latencyRandom)
  }

  context(req: EmuRequest, principal: Principal | undefined): ServiceContext {
    return {
      req,
      world: this.store.world,
      principal,
      now: () => this.now(),
      delay: (kind: DelayKind) => sampleDelay(this.currentTiming[kind], this.serviceRandom),
      timing: this.currentTiming,
      random: () => this.serviceRandom(),
      newGuid: () => randomUUID(),
      origin: `https://${req.host}`
    }
  }

  record(entry: Omit<RequestLogEntry, 'seq'>): RequestLogEntry {
    const logged = this.log.add(entry)
    this.emit('request', logged)
    return logged
  }
}
