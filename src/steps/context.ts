import type { AzureApis, HsmKeyState, RoleAssignment } from '../azure/api.js'
import { defaultTransport } from '../azure/transport.js'
import { mapLimited, whileWaiting } from '../concurrency.js'
import type { Clock } from '../clock.js'
import type { AzureCloud } from '../cloud.js'
import { accountNames, type Inputs } from '../inputs/settings.js'
import { hsmBaseUri, keyUriFor } from '../key-uri.js'
import { sanitize } from '../sanitize.js'
import type { SecretFiles } from '../secret-file.js'
import { beginSpan } from '../timeline.js'
import {
  retryWhile,
  seconds,
  waitDefaults,
  waitFor,
  type Pending,
  type WaitKind,
  type WaitOptions
} from '../wait.js'
import type { StepName } from './names.js'

export type StepResult = 'ok' | 'changed' | 'would-change' | 'skipped' | 'warning' | 'failed'

/** One row of the job summary: what a step saw, what it did (or would do), and how it ended. */
export interface StepRecord {
  step: StepName
  /** In a fleet: the account the step worked on; none for the steps the accounts share. */
  account?: string
  observed: string
  action: string
  result: StepResult
}

/** Upper bounds of each eventual-consistency wait (the run's own deadline bounds them all). */
export interface WaitLimits {
  providerRegistrationMs: number
  hsmProvisioningMs: number
  activationMs: number
  rbacPropagationMs: number
  principalReplicationMs: number
  keyAccessMs: number
  accountProvisioningMs: number
  /** How long a write whose answer was lost may still take to show (the transport's lostAnswerWaitMs). */
  unknownOutcomeMs: number
  /** Bounds of the pause between two polls (see nextDelay in wait.ts). */
  minDelayMs: number
  maxDelayMs: number
  progressEveryMs: number
}

export const defaultWaitLimits: WaitLimits = {
  providerRegistrationMs: 15 * 60_000,
  hsmProvisioningMs: 60 * 60_000,
  activationMs: 30 * 60_000,
  rbacPropagationMs: 15 * 60_000,
  principalReplicationMs: 15 * 60_000,
  keyAccessMs: 20 * 60_000,
  accountProvisioningMs: 45 * 60_000,
  unknownOutcomeMs: defaultTransport.lostAnswerWaitMs,
  ...waitDefaults
}

export interface Log {
  info(message: string): void
  warning(message: string): void
  debug(message: string): void
}

export interface SignedInPrincipal {
  objectId: string
  tenantId: string
}

export interface StepContext {
  inputs: Inputs
  cloud: AzureCloud
  apis: AzureApis
  clock: Clock
  signal?: AbortSignal
  log: Log
  waits: WaitLimits
  plan: boolean
  principal: SignedInPrincipal
  /** Tags for every resource the run creates. */
  tags: Record<string, string>
  records: StepRecord[]
  /** Where the security domain is written. */
  secretFiles: SecretFiles
  /** Set when the run (in an account's context: the account's steps) wrote anything. */
  changed: boolean
  /** In a fleet: the account this context's steps work on (see accountContext). */
  account?: string

  /** The Azure Cosmos DB first-party principal, once looked up. */
  firstPartyPrincipal?: Promise<string>
  /** The HSM's data-plane reads the run started while it signed in; the observation takes them. */
  dataPlaneAhead?: DataPlaneAhead
}

/**
 * The key and the signed-in principal's grants at /keys, read at the host the HSM's name gives
 * before ARM has said where the HSM is (see readDataPlaneAhead); undefined: not readable yet.
 */
export interface DataPlaneAhead {
  /** The reads, if they went to `hsmUri`; they are cancelled otherwise, at `cancel`. */
  at(
    hsmUri: string
  ): Promise<[{ key?: HsmKeyState } | undefined, RoleAssignment[] | undefined]> | undefined
  /** Cancels the reads unless they counted. */
  cancel(): void
}

export function record(ctx: StepContext, entry: StepRecord): StepRecord {
  ctx.records.push(ctx.account ? { ...entry, account: ctx.account } : entry)
  if (entry.result === 'changed') ctx.changed = true
  if (entry.result === 'would-change') ctx.changed = true
  const verb = entry.result === 'would-change' ? 'would' : entry.result
  ctx.log.info(`${entry.step}: ${entry.observed} -> ${entry.action} [${verb}]`)
  return entry
}

type WaitSettings = 'clock' | 'log' | 'signal' | 'minDelayMs' | 'maxDelayMs' | 'progressEveryMs'
/** A step's wait says what it waits for, so that the run's timeline can tell. */
type StepWait = { kind: WaitKind }

export function waitIn<T>(
  ctx: StepContext,
  options: Omit<WaitOptions<T>, WaitSettings> & StepWait
): Promise<T> {
  return waitFor({ ...waitSettings(ctx), ...options })
}

