import type { EmuResponse } from './service.js'

/**
 * A failure answered in the shape of the service that raised it: status, headers and the body
 * exactly as that service words it. Handlers throw it; the server answers it once.
 */
export class AzureError extends Error {
  constructor(readonly response: EmuResponse) {
    super(summary(response))
    this.name = 'AzureError'
  }
}

function summary(response: EmuResponse): string {
  const body = response.body as { error?: unknown; message?: unknown } | undefined
  const error = body?.error as { code?: unknown; message?: unknown } | string | undefined
  const text = typeof error === 'object' ? `${String(error.code)}: ${String(error.message)}` : error
  return `${response.status} ${text ?? body?.message ?? ''}`.trim()
}

/** ARM's and Key Vault's error shape: `{"error":{"code","message"}}` plus any extra fields. */
export function azureError(
  status: number,
  code: string,
  message: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {}
): AzureError {
  return new AzureError({ status, headers, body: { error: { code, message, ...extra } } })
}

/** What every host answers for an operation the local Azure does not emulate. */
export function notEmulated(service: string, method: string, path: string): AzureError {
  return azureError(
    501,
    'NotImplementedInLocalAzure',
    `The local Azure does not emulate ${method} ${path} on ${service}. ` +
      'Only the endpoints of the CMK-on-Managed-HSM procedure are served.'
  )
}

type JsonObjectResult =
  | { ok: true; value: Record<string, unknown> }
  | { ok: false; problem: 'empty' | 'not-an-object' | 'syntax'; detail: string }

/**
 * Reads a request body as a JSON object: the one body parser, whose outcome each service turns
 * into its own error. An empty body is `{}` when `emptyIsObject`.
 */
export function parseJsonObject(body: Buffer, emptyIsObject: boolean): JsonObjectResult {
  const text = body.toString('utf8')
  if (text.trim() === '') {
    return emptyIsObject
      ? { ok: true, value: {} }
      : { ok: false, problem: 'empty', detail: 'The request body is empty' }
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (e) {
    return { ok: false, problem: 'syntax', detail: (e as Error).message }
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    return { ok: true, value: value as Record<string, unknown> }
  }
  return { ok: false, problem: 'not-an-object', detail: 'The request body must be a JSON object' }
}
