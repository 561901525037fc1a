import type { TokenCredential } from '@azure/core-auth'
import { sanitizeSdkLog } from '../azure/sdk-log.js'
import { defaultTransport, type TransportSettings } from '../azure/transport.js'
import { systemClock, type Clock } from '../clock.js'
import { getCloud } from '../cloud.js'
import type { Inputs } from '../inputs/settings.js'
import type { Runner } from '../runner/runner.js'
import type { SignedInPrincipal } from '../steps/context.js'
import { Step } from '../steps/names.js'
import { Timeline } from '../timeline.js'
import { createCredential } from './credential.js'
import { signedInPrincipal } from './principal.js'
import { warmTokens } from './token-warmup.js'

/**
 * A sign-in under way: the credential, who it turns out to be once ARM's token comes, and the
 * run's timeline, which starts with it.
 */
export interface SignIn {
  credential: TokenCredential
  principal: Promise<SignedInPrincipal>
  timeline: Timeline
  /**
   * Whether the identity got as far as it can before Azure answers: its first ID token (OIDC with
   * the token asked for early), else its first access token. Until then nothing goes to Azure.
   */
  underway: Promise<boolean>
}

/**
 * Starts the token exchanges for every audience the first reads need. The action starts it as
 * soon as it has its inputs, so that the exchanges travel while the Azure SDKs load.
 */
export function startSignIn(setup: {
  inputs: Pick<Inputs, 'auth' | 'identity' | 'environment'>
  runner: Pick<Runner, 'getIdToken' | 'setSecret'>
  transport?: Partial<TransportSettings>
  firstIdToken?: Promise<string>
  signal?: AbortSignal
  /** Default: the credential for `auth-type`. */
  credential?: TokenCredential
  clock?: Clock
  /** Where the Azure SDK's own log (AZURE_LOG_LEVEL) goes, token-free; default: unchanged. */
  sdkLog?: (line: string) => void
}): SignIn {
  const { inputs, signal } = setup
  if (setup.sdkLog) sanitizeSdkLog(setup.sdkLog)
  const cloud = getCloud(inputs.environment)
  const credential =
    setup.credential ??
    createCredential({
      inputs,
      cloud,
      runner: setup.runner,
      transport: { ...defaultTransport, ...setup.transport },
      firstIdToken: setup.firstIdToken
    })
  const timeline = new Timeline(setup.clock ?? systemClock)
  const principal = timeline.within(Step.SignIn, () => {
    warmTokens(credential, cloud, inputs, signal)
    return signedInPrincipal(credential, cloud, signal)
  })
  // Its failure is reported where the run awaits it (the sign-in step).
  principal.catch(() => {})
  const firstStep: Promise<unknown> = setup.firstIdToken ?? principal
  const underway = firstStep.then(
    () => true,
    () => false
  )
  return { credential, principal, timeline, underway }
}
