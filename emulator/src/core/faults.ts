import type { FaultKind, FaultRule } from './scenario-types.js'
import { deriveSeed, seededRandom } from './random.js'

export type FaultCounts = Record<FaultKind, number>

interface ActiveRule {
  rule: FaultRule
  pathPattern?: RegExp
  seed: number
  injected: number
}

export interface FaultableRequest {
  host: string
  method: string
  path: string
}

const GUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g
/** Key versions and other generated hex ids (32 or more hex digits). */
const HEX_ID = /(?<=\/)[0-9a-f]{32,}(?=\/|$)/g

/**
 * What makes two requests "the same request" for fault selection: method, host and path, in
 * lower case, with ids that differ from run to run (GUIDs such as role assignment names and
 * operation ids, key versions) replaced by placeholders.
 */
export function requestIdentity(req: FaultableRequest): string {
  const path = req.path
    .toLowerCase()
    .replace(GUID, '{guid}')
    .replace(HEX_ID, '{id}')
    .replace(/(.)\/+$/, '$1')
  return `${req.method.toUpperCase()} ${req.host.toLowerCase()}${path}`
}

/**
 * Decides which requests fail. Whether a rule fails a request is a function of the seed, the rule's
 * position, the request's identity and how many times that identity was asked about before (its
 * n-th occurrence), never of the order in which different requests arrive: requests running in
 * parallel get the same faults in any interleaving, and a request repeated after a fault gets a
 * fresh, still reproducible, draw. Only `maxCount` depends on arrival: it caps a rule's faults, and
 * when several matching requests race, the first to arrive uses the cap up.
 */
export class FaultInjector {
  private active: ActiveRule[] = []
  private counts: FaultCounts = emptyCounts()
  private occurrences = new Map<string, number>()

  constructor(private seed: number) {}

  /** Replaces the rules (and, when given, the seed); restarts occurrences and counts. */
  setRules(rules: FaultRule[], seed: number = this.seed): void {
    this.seed = seed
    this.active = rules.map((rule, i) => ({
      rule: { ...rule },
      pathPattern: rule.path !== undefined ? new RegExp(rule.path) : undefined,
      seed: deriveSeed(seed, `fault-rule-${i}`),
      injected: 0
    }))
    this.counts = emptyCounts()
    this.occurrences.clear()
  }

  get rules(): FaultRule[] {
    return this.active.map(a => ({ ...a.rule }))
  }

  faultCounts(): FaultCounts {
    return { ...this.counts }
  }

  decide(req: FaultableRequest): FaultRule | undefined {
    const identity = requestIdentity(req)
    const occurrence = (this.occurrences.get(identity) ?? 0) + 1
    this.occurrences.set(identity, occurrence)
    for (const a of this.active) {
      const { rule } = a
      if (rule.maxCount !== undefined && a.injected >= rule.maxCount) continue
      if (rule.host !== undefined && !req.host.endsWith(rule.host.toLowerCase())) continue
      if (rule.method !== undefined && rule.method.toUpperCase() !== req.method.toUpperCase())
        continue
      if (a.pathPattern && !a.pathPattern.test(req.path)) continue
      if (draw(a.seed, identity, occurrence) >= rule.rate) continue
      a.injected++
      this.counts[rule.kind]++
      return rule
    }
    return undefined
  }
}

/** A number in [0, 1) fixed by the rule's seed, the request identity and its occurrence. */
function draw(ruleSeed: number, identity: string, occurrence: number): number {
  return seededRandom(deriveSeed(ruleSeed, `${identity}#${occurrence}`))()
}

function emptyCounts(): FaultCounts {
  return { throttle: 0, 'server-error': 0, reset: 0, stall: 0 }
}
