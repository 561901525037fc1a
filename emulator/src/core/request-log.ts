import type { FaultKind } from './scenario-types.js'
import type { RequestKind } from './service.js'

export interface RequestLogEntry {
  seq: number
  /** ISO time the request arrived. */
  time: string
  method: string
  host: string
  path: string
  /** Query parameters, decoded, with secret-looking values replaced. */
  query: Record<string, string>
  /** 0 when no response was sent (a reset or stalled connection). */
  status: number
  kind: RequestKind
  /** Object id of the caller, when known. */
  principal?: string
  durationMs: number
  fault?: FaultKind
  /** The emulated service that answered. */
  service?: string
  /** Why the request was refused or failed, for refusals the services never saw. */
  error?: string
  /**
   * A write's JSON body as the paths of its fields, names only and never values (e.g.
   * `properties.keyVaultKeyUri`), so that a test can tell what an update carried.
   */
  bodyFields?: string[]
  /** The `Retry-After` of a 429 answer, in seconds. */
  retryAfterSeconds?: number
}

const SECRET_NAME = /secret|token|assertion|password|signature|^sig$|^code$/i
const MAX_ENTRIES = 100_000

/** The `Retry-After` (whole seconds) of a throttled answer, for its log entry. */
export function throttledRetryAfter(
  status: number,
  headers: Record<string, string> | undefined
): number | undefined {
  if (status !== 429) return undefined
  const value = Object.entries(headers ?? {}).find(([k]) => k.toLowerCase() === 'retry-after')?.[1]
  return value !== undefined && /^\d+$/.test(value.trim()) ? Number(value) : undefined
}

export function redactQuery(query: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of query) out[name] = SECRET_NAME.test(name) ? '[redacted]' : value
  return out
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * The paths of a JSON object body's fields (`properties.keyVaultKeyUri`; an array or an empty
 * object ends a path), names only; undefined for an empty or non-JSON body.
 */
export function bodyFieldPaths(body: Buffer): string[] | undefined {
  if (!body.length) return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(body.toString('utf8'))
  } catch {
    return undefined
  }
  if (!isPlainObject(parsed)) return undefined
  const paths: string[] = []
  const walk = (value: Record<string, unknown>, prefix: string): void => {
    for (const [name, field] of Object.entries(value)) {
      if (isPlainObject(field) && Object.keys(field).length) walk(field, `${prefix}${name}.`)
      else paths.push(`${prefix}${name}`)
    }
  }
  walk(parsed, '')
  return paths
}

/** Every request the local Azure saw, in arrival order of completion; never holds a token. */
export class RequestLog {
  private entries: RequestLogEntry[] = []
  private nextSeq = 1

  add(entry: Omit<RequestLogEntry, 'seq'>): RequestLogEntry {
    const logged: RequestLogEntry = { seq: this.nextSeq++, ...entry }
    this.entries.push(logged)
    if (this.entries.length > MAX_ENTRIES) this.entries.splice(0, this.entries.length - MAX_ENTRIES)
    return logged
  }

  /** Entries with a sequence number greater than `since` (all when absent). */
  list(since = 0): RequestLogEntry[] {
    return this.entries
      .filter(e => e.seq > since)
      .map(e => ({
        ...e,
        query: { ...e.query },
        ...(e.bodyFields ? { bodyFields: [...e.bodyFields] } : {})
      }))
  }

  /** Empties the log; sequence numbers keep counting up. */
  clear(): number {
    const n = this.entries.length
    this.entries = []
    return n
  }

  get lastSeq(): number {
    return this.nextSeq - 1
  }
}
