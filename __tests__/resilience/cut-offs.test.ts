/**
 * Writes whose outcome the action cannot know: the local Azure resets the connection of the first
 * five key creations, or of the first five role-assignment creations, or of the first five Cosmos
 * DB account creations, each time after the whole request has reached it. The run must still
 * converge before its deadline, with one key version, one assignment per grant and one account.
 */
import { beforeAll, describe, expect, test } from '@jest/globals'
import {
  assertExit0,
  convergenceProblems,
  cutOff,
  duplicateAssignments,
  isAccountCreation,
  isKeyCreation,
  isRoleAssignmentCreation,
  preparedScenario,
  startEach,
  withLab,
  type ActionRun,
  type EndState,
  type RequestLogEntry
} from '../../testkit/index.js'

const CUT_OFFS = 5

const cases = [
  { writes: 'key creations', match: isKeyCreation, account: 'cut-key' },
  { writes: 'role-assignment creations', match: isRoleAssignmentCreation, account: 'cut-grant' },
  { writes: 'Cosmos DB account creations', match: isAccountCreation, account: 'cut-account' }
]
type Case = (typeof cases)[number]

interface Outcome {
  result: ActionRun
  cut: string[]
  log: RequestLogEntry[]
  state: EndState
}

function runCase(c: Case): Promise<Outcome> {
  return withLab(preparedScenario(), async lab => {
    const cutOffs = cutOff(lab.emulator, c.match, CUT_OFFS)
    // The deadline ends the run before the child process would be killed, so a run that does not
    // converge fails as the action reports it.
    const result = await lab.run(lab.inputs(c.account, 'first-party', { 'timeout-minutes': '2' }))
    return { result, cut: cutOffs.cut, log: lab.emulator.requests(), state: lab.endState() }
  })
}

let outcomes: Map<string, Promise<Outcome>>

beforeAll(() => {
  outcomes = startEach(cases, c => c.writes, runCase)
})

describe('writes cut off after they reached the local Azure', () => {
  test.each(cases)(
    'the first five $writes cut off: the run converges with one of each',
    async c => {
      const { result, cut, log, state } = await outcomes.get(c.writes)!
      expect(cut).toHaveLength(CUT_OFFS)
      const requests = log.filter(c.match)
      expect(requests.slice(0, CUT_OFFS).map(e => e.status)).toEqual(Array(CUT_OFFS).fill(0))
      expect(requests.length).toBeGreaterThan(CUT_OFFS)
      assertExit0(result, `with ${c.writes} cut off`)
      expect(convergenceProblems(state, [{ name: c.account, mode: 'first-party' }])).toEqual([])
      expect(state.keyVersions).toHaveLength(1)
      expect(duplicateAssignments(state)).toBe(0)
      expect(state.accounts.map(a => a.name)).toEqual([c.account])
    },
    150_000
  )
})