export function retryIn<T>(
  ctx: StepContext,
  operation: () => Promise<T>,
  pending: (error: unknown) => string | Pending | undefined,
  options: Omit<WaitOptions<T>, 'poll' | WaitSettings> & StepWait
): Promise<T> {
  return retryWhile(operation, pending, { ...waitSettings(ctx), ...options })
}

function waitSettings(ctx: StepContext) {
  return {
    // A fleet's account gives its place to the next account while it pauses between polls.
    clock: { now: () => ctx.clock.now(), sleep: pausing(ctx.clock) },
    log: (message: string) => ctx.log.info(message),
    signal: ctx.signal,
    minDelayMs: ctx.waits.minDelayMs,
    maxDelayMs: ctx.waits.maxDelayMs,
    progressEveryMs: ctx.waits.progressEveryMs
  }
}

/**
 * Logs a steady progress line while a long SDK operation (an LRO the SDK polls itself at the
 * interval Azure asks for) is running, and puts it on the run's timeline.
 */
export async function withHeartbeat<T>(
  ctx: Pick<StepContext, 'clock' | 'log' | 'waits'>,
  what: string,
  work: Promise<T>
): Promise<T> {
  const started = ctx.clock.now()
  const operation = beginSpan('operation', what)
  ctx.log.info(`Started: ${what}.`)
  const timer = setInterval(() => {
    ctx.log.info(`Still waiting for ${what} (${seconds(ctx.clock.now() - started)} so far).`)
  }, ctx.waits.progressEveryMs)
  timer.unref?.()
  try {
    const result = await work
    ctx.log.info(`Finished after ${seconds(ctx.clock.now() - started)}: ${what}.`)
    return result
  } finally {
    clearInterval(timer)
    operation?.()
  }
}

function pausing(clock: Clock): Clock['sleep'] {
  return (ms, signal) => whileWaiting(() => clock.sleep(ms, signal))
}

export function logFor(runner: {
  info(m: string): void
  warning(m: string): void
  debug(m: string): void
}): Log {
  return {
    info: m => runner.info(sanitize(m)),
    warning: m => runner.warning(sanitize(m)),
    debug: m => runner.debug(sanitize(m))
  }
}

/** How the orchestrator runs steps: log groups, and the step to blame when one fails. */
export interface Phases {
  /** A step (or steps) on its own: a log group, and the step named if it fails. */
  phase<T>(name: StepName, work: () => Promise<T>): Promise<T>
  /** A step within a phase, e.g. one of several side by side: named if it fails first. */
  step<T>(name: StepName, work: () => Promise<T>): Promise<T>
  /**
   * The steps of one account of a fleet: no log groups (accounts run side by side), a lane of
   * their own on the timeline, and their own step to blame.
   */
  forAccount(account: string): AccountPhases
}

export interface AccountPhases extends Phases {
  /** The account's step that failed first, if one did. */
  failedStep(): StepName | undefined
}

/**
 * The context of one account of a fleet: its inputs name that account alone, its records and log
 * lines carry its name, and `changed` tells what its own steps wrote.
 */
export function accountContext(ctx: StepContext, account: string): StepContext {
  const prefix = (message: string) => `[${account}] ${message}`
  return {
    ...ctx,
    inputs: { ...ctx.inputs, account: { ...ctx.inputs.account, name: account, others: [] } },
    log: {
      info: m => ctx.log.info(prefix(m)),
      warning: m => ctx.log.warning(prefix(m)),
      debug: m => ctx.log.debug(prefix(m))
    },
    changed: false,
    account
  }
}

/**
 * Runs `work` for each account the inputs name, `limit` at a time; in a fleet each gets its own
 * context (log lines prefixed with its name, its own `changed`), a single account the run's.
 */
export function eachAccount<R>(
  ctx: StepContext,
  limit: number,
  work: (actx: StepContext, name: string) => Promise<R>
): Promise<R[]> {
  const names = accountNames(ctx.inputs)
  const fleet = names.length > 1
  return mapLimited(names, limit, name => work(fleet ? accountContext(ctx, name) : ctx, name))
}

/** Base URI of the run's HSM data plane, without a trailing slash: ARM's `hsmUri` once it is known. */
export function dataPlaneUri(ctx: StepContext, hsm?: { hsmUri?: string }): string {
  return hsmBaseUri(ctx.cloud, ctx.inputs.hsm.name, hsm?.hsmUri)
}

/** The versionless URI of the run's key on the run's HSM. */
export function runKeyUri(ctx: StepContext, hsm?: { hsmUri?: string }): string {
  return keyUriFor(dataPlaneUri(ctx, hsm), ctx.inputs.key.name)
}
