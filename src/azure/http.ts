import { AsyncLocalStorage } from 'node:async_hooks'
import { HttpsProxyAgent } from 'https-proxy-agent'
import {
  isRestError,
  RestError,
  type PipelinePolicy,
  type PipelineRequest
} from '@azure/core-rest-pipeline'
import { beginLingeringSpan, beginSpan, type EndSpan } from '../timeline.js'
import type { TransportSettings } from './transport.js'

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
      { policy: pollAnswerPolicy(), position: 'perCall' as const },
      { policy: timelinePolicy(), position: 'perRetry' as const },
      { policy: attemptTimeoutPolicy(settings), position: 'perRetry' as const },
      { policy: proxyKeepAlivePolicy(), position: 'perRetry' as const }
    ],
    userAgentOptions: { userAgentPrefix }
  }
}

const proxyKeepAlivePolicyName = 'proxyKeepAlive'

/**
 * A proxy agent for https targets only, that keeps its tunnels open between requests. agent-base
 * tells an https request from an http one by looking for Node's https module in the call stack,
 * which is not there when Node names a new socket for its pool: each tunnel was pooled under an
 * http name that no later request asks for, and never used twice.
 */
class KeptAliveProxyAgent extends HttpsProxyAgent<string> {
  constructor(proxy: string) {
    super(proxy, { keepAlive: true })
  }

  override isSecureEndpoint(): boolean {
    return true
  }
}

const keptAliveProxyAgents = new Map<string, KeptAliveProxyAgent>()

/**
 * Runs below the SDK's proxy policy, once per attempt. That policy gives each client an agent that
 * opens a new CONNECT tunnel and TLS session for every request (HTTPS_PROXY, or an Azure Pipelines
 * agent's proxy), so each request paid a handshake through the proxy. The proxy it chose stays
 * (NO_PROXY is still the SDK's to apply); for an https target its agent is swapped for one per
 * proxy, shared by every client, that keeps its connections open.
 */
export function proxyKeepAlivePolicy(
  agents: Map<string, KeptAliveProxyAgent> = keptAliveProxyAgents
): PipelinePolicy {
  return {
    name: proxyKeepAlivePolicyName,
    sendRequest(request, next) {
      const chosen = request.agent
      if (chosen instanceof HttpsProxyAgent && new URL(request.url).protocol === 'https:') {
        const proxy = chosen.proxy.href
        let agent = agents.get(proxy)
        if (!agent) {
          agent = new KeptAliveProxyAgent(proxy)
          agents.set(proxy, agent)
        }
        request.agent = agent
      }
      return next(request)
    }
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

const pollAnswers = new AsyncLocalStorage<{ retryAfterMs?: number }>()

/**
 * Sends one poll of a long-running operation and answers the pause its last response asked for
 * (after the SDK's own retries): the SDK's poller keeps the Retry-After of a poll to itself.
 */
export async function pollAsking(poll: () => Promise<unknown>): Promise<number | undefined> {
  const answer: { retryAfterMs?: number } = {}
  await pollAnswers.run(answer, poll)
  return answer.retryAfterMs
}

function pollAnswerPolicy(): PipelinePolicy {
  return {
    name: 'pollAnswer',
    async sendRequest(request, next) {
      const response = await next(request)
      const answer = pollAnswers.getStore()
      if (answer) answer.retryAfterMs = retryAfterMs(response.headers)
      return response
    }
  }
}

/** The pause an answer asks for: retry-after-ms, x-ms-retry-after-ms, or Retry-After (seconds or a date). */
export function retryAfterMs(headers: {
  get(name: string): string | undefined
}): number | undefined {
  for (const name of ['retry-after-ms', 'x-ms-retry-after-ms']) {
    const ms = Number(headers.get(name))
    if (headers.get(name) && Number.isFinite(ms) && ms >= 0) return ms
  }
  const value = headers.get('retry-after')?.trim()
  if (!value) return undefined
  if (/^\d+$/.test(value)) return Number(value) * 1000
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now())
}
