import type { FaultKind, FaultRule } from './scenario-types.js'
import { deriveSeed, seededRandom, type RandomSource } from './random.js'

export type FaultCounts = Record<FaultKind, number>

interface ActiveRule {
  rule: FaultRule
  pathPattern?: RegExp
  random: RandomSource
  injected: number
}

/**
 * Decides which requests fail. Each rule draws from its own seeded stream, and only for requests
 * it matches, so the same seed and the same sequence of requests give the same faults.
 */
export class FaultInjector {
  private active: ActiveRule[] = []
  private counts: FaultCounts = emptyCounts()

  constructor(private seed: number) {}

  /** Replaces the rules (and, when given, the seed); restarts the random streams and the counts. */
  setRules(rules: FaultRule[], seed: number = this.seed): void {
    this.seed = seed
    this.active = rules.map((rule, i) => ({
      rule: { ...rule },
      pathPattern: rule.path !== undefined ? new RegExp(rule.path) : undefined,
      random: seededRandom(deriveSeed(seed, `fault-rule-${i}`)),
      injected: 0
    }))
    this.counts = emptyCounts()
  }

  get rules(): FaultRule[] {
    return this.active.map(a => ({ ...a.rule }))
  }

  faultCounts(): FaultCounts {
    return { ...this.counts }
  }

  decide(req: { host: string; method: string; path: string }): FaultRule | undefined {
    for (const a of this.active) {
      const { rule } = a
      if (rule.maxCount !== undefined && a.injected >= rule.maxCount) continue
      if (rule.host !== undefined && !req.host.endsWith(rule.host.toLowerCase())) continue
      if (rule.method !== undefined && rule.method.toUpperCase() !== req.method.toUpperCase())
        continue
      if (a.pathPattern && !a.pathPattern.test(req.path)) continue
      if (a.random() >= rule.rate) continue
      a.injected++
      this.counts[rule.kind]++
      return rule
    }
    return undefined
  }
}

function emptyCounts(): FaultCounts {
  return { throttle: 0, 'server-error': 0, reset: 0, stall: 0 }
}
