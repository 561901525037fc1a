import { sanitize } from './sanitize.js'

/** An error whose message is complete and meant for the user as it is. */
export class ActionError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ActionError'
  }
}

interface ErrorLike {
  name?: unknown
  message?: unknown
  code?: unknown
  statusCode?: unknown
  status?: unknown
  innerCode?: unknown
  response?: { status?: unknown; bodyAsText?: unknown }
  details?: unknown
}

function asErrorLike(e: unknown): ErrorLike {
  return typeof e === 'object' && e !== null ? (e as ErrorLike) : {}
}

export function statusOf(e: unknown): number | undefined {
  const err = asErrorLike(e)
  for (const candidate of [err.statusCode, err.status, err.response?.status]) {
    if (typeof candidate === 'number') return candidate
  }
  return undefined
}

/** The service's error code, e.g. `ResourceNotFound`, `Forbidden`, `PrincipalNotFound`. */
export function codeOf(e: unknown): string | undefined {
  const err = asErrorLike(e)
  if (typeof err.code === 'string') return err.code
  const body = errorBody(err)
  return typeof body?.code === 'string' ? body.code : undefined
}

/** The inner error code where services send one (`innererror.code`, e.g. `ForbiddenByRbac`). */
function innerCodeOf(e: unknown): string | undefined {
  const err = asErrorLike(e)
  if (typeof err.innerCode === 'string') return err.innerCode
  const body = errorBody(err)
  const inner = (body?.innererror ?? body?.innerError) as { code?: unknown } | undefined
  return typeof inner?.code === 'string' ? inner.code : undefined
}

function errorBody(err: ErrorLike): Record<string, unknown> | undefined {
  const text = err.response?.bodyAsText
  if (typeof text !== 'string' || !text) return undefined
  try {
    const parsed = JSON.parse(text) as { error?: Record<string, unknown> }
    return parsed.error
  } catch {
    return undefined
  }
}

export function messageOf(e: unknown): string {
  const err = asErrorLike(e)
  const message = typeof err.message === 'string' ? err.message : String(e)
  return sanitize(message)
}

/** A one-line, token-free description: `Code (HTTP 403): message`. */
export function describeError(e: unknown): string {
  if (e instanceof ActionError) return sanitize(e.message)
  const status = statusOf(e)
  const code = codeOf(e)
  const prefix = [code, status ? `HTTP ${status}` : undefined].filter(Boolean)
  const message = messageOf(e)
  if (!prefix.length) return message
  const head = code && status ? `${code} (HTTP ${status})` : prefix.join(' ')
  if (!message.startsWith(code ?? '\u0000')) return `${head}: ${message}`
  // A file system error (EACCES: ...) has no HTTP status to show.
  return status ? `${message} (HTTP ${status})` : message
}

export function isNotFound(e: unknown): boolean {
  return statusOf(e) === 404
}

/** Whether the error text mentions a marker, e.g. `KeyVaultAuthenticationFailure`. */
function mentions(e: unknown, marker: string): boolean {
  const text = `${codeOf(e) ?? ''} ${innerCodeOf(e) ?? ''} ${messageOf(e)}`
  return text.toLowerCase().includes(marker.toLowerCase())
}

/**
 * A refusal by the HSM's local RBAC (e.g. a grant that has not taken effect yet): a 403 from the
 * data plane, or the same refusal passed on by ARM as a 400 with the HSM's code.
 */
export function isRbacDenied(error: unknown): boolean {
  const status = statusOf(error)
  if (status !== 403 && status !== 400) return false
  const codes = [codeOf(error), innerCodeOf(error)].map(c => (c ?? '').toLowerCase())
  return (
    codes.some(c => ['forbidden', 'forbiddenbyrbac', 'accessdenied'].includes(c)) ||
    mentions(error, 'not authorized')
  )
}

/** Azure Cosmos DB cannot reach the key with the identity it was given (yet). */
export function isKeyAccessPending(error: unknown): boolean {
  return mentions(error, 'KeyVaultAuthenticationFailure')
}

/**
 * Another operation holds the account's lock: a parallel run's, or an earlier attempt of this run
 * that was cut off but went through (Cosmos DB answers 412 PreconditionFailed).
 */
export function isOperationInProgress(error: unknown): boolean {
  return (
    statusOf(error) === 412 || (statusOf(error) === 409 && mentions(error, 'operation in progress'))
  )
}

/** The write was refused before anything changed (as opposed to an operation that failed later). */
export function isRefusal(error: unknown): boolean {
  const status = statusOf(error)
  return status !== undefined && status >= 400 && status < 500
}

/** The directory does not know the principal (yet): a new identity still replicating, or a wrong id. */
export function isPrincipalNotFound(error: unknown): boolean {
  return statusOf(error) === 400 && mentions(error, 'PrincipalNotFound')
}

export function isConflict(error: unknown): boolean {
  return statusOf(error) === 409 || codeOf(error) === 'RoleAssignmentExists'
}

/** A write that was cut off or timed out: it may or may not have happened. */
export function isOutcomeUnknown(error: unknown): boolean {
  return codeOf(error) === 'OutcomeUnknown'
}

/** A read's answer, or undefined when what it reads does not exist (`absent` tells which errors say so). */
export async function unlessAbsent<T>(
  read: () => Promise<T>,
  absent: (error: unknown) => boolean = isNotFound
): Promise<T | undefined> {
  try {
    return await read()
  } catch (error) {
    if (absent(error)) return undefined
    throw error
  }
}
