/** A mode's steps scheduled by what each needs (StepGraph). */
import { describe, expect, it } from '@jest/globals'
import { StepGraph } from '../../src/modes/step-graph.js'

/** A step that can be finished from the test, and says when it started. */
function gate<T>(value: T) {
  let open!: () => void
  const opened = new Promise<void>(resolve => (open = resolve))
  const state = { started: false, value, open }
  const work = async () => {
    state.started = true
    await opened
    return value
  }
  return { state, work }
}

const turns = () => new Promise(resolve => setImmediate(resolve))

describe('StepGraph', () => {
  it('starts each step once its needs are done, with only the results it named', async () => {
    const seen: unknown[] = []
    const result = await new StepGraph()
      .add('observe', [], async () => ({ hsm: 'absent' }))
      .add('providers', [], async () => 'registered')
      .add('hsm', ['observe'], async done => {
        seen.push(done)
        return `created (was ${done.observe.hsm})`
      })
      .run()
    expect(seen).toEqual([{ observe: { hsm: 'absent' } }])
    expect(result).toEqual({
      observe: { hsm: 'absent' },
      providers: 'registered',
      hsm: 'created (was absent)'
    })
  })

  it('runs the steps whose needs are met side by side, and a step needing both after both', async () => {
    const a = gate('a')
    const b = gate('b')
    const c = gate('c')
    const run = new StepGraph()
      .add('first', [], async () => 1)
      .add('a', ['first'], a.work)
      .add('b', ['first'], b.work)
      .add('c', ['a', 'b'], c.work)
      .run()
    await turns()
    expect([a.state.started, b.state.started, c.state.started]).toEqual([true, true, false])
    a.state.open()
    await turns()
    expect(c.state.started).toBe(false)
    b.state.open()
    await turns()
    expect(c.state.started).toBe(true)
    c.state.open()
    await expect(run).resolves.toMatchObject({ a: 'a', b: 'b', c: 'c' })
  })

  it('stops what needs a failed step, lets the others end, and throws the first failure', async () => {
    const ran: string[] = []
    const slow = gate('slow')
    const run = new StepGraph()
      .add('hsm', [], async () => {
        throw new Error('HSM name taken')
      })
      .add('slow', [], async () => {
        ran.push('slow')
        return slow.work()
      })
      .add('key', ['hsm'], async () => {
        ran.push('key')
        return 'key'
      })
      .add('account', ['key'], async () => {
        ran.push('account')
        return 'account'
      })
      .add('late', ['slow'], async () => {
        throw new Error('later failure')
      })
      .run()
    let settled = false
    run.catch(() => {}).finally(() => (settled = true))
    await turns()
    expect(settled).toBe(false)
    slow.state.open()
    await expect(run).rejects.toThrow('HSM name taken')
    expect(ran).toEqual(['slow'])
  })

  it('refuses a step added twice, or one that needs a step not added before it', () => {
    const graph = new StepGraph().add('observe', [], async () => 1)
    expect(() => graph.add('observe', [], async () => 2)).toThrow(
      "Step 'observe' is in the graph already."
    )
    expect(() =>
      (graph as unknown as StepGraph<{ observe: number; later: number }>).add(
        'key',
        ['observe', 'later'],
        async () => 3
      )
    ).toThrow("Step 'key' needs later, which no earlier step is.")
    expect(graph.names).toEqual(['observe'])
  })
})
