/**
 * A mode's steps and what each needs: every step starts once the steps it needs have produced
 * their results, and steps whose needs are met run side by side. A step that fails stops the
 * steps that need it (directly or not); the others run to their end, so that nothing is left
 * running unseen, and the first failure is thrown once every step has settled.
 *
 * A step is added after the steps it needs, so a graph cannot have a cycle, and its work sees only
 * the results it named: `graph.add('key', ['hsm'], ({ hsm }) => ...)`.
 */
export class StepGraph<Done extends object = object> {
  private readonly steps: GraphStep[] = []

  add<K extends string, N extends keyof Done & string, T>(
    name: K,
    needs: readonly N[],
    work: (done: Pick<Done, N>) => Promise<T>
  ): StepGraph<Done & { [P in K]: T }> {
    if (this.steps.some(s => s.name === name)) {
      throw new Error(`Step '${name}' is in the graph already.`)
    }
    const missing = needs.filter(need => !this.steps.some(s => s.name === need))
    if (missing.length) {
      throw new Error(`Step '${name}' needs ${missing.join(', ')}, which no earlier step is.`)
    }
    this.steps.push({
      name,
      needs: [...needs],
      work: work as (done: Record<string, unknown>) => Promise<unknown>
    })
    return this as unknown as StepGraph<Done & { [P in K]: T }>
  }

  /** The steps' names, in the order they were added. */
  get names(): string[] {
    return this.steps.map(s => s.name)
  }

  /** Every step's result, by name. */
  async run(): Promise<Done> {
    const done: Record<string, unknown> = {}
    const running = new Map<string, Promise<unknown>>()
    let first: { error: unknown } | undefined
    for (const step of this.steps) {
      const needed = step.needs.map(need => running.get(need)!)
      const result = Promise.all(needed).then(async () => {
        const value = await step.work(Object.fromEntries(step.needs.map(n => [n, done[n]])))
        done[step.name] = value
        return value
      })
      // The first failure in time, not in the order of the steps.
      result.catch((error: unknown) => (first ??= { error }))
      running.set(step.name, result)
    }
    await Promise.allSettled(running.values())
    if (first) throw first.error
    return done as Done
  }
}

interface GraphStep {
  name: string
  needs: string[]
  work: (done: Record<string, unknown>) => Promise<unknown>
}
