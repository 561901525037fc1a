import type { ProviderState } from '../azure/api.js'
import { ActionError, describeError, statusOf } from '../errors.js'
import { record, waitIn, type StepContext } from './context.js'
import { Step } from './names.js'

const STEP = Step.Providers

/** Registrations under way: each write joins only the namespace it needs. */
export interface ProviderRegistrations {
  /** Resolves once the namespace is Registered (at once when it was, or is not needed). */
  ready(namespace: string): Promise<void>
  /** Resolves once every registration is done. */
  done(): Promise<void>
  /** Rejects as soon as one registration fails; never resolves. */
  failed: Promise<never>
}

/**
 * Starts registering the namespaces the run needs and waiting until Azure reports them Registered,
 * without blocking: Azure needs a namespace registered only for the writes into it, so the steps
 * that do not write there go on meanwhile.
 */
export function ensureProviders(
  ctx: StepContext,
  observed: ProviderState[]
): ProviderRegistrations {
  const pending = observed.filter(p => p.registrationState.toLowerCase() !== 'registered')
  const summary = observed.map(p => `${p.namespace} ${p.registrationState}`).join(', ')
  if (!pending.length || ctx.plan) {
    record(ctx, {
      step: STEP,
      observed: summary,
      action: pending.length ? `register ${pending.map(p => p.namespace).join(', ')}` : 'none',
      result: pending.length ? 'would-change' : 'ok'
    })
    return {
      ready: () => Promise.resolve(),
      done: () => Promise.resolve(),
      failed: new Promise<never>(() => {})
    }
  }
  const running = new Map<string, Promise<void>>()
  for (const provider of pending) {
    const registration = registerAndWait(ctx, provider)
    // Joined later; a failure must not surface as an unhandled rejection meanwhile.
    registration.catch(() => {})
    running.set(provider.namespace.toLowerCase(), registration)
  }
  let all: Promise<void> | undefined
  const failed = new Promise<never>((_, reject) => {
    for (const registration of running.values()) registration.catch(reject)
  })
  failed.catch(() => {})
  return {
    failed,
    ready: namespace => running.get(namespace.toLowerCase()) ?? Promise.resolve(),
    done: () => (all ??= Promise.all(running.values()).then(() => undefined))
  }
}

async function registerAndWait(ctx: StepContext, provider: ProviderState): Promise<void> {
  const { namespace } = provider
  // A provider already Registering needs no second request, only waiting.
  if (provider.registrationState.toLowerCase() !== 'registering') {
    try {
      const answer = await ctx.apis.providers.register(namespace)
      // Recorded as soon as it is sent, so that a run failing later still shows this write.
      record(ctx, {
        step: STEP,
        observed: `${namespace} ${provider.registrationState}`,
        action: `register ${namespace}`,
        result: 'changed'
      })
      if (answer.registrationState.toLowerCase() === 'registered') return
    } catch (error) {
      if (statusOf(error) === 403) {
        throw new ActionError(
          `The subscription is not registered for ${namespace} and the signed-in principal may not register it ` +
            `(${describeError(error)}). Ask a subscription owner to run: az provider register --namespace ${namespace} ` +
            `--subscription ${ctx.inputs.subscriptionId}`
        )
      }
      throw error
    }
  }
  await waitIn(ctx, {
    what: `resource provider ${namespace} to be registered`,
    kind: 'propagation',
    timeoutMs: ctx.waits.providerRegistrationMs,
    hint: `Check the provider in the portal (Subscription > Resource providers) or run: az provider show --namespace ${namespace} --query registrationState`,
    poll: async () => {
      const state = await ctx.apis.providers.get(namespace)
      return state.registrationState.toLowerCase() === 'registered'
        ? { done: true, value: undefined }
        : { done: false, status: `registrationState ${state.registrationState}` }
    }
  })
}
