/** The transient faults the resilience suites and the soak inject, and where they land. */
import type { RequestLogEntry } from './emulator.js'

export const faultKinds = ['throttle', 'server-error', 'reset', 'stall'] as const
export type FaultKind = (typeof faultKinds)[number]

/** Every host the action talks to, by the name the suites use for it. */
export const faultHosts = {
  arm: 'management.azure.com',
  hsm: 'managedhsm.azure.net',
  entra: 'login.microsoftonline.com',
  graph: 'graph.microsoft.com'
} as const

/** The names of the hosts at least one injected fault hit, sorted. */
export function faultedHosts(log: RequestLogEntry[]): string[] {
  const found = new Set<string>()
  for (const entry of log) {
    if (!entry.fault) continue
    const name = Object.entries(faultHosts).find(([, host]) => entry.host.endsWith(host))?.[0]
    if (name) found.add(name)
  }
  return [...found].sort()
}
