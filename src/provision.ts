import type { TokenCredential } from '@azure/core-auth'
import { startSignIn, type SignIn } from './auth/sign-in.js'
import type { AzureApis } from './azure/api.js'
import { createAzureApis } from './azure/clients.js'
import { defaultTransport, type TransportSettings } from './azure/transport.js'
import { systemClock, type Clock } from './clock.js'
import { getCloud } from './cloud.js'
import { accountNames, type Inputs } from './inputs/settings.js'
import type { ActionOutputs } from './outputs.js'
import { FleetFailure, provision } from './modes/apply.js'
import { teardown } from './modes/teardown.js'
import { verify } from './modes/verify.js'
import type { Runner } from './runner/runner.js'
import { nodeSecretFiles, type SecretFiles } from './secret-file.js'
import {
  defaultWaitLimits,
  logFor,
  record,
  type AccountPhases,
  type Phases,
  type StepContext,
  type StepRecord,
  type WaitLimits
} from './steps/context.js'
import { Step, type StepName } from './steps/names.js'
import { readDataPlaneAhead } from './steps/observe.js'
import { ProvisioningError } from './provisioning-error.js'
import { Timeline, type Span } from './timeline.js'

export interface ProvisioningDeps {
  runner: Runner
  /** Default: the credential for `auth-type`. */
  credential?: TokenCredential
  /** The sign-in, when `run` started it before loading the Azure SDKs. */
  signIn?: SignIn
  /** Default: the Azure SDK clients, built on `credential`. */
  apis?: AzureApis
  clock?: Clock
  /** Aborts everything (the action wires `timeout-minutes` to it). */
  signal?: AbortSignal
  transport?: Partial<TransportSettings>
  waits?: Partial<WaitLimits>
  /** Default: the file system. */
  secretFiles?: SecretFiles
  /** Where the Azure SDK's own log (AZURE_LOG_LEVEL) goes, token-free; default: unchanged. */
  sdkLog?: (line: string) => void
}

export interface ProvisioningResult {
  mode: Inputs['mode']
  changed: boolean
  outputs: ActionOutputs
  records: StepRecord[]
  /** Where the run's time went, step by step (see timeline-chart.ts). */
  timeline: Span[]
}

/**
 * The whole sequence: sign in, observe everything that can be read up front, refuse before any
 * write if the run cannot succeed, then let each step write only what differs. In plan mode every
 * read is done and nothing is written.
 */
export async function runProvisioning(
  inputs: Inputs,
  deps: ProvisioningDeps
): Promise<ProvisioningResult> {
  const cloud = getCloud(inputs.environment)
  const transport = { ...defaultTransport, ...deps.transport }
  const records: StepRecord[] = []
  const clock = deps.clock ?? systemClock
  // Ends whatever may still run in the background (a registration wait) once the run is over.
  const run = new AbortController()
  const forward = () => run.abort(deps.signal?.reason)
  if (deps.signal?.aborted) forward()
  deps.signal?.addEventListener('abort', forward, { once: true })
  const signal = run.signal
  const signIn =
    deps.signIn ??
    startSignIn({
      inputs,
      runner: deps.runner,
      transport,
      signal,
      credential: deps.credential,
      clock,
      sdkLog: deps.sdkLog
    })
  const { credential, principal: signedIn, timeline } = signIn
  const blame = new Blame(deps.runner, timeline)

  try {
    // Built while the token exchanges travel.
    const apis =
      deps.apis ??
      createAzureApis({
        credential,
        cloud,
        subscriptionId: inputs.subscriptionId,
        transport,
        signal,
        fleet: accountNames(inputs).length > 1
      })
    // Requests of the observation, on its part of the timeline; none if sign-in is refused early.
    const dataPlaneAhead = (await signIn.underway)
      ? await timeline.within(Step.Observe, async () =>
          readDataPlaneAhead({ inputs, cloud, apis, principal: signedIn })
        )
      : undefined
    const principal = await blame.phase(Step.SignIn, () => signedIn)
    const ctx: StepContext = {
      inputs,
      cloud,
      apis,
      clock,
      signal,
      log: logFor(deps.runner),
      waits: {
        ...defaultWaitLimits,
        minDelayMs: Math.min(defaultWaitLimits.minDelayMs, transport.pollIntervalMs),
        unknownOutcomeMs: transport.lostAnswerWaitMs,
        ...deps.waits
      },
      plan: inputs.mode === 'plan' || inputs.mode === 'plan-teardown',
      principal,
      dataPlaneAhead,
      tags: { ...deps.runner.resourceTags(), ...inputs.tags },
      records,
      secretFiles: deps.secretFiles ?? nodeSecretFiles,
      changed: false
    }
    record(ctx, {
      step: Step.SignIn,
      observed: `${inputs.auth.type}: object ${principal.objectId}, tenant ${principal.tenantId}`,
      action: 'none',
      result: 'ok'
    })
    if (ctx.plan) ctx.log.info('mode: plan: reading everything, writing nothing.')
    const outputs = await modes[inputs.mode](ctx, blame)
    return {
      mode: inputs.mode,
      changed: ctx.changed,
      outputs,
      records,
      timeline: timeline.spans()
    }
  } catch (error) {
    if (error instanceof FleetFailure) {
      // Each failed account has its row already; the others' outputs stand.
      throw new ProvisioningError(error, Step.Account, records, timeline.spans(), error.outputs)
    }
    const step = blame.failedStep()
    records.push({ step, observed: '', action: '', result: 'failed' })
    throw new ProvisioningError(error, step, records, timeline.spans())
  } finally {
    deps.signal?.removeEventListener('abort', forward)
    run.abort(new Error('The run is over.'))
  }
}

/**
 * Runs phases in log groups, remembers which step failed first, and puts the time of each step on
 * the run's timeline.
 */
class Blame implements Phases {
  private current: StepName = Step.SignIn
  // The step that failed first, when steps run side by side or one joins another.
  private failedIn?: StepName

  constructor(
    private readonly runner: Runner,
    private readonly timeline: Timeline
  ) {}

  phase = async <T>(name: StepName, work: () => Promise<T>): Promise<T> => {
    this.current = name
    return this.runner.group(name, () => this.timeline.within(name, work))
  }

  step = async <T>(name: StepName, work: () => Promise<T>): Promise<T> => {
    try {
      return await this.timeline.within(name, work)
    } catch (error) {
      this.failedIn ??= name
      throw error
    }
  }

  forAccount = (account: string): AccountPhases => {
    let failedIn: StepName | undefined
    const step = async <T>(name: StepName, work: () => Promise<T>): Promise<T> => {
      try {
        return await this.timeline.within(name, work, account)
      } catch (error) {
        failedIn ??= name
        throw error
      }
    }
    return { phase: step, step, forAccount: this.forAccount, failedStep: () => failedIn }
  }

  failedStep(): StepName {
    return this.failedIn ?? this.current
  }
}

/** Every mode is a walk over the same steps. */
const modes: Record<Inputs['mode'], (ctx: StepContext, phases: Phases) => Promise<ActionOutputs>> =
  {
    apply: provision,
    plan: provision,
    prepare: provision,
    verify,
    teardown,
    'plan-teardown': teardown
  }
