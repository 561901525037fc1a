import { describeError } from './errors.js'
import { parseInputs } from './inputs/parse.js'
import type { InputSource } from './inputs/reader.js'
import { accountNames, type Inputs } from './inputs/settings.js'
import type { ProvisioningDeps } from './provision.js'
import { ProvisioningError } from './provisioning-error.js'
import { firstGitHubIdToken } from './runner/github-id-token.js'
import type { Runner } from './runner/runner.js'
import { sanitize } from './sanitize.js'
import { renderInputErrorSummary, renderSummary, setOutputs } from './summary.js'
import { WaitStoppedError } from './wait.js'
import { markdownText } from './escape.js'
import type { ActionOutputs } from './outputs.js'
import { renderPlanComment } from './pr-comment/render.js'
import type { StepRecord } from './steps/context.js'

/**
 * The action: validate every input, provision within `timeout-minutes`, set the outputs and the
 * job summary, and fail with a message (never a token) when anything goes wrong. Without a
 * `runner`, it is GitHub Actions': the inputs are read and the first ID token asked for before the
 * Actions toolkit loads.
 */
export async function run(
  given?: Runner,
  deps: Omit<ProvisioningDeps, 'runner' | 'signal'> = {}
): Promise<void> {
  let inputs: Inputs
  try {
    inputs = parseInputs(given ?? githubInputs())
  } catch (error) {
    const runner = given ?? (await loadGitHubRunner())
    const message = describeError(error)
    await writeSummary(runner, renderInputErrorSummary(message))
    runner.setFailed(message)
    return
  }

  const controller = new AbortController()
  const timer = setTimeout(() => {
    const reason = new Error(`timeout-minutes (${inputs.timeoutMinutes}) reached`)
    reason.name = 'AbortError'
    controller.abort(reason)
  }, inputs.timeoutMinutes * 60_000)
  timer.unref?.()

  // Asked for now, so that the runner's answer comes while the toolkit and the Azure SDKs load.
  let firstIdToken: Promise<string> | undefined
  if (inputs.auth.type === 'oidc' && !deps.credential) {
    if (given) firstIdToken = given.getIdToken(inputs.auth.audience)
    else {
      const request = firstGitHubIdToken(inputs.auth.audience)
      firstIdToken = request.token
      await request.written
    }
  }
  firstIdToken?.catch(() => {})
  const runner = given ?? (await loadGitHubRunner())

  try {
    // Signed in before the Azure SDKs load: the token exchanges travel meanwhile.
    const { startSignIn } = await import('./auth/sign-in.js')
    const signIn = startSignIn({
      inputs,
      runner,
      transport: deps.transport,
      firstIdToken,
      signal: controller.signal,
      credential: deps.credential,
      clock: deps.clock,
      sdkLog: deps.sdkLog
    })
    const { runProvisioning } = await import('./provision.js')
    const result = await runProvisioning(inputs, {
      ...deps,
      signIn,
      runner,
      signal: controller.signal
    })
    setOutputs(runner, result.outputs)
    await writeSummary(
      runner,
      renderSummary({
        mode: inputs.mode,
        records: result.records,
        outputs: result.outputs,
        timeline: result.timeline
      })
    )
    await commentOnPullRequest(runner, inputs, { records: result.records, outputs: result.outputs })
    const unhealthy = result.records.filter(r => r.result === 'failed')
    if (inputs.mode === 'verify' && unhealthy.length) {
      runner.setFailed(
        `Verify found ${unhealthy.length} problem(s):\n${unhealthy.map(r => `- ${r.account ? `${r.account}: ` : ''}${r.step}: ${r.action.replace(/^check: /, '')}: ${r.observed}`).join('\n')}`
      )
      return
    }
    runner.info(doneMessage(inputs.mode, result.changed))
  } catch (error) {
    const failure =
      error instanceof ProvisioningError ? error : new ProvisioningError(error, 'unknown', [])
    const message = controller.signal.aborted
      ? timeoutMessage(inputs.timeoutMinutes, failure)
      : describeError(failure.cause)
    if (failure.outputs) setOutputs(runner, failure.outputs)
    await writeSummary(
      runner,
      renderSummary({
        mode: inputs.mode,
        records: failure.records,
        outputs: failure.outputs,
        failure: { step: failure.step, message },
        timeline: failure.timeline
      })
    )
    await commentOnPullRequest(runner, inputs, {
      records: failure.records,
      failure: { step: failure.step, message }
    })
    runner.setFailed(sanitize(message))
  } finally {
    clearTimeout(timer)
  }
}

/** The plan or verify result as the pull request's one comment for this account (`comment-on-pr`). */
async function commentOnPullRequest(
  runner: Runner,
  inputs: Inputs,
  result: {
    records: StepRecord[]
    outputs?: ActionOutputs
    failure?: { step: string; message: string }
  }
): Promise<void> {
  if (!inputs.prComment.enabled) return
  if (!runner.commentOnPullRequest) {
    runner.info(
      'comment-on-pr: this CI system has no pull-request comments here; the job summary has the result.'
    )
    return
  }
  const token =
    inputs.prComment.token === '${{ github.token }}' ? undefined : inputs.prComment.token
  try {
    const outcome = await runner.commentOnPullRequest({
      token,
      markdown: renderPlanComment({
        mode: inputs.mode,
        account: accountNames(inputs).join(', '),
        environment: `${inputs.environment}/${inputs.subscriptionId}`,
        ...result
      }),
      account: accountNames(inputs).join(', '),
      environment: `${inputs.environment}/${inputs.subscriptionId}`
    })
    const said =
      outcome.outcome === 'created' || outcome.outcome === 'updated'
        ? `Pull-request comment ${outcome.outcome}: ${outcome.url ?? ''}`
        : `No pull-request comment: ${outcome.reason ?? outcome.outcome}`
    runner.info(said)
    await writeSummary(runner, `\n${markdownText(said)}\n`)
  } catch (error) {
    runner.warning(`The pull-request comment could not be written: ${describeError(error)}`)
  }
}

function doneMessage(mode: Inputs['mode'], changed: boolean): string {
  switch (mode) {
    case 'plan':
      return `Plan complete: ${changed ? 'apply would change something' : 'apply would change nothing'}.`
    case 'plan-teardown':
      return `Teardown plan complete: ${changed ? 'teardown would delete something' : 'nothing to delete'}.`
    case 'verify':
      return 'Verify complete: the account uses the key, and every check passed.'
    default:
      return `Done: ${changed ? 'changes were made' : 'everything was already in place'}.`
  }
}

function timeoutMessage(minutes: number, failure: ProvisioningError): string {
  const waiting =
    failure.cause instanceof WaitStoppedError ? ` ${describeError(failure.cause)}` : ''
  return (
    `timeout-minutes (${minutes}) was reached during step '${failure.step}', so the run stopped.${waiting} ` +
    'Every step observes before it writes, so a re-run continues from where this one stopped, once what it ' +
    'waited for can happen.'
  )
}

async function writeSummary(runner: Runner, markdown: string): Promise<void> {
  try {
    await runner.summary(markdown)
  } catch (error) {
    runner.warning(`Could not write the job summary: ${describeError(error)}`)
  }
}

/** The action's inputs as the runner passes them (INPUT_<NAME>), as `core.getInput` reads them. */
function githubInputs(env: NodeJS.ProcessEnv = process.env): InputSource {
  return {
    getInput: name => (env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '').trim()
  }
}

async function loadGitHubRunner(): Promise<Runner> {
  const { githubRunner } = await import('./runner/github.js')
  return githubRunner()
}
