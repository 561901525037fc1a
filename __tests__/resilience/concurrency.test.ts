/**
 * Parallel runs, as matrix jobs sharing one HSM and key: ten action processes at once, some on
 * accounts of their own, two pairs on the same account, all three identity modes. All must
 * succeed, and the end state must hold exactly one assignment per (principal, role, scope).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import {
  accountNameOf,
  assertExit0,
  convergenceProblems,
  isAccountCreation,
  preparedScenario,
  raceRequests,
  startLab,
  withKey,
  type AccountExpectation,
  type ActionRun,
  type EndState,
  type Lab,
  type Race
} from '../../testkit/index.js'

const jobs: AccountExpectation[] = [
  { name: 'cc-fp-1', mode: 'first-party' },
  { name: 'cc-fp-2', mode: 'first-party' },
  { name: 'cc-ua-1', mode: 'user-assigned' },
  { name: 'cc-ua-2', mode: 'user-assigned' },
  { name: 'cc-sa-1', mode: 'system-assigned' },
  { name: 'cc-sa-2', mode: 'system-assigned' },
  { name: 'cc-shared-sa', mode: 'system-assigned' },
  { name: 'cc-shared-sa', mode: 'system-assigned' },
  { name: 'cc-shared-fp', mode: 'first-party' },
  { name: 'cc-shared-fp', mode: 'first-party' }
]
const accounts = [...new Map(jobs.map(j => [j.name, j])).values()]
const shared = ['cc-shared-sa', 'cc-shared-fp']

let lab: Lab
let race: Race
let results: ActionRun[]
let state: EndState

beforeAll(async () => {
  // The key exists (an earlier run made it); providers, grants and accounts do not. The default
  // scenario's delays keep operations open long enough for the runs to collide.
  lab = await startLab(
    preparedScenario(s => {
      s.timing = {
        retryAfterSeconds: 1,
        principalReplication: 300,
        providerRegistration: 500,
        cosmosCreate: 500,
        cosmosUpdate: 500
      }
      withKey(s)
    })
  )
  // Each shared account's first creation waits for its partner's, so that the two really race.
  race = raceRequests(
    lab.emulator,
    r => (isAccountCreation(r) && shared.find(name => name === accountNameOf(r))) || undefined,
    2
  )
  results = await Promise.all(jobs.map(j => lab.run(lab.inputs(j.name, j.mode))))
  state = lab.endState()
}, 150_000)

afterAll(async () => {
  race?.dispose()
  await lab?.stop()
})

describe('parallel runs on one HSM and key', () => {
  test('all ten runs succeed', () => {
    results.forEach((r, i) => assertExit0(r, `job ${i} (${jobs[i].name})`))
  })

  test('the end state has one assignment per principal, role and scope, and every account is right', () => {
    expect(convergenceProblems(state, accounts)).toEqual([])
    expect(state.accounts.map(a => a.name)).toEqual(accounts.map(a => a.name).sort())
    const grants = state.assignments.filter(a => !a.startsWith('app:'))
    // first party, the user-assigned identity and three system-assigned identities
    expect(grants).toHaveLength(5)
  })

  test('the runs on a shared account collided, and the loser read the account back', () => {
    expect([...race.raced].sort()).toEqual([...shared].sort())
    const log = lab.emulator.requests()
    for (const name of shared) {
      const puts = log.filter(e => isAccountCreation(e) && accountNameOf(e) === name)
      // both created it at the same moment: one got it, the other was told it was busy
      expect(puts.map(e => e.status).sort()).toEqual([200, 412])
    }
  })

  test('both runs on a shared account report the same account and principal', () => {
    for (const name of shared) {
      const pair = results.filter((_, i) => jobs[i].name === name)
      expect(pair).toHaveLength(2)
      expect(pair[0].outputs['account-id']).toBe(pair[1].outputs['account-id'])
      expect(pair[0].outputs['cosmos-principal-id']).toBe(pair[1].outputs['cosmos-principal-id'])
      expect(pair[0].outputs['key-id']).toBe(pair[1].outputs['key-id'])
    }
  })

  test('no run printed a token', () => {
    expect(lab.leaks(...results)).toEqual([])
  })
})
