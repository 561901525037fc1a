import type { ProviderState } from '../azure/api.js'
import { ActionError, describeError, statusOf } from '../errors.js'
import { record, waitIn, type StepContext } from './context.js'

const STEP = 'Resource providers'

/** Registers the namespaces the run needs and waits until Azure reports them Registered. */
export async function ensureProviders(ctx: StepContext, observed: ProviderState[]): Promise<void> {
  const pending = observed.filter(p => p.registrationState.toLowerCase() !== 'registered')
  const summary = observed.map(p => `${p.namespace} ${p.registrationState}`).join(', ')
  if (!pending.length) {
    record(ctx, { step: STEP, observed: summary, action: 'none', result: 'ok' })
    return
  }
  const names = pending.map(p => p.namespace).join(', ')
  if (ctx.plan) {
    record(ctx, {
      step: STEP,
      observed: summary,
      action: `register ${names}`,
      result: 'would-change'
    })
    return
  }
  await Promise.all(pending.map(p => registerAndWait(ctx, p)))
  record(ctx, { step: STEP, observed: summary, action: `registered ${names}`, result: 'changed' })
}

async function registerAndWait(ctx: StepContext, provider: ProviderState): Promise<void> {
  const { namespace } = provider
  // A provider already Registering needs no second request, only waiting.
  if (provider.registrationState.toLowerCase() !== 'registering') {
    try {
      await ctx.apis.providers.register(namespace)
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
