import {
  isRestError,
  RestError,
  type PipelinePolicy,
  type PipelineRequest
} from '@azure/core-rest-pipeline'
import { beginLingeringSpan, beginSpan, type EndSpan } from '../timeline.js'

/**
 * How every client talks to Azure: one place for retry and timeout settings. Transient failures
 * (429 with Retry-After, 500/502/503/504, connection resets, stalled responses) are retried by the
 * SDK's own retry policy with exponential backoff and jitter; nothing retries them a second time.
 */
export interface TransportSettings {
  /** Per attempt, for GET/HEAD. */
  readTimeoutMs: number
  /** Per attempt, for writes. */
  writeTimeoutMs: number
  maxRetries: number
  retryDelayMs: number
  maxRetryDelayMs: number
  /** Poll interval of long-running operations when the service sends no Retry-After. */
  pollIntervalMs: number
}

export const defaultTransport: TransportSettings = {
  readTimeoutMs: 20_000,
  writeTimeoutMs: 60_000,
  maxRetries: 10,
  retryDelayMs: 500,
  maxRetryDelayMs: 15_000,
  pollIntervalMs: 1_000
}

/** Sets the per-attempt timeout of every request (reads and writes), in milliseconds. */
const requestTimeoutVariable = 'COSMOS_CMK_REQUEST_TIMEOUT_MS'
/**
 * Sets the poll interval for when a service sends no Retry-After (or Retry-After: 0), in
 * milliseconds; the action's own waits then pause no longer than that between polls either.
 */
const pollIntervalVariable = 'COSMOS_CMK_POLL_INTERVAL_MS'

/** Transport overrides from the environment; ignores an absent or invalid value. */
export function transportFromEnv(
  env: Record<string, string | undefined>
): Partial<TransportSettings> {
  const timeout = positiveMs(env[requestTimeoutVariable])
  const poll = positiveMs(env[pollIntervalVariable])
  return {
    ...(timeout ? { readTimeoutMs: timeout, writeTimeoutMs: timeout } : {}),
    ...(poll ? { pollIntervalMs: poll } : {})
  }
}

function positiveMs(text: string | undefined): number | undefined {
  const value = text?.trim()
  if (!value || !/^\d+$/.test(value) || Number(value) <= 0) return undefined
  return Number(value)
}

const userAgentPrefix = 'cosmos-cmk-hsm-action'

/** Client options shared by every SDK client (ARM, Key Vault, identity). */
export function transportOptions(settings: TransportSettings) {
  return {
    retryOptions: {
      maxRetries: settings.maxRetries,
      retryDelayInMs: settings.retryDelayMs,
      maxRetryDelayInMs: settings.maxRetryDelayMs
    },
    additionalPolicies: [
      { policy: timelinePolicy(), position: 'perRetry' as const },
      { policy: attemptTimeoutPolicy(settings), position: 'perRetry' as const }
    ],
    userAgentOptions: { userAgentPrefix }
  }
}

const transportErrorCodes = new Set([
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EAI_AGAIN',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET'
])

/**
 * Writes whose blind repetition is not harmless, so that the step observes before it repeats
 * them: a second key creation makes a second key version, a second security domain download
 * starts over, and a repeated account write or role assignment may meet its own first attempt
 * (a held lock, a conflict) instead of telling whether it landed.
 */
export function isNonIdempotent(request: Pick<PipelineRequest, 'method' | 'url'>): boolean {
  const path = new URL(request.url).pathname
  switch (request.method) {
    case 'POST':
      return /\/keys\/[^/]+\/create$|\/securitydomain\/download$/i.test(path)
    case 'PUT':
      return /\/databaseAccounts\/[^/]+$|\/roleAssignments\/[^/]+$/i.test(path)
    case 'PATCH':
      return /\/databaseAccounts\/[^/]+$/i.test(path)
    default:
      return false
  }
}

const attemptTimeoutPolicyName = 'attemptTimeout'

/**
 * Runs below the retry policy, once per attempt: bounds the attempt with its own timer (cleared as
 * soon as the attempt ends, so no timer outlives it) and turns a timed-out or cut-off attempt into
 * the transport error the retry policy retries. For a non-idempotent request an ambiguous failure
 * is surfaced as `OutcomeUnknown` instead, so that the caller observes before trying again.
 */
export function attemptTimeoutPolicy(settings: TransportSettings): PipelinePolicy {
  return {
    name: attemptTimeoutPolicyName,
    async sendRequest(request, next) {
      const read = request.method === 'GET' || request.method === 'HEAD'
      const timeoutMs = read ? settings.readTimeoutMs : settings.writeTimeoutMs
      const outer = request.abortSignal
      const attempt = new AbortController()
      let timedOut = false
      const timer = setTimeout(() => {
        timedOut = true
        attempt.abort()
      }, timeoutMs)
      timer.unref?.()
      const forward = () => attempt.abort()
      if (outer?.aborted) attempt.abort()
      outer?.addEventListener('abort', forward, { once: true })
      request.abortSignal = attempt.signal
      try {
        return await next(request)
      } catch (error) {
        if (outer?.aborted) throw error
        const cutOff =
          isRestError(error) &&
          (transportErrorCodes.has(error.code ?? '') ||
            (error.code === RestError.PARSE_ERROR && /reading response/i.test(error.message)))
        if (!timedOut && !cutOff) throw error
        const what = timedOut ? `no response within ${timeoutMs} ms` : (error as Error).message
        if (isNonIdempotent(request)) {
          throw new RestError(`The outcome of ${request.method} is unknown: ${what}`, {
            code: 'OutcomeUnknown',
            request
          })
        }
        throw new RestError(`Request attempt failed: ${what}`, {
          code: timedOut ? 'ETIMEDOUT' : 'ECONNRESET',
          request
        })
      } finally {
        clearTimeout(timer)
        outer?.removeEventListener('abort', forward)
        request.abortSignal = outer
      }
    }
  }
}

const timelinePolicyName = 'timeline'

/**
 * Runs below the retry policy, once per attempt: puts each attempt on the run's timeline as a read
 * or a write of the step that sent it, and a 429 answer as throttling until the next attempt (or
 * the step's end, when the retry policy gives up).
 */
export function timelinePolicy(): PipelinePolicy {
  const throttled = new WeakMap<PipelineRequest, EndSpan>()
  return {
    name: timelinePolicyName,
    async sendRequest(request, next) {
      throttled.get(request)?.()
      throttled.delete(request)
      const label = `${request.method} ${new URL(request.url).pathname}`
      const end = beginSpan(changesAzure(request) ? 'write' : 'read', label)
      let response
      try {
        response = await next(request)
      } finally {
        end?.()
      }
      if (response.status === 429) {
        const wait = beginLingeringSpan('throttling', label)
        if (wait) throttled.set(request, wait)
      }
      return response
    }
  }
}

/** A write, as the timeline counts it: any method but GET and HEAD, except a token request. */
function changesAzure(request: Pick<PipelineRequest, 'method' | 'url'>): boolean {
  if (request.method === 'GET' || request.method === 'HEAD') return false
  return !/\/oauth2\/(v2\.0\/)?token$/i.test(new URL(request.url).pathname)
}
