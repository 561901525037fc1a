/**
 * Parallel runs, as matrix jobs sharing one HSM and key: ten action processes at once, some on
 * accounts of their own, two pairs on the same account, all three identity modes. All must
 * succeed, and the end state must hold exactly one assignment per (principal, role, scope).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import type { Emulator } from '../../emulator/src/index.js'
import type { ActionRun } from '../../scripts/lib/run-action.js'
import {
  convergenceProblems,
  endState,
  expectExit0,
  inputsFor,
  KEY_NAME,
  preparedScenario,
  run,
  secretLeaks,
  startLab,
  type AccountExpectation,
  type EndState
} from './lab.js'

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

let emulator: Emulator
let results: ActionRun[]
let state: EndState

/**
 * Holds the first creation request of each shared account until its partner's arrives, so that
 * the two runs really race for it (however far apart the processes started).
 */
function raceSharedAccounts(emulator: Emulator): void {
  const waiting = new Map<string, () => void>()
  const raced = new Set<string>()
  emulator.intercept(async (request): Promise<'continue'> => {
    const name = /databaseAccounts\/(cc-shared-[a-z]+)$/.exec(request.path)?.[1]
    if (!name || request.method !== 'PUT' || raced.has(name)) return 'continue'
    const partner = waiting.get(name)
    if (partner) {
      raced.add(name)
      partner()
      return 'continue'
    }
    await new Promise<void>(resolve => {
      const giveUp = setTimeout(resolve, 30_000)
      waiting.set(name, () => {
        clearTimeout(giveUp)
        resolve()
      })
    })
    return 'continue'
  })
}

beforeAll(async () => {
  // The key exists (an earlier run made it); providers, grants and accounts do not. The default
  // scenario's delays keep operations open long enough for the runs to collide.
  emulator = await startLab(
    preparedScenario(s => {
      s.timing = {
        retryAfterSeconds: 1,
        principalReplication: 300,
        providerRegistration: 500,
        cosmosCreate: 500,
        cosmosUpdate: 500
      }
      s.subscriptions[0].resourceGroups![0].managedHsms![0].keys = [
        { name: KEY_NAME, size: 3072, ops: ['wrapKey', 'unwrapKey'] }
      ]
    })
  )
  raceSharedAccounts(emulator)
  results = await Promise.all(jobs.map(j => run(emulator, inputsFor(emulator, j.name, j.mode))))
  state = endState(emulator)
}, 150_000)

afterAll(async () => {
  await emulator?.stop()
})

describe('parallel runs on one HSM and key', () => {
  test('all ten runs succeed', () => {
    results.forEach((r, i) => expectExit0(r, `job ${i} (${jobs[i].name})`))
  })

  test('the end state has one assignment per principal, role and scope, and every account is right', () => {
    expect(convergenceProblems(state, accounts)).toEqual([])
    expect(state.accounts.map(a => a.name)).toEqual(accounts.map(a => a.name).sort())
    const grants = state.assignments.filter(a => !a.startsWith('app:'))
    // first party, the user-assigned identity and three system-assigned identities
    expect(grants).toHaveLength(5)
  })

  test('the runs on a shared account collided, and the loser read the account back', () => {
    const log = emulator.requests()
    for (const name of ['cc-shared-sa', 'cc-shared-fp']) {
      const puts = log.filter(
        e => e.method === 'PUT' && e.path.endsWith(`/databaseAccounts/${name}`)
      )
      // both created it at the same moment: one got it, the other was told it was busy
      expect(puts.map(e => e.status).sort()).toEqual([200, 412])
    }
  })

  test('both runs on a shared account report the same account and principal', () => {
    for (const name of ['cc-shared-sa', 'cc-shared-fp']) {
      const pair = results.filter((_, i) => jobs[i].name === name)
      expect(pair).toHaveLength(2)
      expect(pair[0].outputs['account-id']).toBe(pair[1].outputs['account-id'])
      expect(pair[0].outputs['cosmos-principal-id']).toBe(pair[1].outputs['cosmos-principal-id'])
      expect(pair[0].outputs['key-id']).toBe(pair[1].outputs['key-id'])
    }
  })

  test('no run printed a token', () => {
    const issued = emulator.tokens.issued()
    const secrets = [emulator.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN]
    expect(results.flatMap(r => secretLeaks(r, issued, secrets))).toEqual([])
  })
})
