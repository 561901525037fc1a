/** Which logged or pending request is which: the writes the suites count, hold or cut off. */
import type { RequestLogEntry } from './emulator.js'

/** What identifies a request: a request log entry and a pending request both have it. */
export interface RequestLine {
  method: string
  host: string
  path: string
}

export const writes = (log: RequestLogEntry[]): RequestLogEntry[] =>
  log.filter(e => e.kind === 'write')

export const describeRequest = (r: RequestLine): string => `${r.method} ${r.host}${r.path}`

/**
 * A key creation, in either form the action may use: the Managed HSM data plane's
 * `POST /keys/{name}/create`, or ARM's create-if-not-exist `PUT .../managedHSMs/{hsm}/keys/{name}`.
 */
export function isKeyCreation(r: RequestLine): boolean {
  if (r.host.endsWith('.managedhsm.azure.net')) {
    return r.method === 'POST' && /^\/keys\/[^/]+\/create$/i.test(r.path)
  }
  return (
    r.host === 'management.azure.com' &&
    r.method === 'PUT' &&
    /\/providers\/Microsoft\.KeyVault\/managedHSMs\/[^/]+\/keys\/[^/]+$/i.test(r.path)
  )
}

/** A role assignment being created (Managed HSM local RBAC, or ARM). */
export function isRoleAssignmentCreation(r: RequestLine): boolean {
  return (
    r.method === 'PUT' &&
    /\/providers\/Microsoft\.Authorization\/roleAssignments\/[^/]+$/i.test(r.path)
  )
}

/** A Cosmos DB account being created or replaced (updates go by PATCH). */
export function isAccountCreation(r: RequestLine): boolean {
  return (
    r.host === 'management.azure.com' &&
    r.method === 'PUT' &&
    /\/providers\/Microsoft\.DocumentDB\/databaseAccounts\/[^/]+$/i.test(r.path)
  )
}

/** The name of the Cosmos DB account a request is about, if any. */
export function accountNameOf(r: RequestLine): string | undefined {
  return /\/databaseAccounts\/([^/]+)$/i.exec(r.path)?.[1]
}
