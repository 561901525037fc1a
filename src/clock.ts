export interface Clock {
  now(): number
  /** Resolves after `ms`; rejects with an AbortError when the signal aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(abortError(signal))
      const timer = setTimeout(done, Math.max(0, ms))
      function done() {
        signal?.removeEventListener('abort', onAbort)
        resolve()
      }
      function onAbort() {
        clearTimeout(timer)
        reject(abortError(signal))
      }
      signal?.addEventListener('abort', onAbort, { once: true })
    })
}

export function abortError(signal?: AbortSignal): Error {
  const reason: unknown = signal?.reason
  if (reason instanceof Error && reason.name === 'AbortError') return reason
  const error = new Error(reason instanceof Error ? reason.message : 'The operation was aborted.')
  error.name = 'AbortError'
  return error
}
