/**
 * A local Azure to run the bundled action against, with the action's inputs for it, its end state
 * and the secrets it issued at hand. All labs share their CA and signing keys, so that any number
 * can run side by side.
 */
import { runAction, type ActionRun, type ActionRunOptions } from './action.js'
import {
  defaultScenario,
  startEmulator,
  type Emulator,
  type Scenario,
  type Service
} from './emulator.js'
import { endState, type EndState } from './end-state.js'
import { actionInputs, type IdentityMode } from './inputs.js'
import { secretLeaks } from './secrets.js'
import { sharedStateDir } from './state-dir.js'

/** A short per-attempt timeout for the action, so that a stalled response costs little. */
export const REQUEST_TIMEOUT_MS = 2_000

/** How often the action polls a long-running operation that comes without a Retry-After. */
export const POLL_INTERVAL_MS = 40

/**
 * How long the action watches for a write whose answer was lost before it repeats it: the local
 * Azure's writes land at once.
 */
export const LOST_ANSWER_WAIT_MS = 1_000

export interface LabRunOptions extends Omit<ActionRunOptions, 'env'> {
  /** Shortens the action's per-attempt timeout; otherwise it keeps its own. */
  requestTimeoutMs?: number
}

export class Lab {
  private constructor(readonly emulator: Emulator) {}

  /**
   * Starts a local Azure on a free port from `scenario` (default: the default scenario);
   * `extraServices` are consulted before the built-in ones (a test double for one host).
   */
  static async start(
    scenario: Scenario = defaultScenario(),
    extraServices?: Service[]
  ): Promise<Lab> {
    return new Lab(
      await startEmulator({
        scenario,
        stateDir: await sharedStateDir('cmk-testkit-state'),
        quiet: true,
        extraServices
      })
    )
  }

  /**
   * The variables a client of this local Azure needs, and a short poll interval for the action: the
   * test scenarios' services ask for no pause (Retry-After: 0), which the Azure SDK reads as "use
   * your own interval".
   */
  get env(): Record<string, string> {
    return {
      ...this.emulator.env,
      COSMOS_CMK_POLL_INTERVAL_MS: String(POLL_INTERVAL_MS),
      COSMOS_CMK_LOST_ANSWER_WAIT_MS: String(LOST_ANSWER_WAIT_MS)
    }
  }

  /** The action's inputs for `account` (see `actionInputs`), with a five-minute deadline. */
  inputs(
    account: string,
    mode?: IdentityMode,
    extra: Record<string, string> = {}
  ): Record<string, string> {
    return actionInputs(this.env, account, mode, { 'timeout-minutes': '5', ...extra })
  }

  /** Runs the bundled action against this local Azure as a runner would. */
  run(inputs: Record<string, string>, options: LabRunOptions = {}): Promise<ActionRun> {
    const { requestTimeoutMs, ...rest } = options
    return runAction(inputs, {
      timeoutMs: 150_000,
      ...rest,
      env: {
        ...this.env,
        ...(requestTimeoutMs ? { COSMOS_CMK_REQUEST_TIMEOUT_MS: String(requestTimeoutMs) } : {})
      }
    })
  }

  endState(): EndState {
    return endState(this.emulator)
  }

  /** Every secret of this local Azure that shows up in what the runs wrote. */
  leaks(...runs: ActionRun[]): string[] {
    const issued = this.emulator.tokens.issued()
    const { ACTIONS_ID_TOKEN_REQUEST_TOKEN: requestToken, GITHUB_TOKEN: githubToken } = this.env
    const secrets = [requestToken, githubToken].filter((s): s is string => s !== undefined)
    return runs.flatMap(run => secretLeaks(run, issued, secrets))
  }

  stop(): Promise<void> {
    return this.emulator.stop()
  }
}

export const startLab = (scenario?: Scenario, extraServices?: Service[]): Promise<Lab> =>
  Lab.start(scenario, extraServices)

/** Runs `work` on a lab started from `scenario`, and stops the lab however `work` ends. */
export async function withLab<T>(
  scenario: Scenario | undefined,
  work: (lab: Lab) => Promise<T>
): Promise<T> {
  const lab = await Lab.start(scenario)
  try {
    return await work(lab)
  } finally {
    await lab.stop()
  }
}
