/**
 * Resource Manager's write budget against the bundled action. The subscription's budgets are one
 * write and one delete, each refilling one a second, and a parallel job of the same identity
 * spends them before every ARM write the action makes, so that each one (provider registrations,
 * the HSM, its tags, the key through ARM, the account's creation and updates, its identity, its
 * deletion) is answered 429 first. The SDK pipelines must wait out Retry-After and send it again:
 * every run succeeds, and no write is repeated before its Retry-After had passed on the emulator's
 * clock.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  assertExit0,
  convergenceProblems,
  createHsmInputs,
  describeRequest,
  emptySubscriptionScenario,
  spendArmBudgetBeforeWrites,
  startLab,
  writeSecurityDomainCertificates,
  type ActionRun,
  type EndState,
  type Lab,
  type RequestLogEntry,
  type SpentArmBudget
} from '../../testkit/index.js'

const ACCOUNT = 'budget-cmk'

interface Outcome {
  result: ActionRun
  log: RequestLogEntry[]
}

let workDir: string
let lab: Lab
let spent: SpentArmBudget
let provision: Outcome
let switchToUserAssigned: Outcome
let converged: EndState
let teardown: Outcome

const isArmWrite = (e: RequestLogEntry) =>
  e.host === 'management.azure.com' && !['GET', 'HEAD'].includes(e.method)

/** What an ARM write does, by its path. */
function armWriteKind(e: RequestLogEntry): string {
  const register = /\/providers\/([^/]+)\/register$/i.exec(e.path)
  if (register) return `${e.method} register ${register[1]}`
  if (/\/providers\/Microsoft\.Resources\/tags\/default$/i.test(e.path)) return `${e.method} tags`
  if (/\/managedHSMs\/[^/]+\/keys\/[^/]+$/i.test(e.path)) return `${e.method} ARM key`
  if (/\/managedHSMs\/[^/]+$/i.test(e.path)) return `${e.method} managed HSM`
  if (/\/databaseAccounts\/[^/]+$/i.test(e.path)) return `${e.method} account`
  return `${e.method} ${e.path}`
}

const throttled = (log: RequestLogEntry[]) => log.filter(e => isArmWrite(e) && e.status === 429)

/** Each throttled ARM write with the attempt that repeated it (undefined: never repeated). */
function repetitions(log: RequestLogEntry[]) {
  return throttled(log).map(e => ({
    throttled: e,
    next: log.find(
      n => n.seq > e.seq && n.method === e.method && n.host === e.host && n.path === e.path
    )
  }))
}

/**
 * The ARM writes that went through without meeting a 429 first: each one's attempt before must be
 * a throttled attempt of the same request (the parallel job spends the budget before each write).
 */
function unthrottledWrites(log: RequestLogEntry[]): string[] {
  const waiting = new Set<string>()
  const problems: string[] = []
  for (const e of log.filter(isArmWrite)) {
    const line = describeRequest(e)
    if (e.status === 429) waiting.add(line)
    else if (!waiting.delete(line)) problems.push(`${line} answered ${e.status} at once`)
  }
  return problems
}

async function runLogged(inputs: Record<string, string>): Promise<Outcome> {
  const since = lab.emulator.requests().at(-1)?.seq ?? 0
  const result = await lab.run(inputs)
  return { result, log: lab.emulator.requests(since) }
}

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'cmk-arm-budget-'))
  const certificates = await writeSecurityDomainCertificates(workDir, 3)
  const scenario = emptySubscriptionScenario()
  scenario.timing = {
    ...scenario.timing,
    armWriteBucket: 1,
    armWriteRefillPerSecond: 1,
    armDeleteBucket: 1,
    armDeleteRefillPerSecond: 1
  }
  lab = await startLab(scenario)
  spent = spendArmBudgetBeforeWrites(lab.emulator)
  const securityDomain = join(workDir, 'security-domain.json')
  provision = await runLogged(
    lab.inputs(ACCOUNT, 'system-assigned', {
      ...createHsmInputs(certificates, securityDomain),
      'allow-arm-key-management': 'true'
    })
  )
  switchToUserAssigned = await runLogged(lab.inputs(ACCOUNT, 'user-assigned'))
  converged = lab.endState()
  teardown = await runLogged(
    lab.inputs(ACCOUNT, 'user-assigned', { mode: 'teardown', 'confirm-teardown': ACCOUNT })
  )
}, 240_000)

afterAll(async () => {
  spent?.dispose()
  await lab?.stop()
  if (workDir) rmSync(workDir, { recursive: true, force: true })
})

describe('a spent ARM write budget', () => {
  test('the runs succeed and converge', () => {
    assertExit0(provision.result, 'provisioning run')
    assertExit0(switchToUserAssigned.result, 'user-assigned run')
    expect(convergenceProblems(converged, [{ name: ACCOUNT, mode: 'user-assigned' }])).toEqual([])
    assertExit0(teardown.result, 'teardown run')
    expect(lab.endState().accounts.map(a => a.name)).not.toContain(ACCOUNT)
  })

  test('every ARM write the action makes is answered 429 with Retry-After first', () => {
    const kinds = (o: Outcome) => [...new Set(throttled(o.log).map(armWriteKind))].sort()
    expect(kinds(provision)).toEqual(
      expect.arrayContaining([
        'PATCH account',
        'PATCH tags',
        'POST register Microsoft.DocumentDB',
        'POST register Microsoft.KeyVault',
        'PUT ARM key',
        'PUT account',
        'PUT managed HSM'
      ])
    )
    // The user-assigned identity: its provider, then the account's identity and default identity.
    expect(kinds(switchToUserAssigned)).toEqual(
      expect.arrayContaining(['PATCH account', 'POST register Microsoft.ManagedIdentity'])
    )
    expect(
      throttled(switchToUserAssigned.log).filter(e => armWriteKind(e) === 'PATCH account').length
    ).toBeGreaterThanOrEqual(2)
    // Teardown notes its grants on the HSM's tags, then deletes the account (a delete budget).
    expect(kinds(teardown)).toEqual(expect.arrayContaining(['DELETE account', 'PATCH tags']))
    for (const { log } of [provision, switchToUserAssigned, teardown]) {
      expect(unthrottledWrites(log)).toEqual([])
      for (const e of throttled(log)) expect(e.retryAfterSeconds).toBeGreaterThanOrEqual(1)
    }
    // One spent budget per write, each of which went through in the end.
    const succeeded = [provision, switchToUserAssigned, teardown].flatMap(({ log }) =>
      log.filter(e => isArmWrite(e) && e.status < 300)
    )
    expect([...spent.drained].sort()).toEqual(succeeded.map(describeRequest).sort())
  })

  test('each throttled write is sent again, never before its Retry-After on the emulator clock', () => {
    for (const { log } of [provision, switchToUserAssigned, teardown]) {
      const early = repetitions(log)
        .filter(({ throttled: e, next }) => {
          const waitedMs = next ? Date.parse(next.time) - Date.parse(e.time) : -1
          return waitedMs < e.retryAfterSeconds! * 1000
        })
        .map(({ throttled: e, next }) => `${describeRequest(e)} #${e.seq} -> ${next?.time}`)
      expect(early).toEqual([])
      // and every write ends well: the last attempt of each is answered 2xx
      const last = new Map(log.filter(isArmWrite).map(e => [describeRequest(e), e.status]))
      expect([...last].filter(([, status]) => status >= 300)).toEqual([])
    }
  })
})
