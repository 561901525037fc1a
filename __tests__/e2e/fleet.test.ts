/**
 * A fleet: several accounts in one run of the bundled action, on one HSM and one key. The shared
 * work is done once, the accounts side by side within `account-concurrency`; an account that
 * fails does not stop the others, and a re-run finishes only what is missing.
 */
import { describe, expect, it } from '@jest/globals'
import {
  accountNameOf,
  adminRequest,
  assertExit0,
  cosmosAccount,
  defaultNames,
  isAccountCreation,
  isKeyCreation,
  isRoleAssignmentCreation,
  KEY_NAME,
  preparedScenario,
  writes,
  type RequestLogEntry,
  type Scenario
} from '../../testkit/index.js'
import { labPerFile } from '../../testkit/jest-lab.js'

const KEY_URI = `https://${defaultNames.hsmName}.managedhsm.azure.net/keys/${KEY_NAME}`

/** An account of another resource group holds the name `fleet-taken` (names are global). */
function withTakenName(s: Scenario): void {
  s.subscriptions[0].resourceGroups!.push({
    name: 'rg-elsewhere',
    location: defaultNames.location,
    cosmosAccounts: [{ name: 'fleet-taken' }]
  })
  s.subscriptions[0].resourceGroups![0].cosmosAccounts = [{ name: 'fleet-plain' }]
}

const lab = labPerFile(() => preparedScenario(withTakenName))

interface AccountEntry {
  id?: string
  endpoint?: string
  defaultIdentity?: string
  principalId?: string
  changed: boolean
  error?: string
}

const accountsOutput = (outputs: Record<string, string>) =>
  JSON.parse(outputs.accounts) as Record<string, AccountEntry>

/** Requests on the account `name` that asked for a change. */
const accountWrites = (log: RequestLogEntry[], name: string) =>
  writes(log).filter(e => accountNameOf(e) === name)

/** The most of `spans` that overlap at one moment. */
function mostAtOnce(spans: { start: number; end: number }[]): number {
  return Math.max(
    0,
    ...spans.map(({ start }) => spans.filter(s => s.start <= start && s.end > start).length)
  )
}

const spanOf = (e: RequestLogEntry) => {
  const start = Date.parse(e.time)
  return { start, end: start + e.durationMs }
}

/** One run of the action for the accounts `names`, `accountConcurrency` at a time. */
const runFleet = (names: string[], accountConcurrency: number) =>
  lab.run(
    lab.inputs(names.join(','), 'first-party', {
      'account-concurrency': String(accountConcurrency)
    })
  )

/** The requests of a successful `runFleet`. */
async function requestsOfFleet(names: string[], accountConcurrency: number) {
  assertExit0(await runFleet(names, accountConcurrency))
  return lab.emulator.requests()
}

describe('a fleet of new accounts', () => {
  const names = ['fleet-a', 'fleet-b', 'fleet-c', 'fleet-d', 'fleet-e']

  it('creates every account on one key, sharing one key and one grant', async () => {
    const result = await runFleet(names, 2)
    assertExit0(result)
    const log = lab.emulator.requests()

    expect(log.filter(isKeyCreation)).toHaveLength(1)
    // The admin's grant and the Azure Cosmos DB principal's: once each, for all five accounts.
    expect(log.filter(isRoleAssignmentCreation)).toHaveLength(2)
    expect(log.filter(isAccountCreation).map(accountNameOf).sort()).toEqual(names)
    // The creations are seen through lists of the resource group's accounts, not polled one by one.
    expect(log.filter(e => e.kind === 'poll' && e.path.includes('Microsoft.DocumentDB'))).toEqual(
      []
    )
    const lists = log.filter(
      e => e.method === 'GET' && e.path.endsWith('/providers/Microsoft.DocumentDB/databaseAccounts')
    )
    expect(lists.length).toBeGreaterThan(0)

    const accounts = accountsOutput(result.outputs)
    expect(Object.keys(accounts)).toEqual(names)
    for (const name of names) {
      const account = cosmosAccount(lab.emulator, name)
      expect(account.keyVaultKeyUri).toBe(KEY_URI)
      expect(accounts[name]).toEqual({
        id: account.id,
        endpoint: `https://${name}.documents.azure.com:443/`,
        defaultIdentity: 'FirstPartyIdentity',
        principalId: result.outputs['cosmos-principal-id'],
        changed: true
      })
    }
    // The outputs of one account stay empty: there are five.
    expect(result.outputs['account-id']).toBe('')
    expect(result.outputs['key-uri']).toBe(KEY_URI)
    expect(result.outputs.changed).toBe('true')

    expect(result.summary).toContain('**5 accounts**: 5 done, 0 failed.')
    for (const name of names) {
      expect(result.summary).toMatch(new RegExp(`\\| ${name} \\| 🛠️ changed \\|`))
      expect(result.summary).toContain(`| Cosmos DB account (${name}) |`)
      expect(result.summary).toContain(`section account ${name}`)
    }
    expect(result.stdout).toContain('[fleet-c] ')

    lab.emulator.clearRequests()
    const again = await runFleet(names, 2)
    assertExit0(again)
    expect(writes(lab.emulator.requests())).toEqual([])
    expect(again.outputs.changed).toBe('false')
    expect(Object.values(accountsOutput(again.outputs)).map(a => a.changed)).toEqual(
      names.map(() => false)
    )
  })
})

describe('account-concurrency', () => {
  it('bounds the accounts at work at once, while the creations they wait for run side by side', async () => {
    // Every answer takes 150 ms and a creation 1.5 s, so that what overlaps shows in the log.
    lab.emulator.setTiming({ requestLatency: 150, cosmosCreate: 1500 })
    const names = ['slot-1', 'slot-2', 'slot-3', 'slot-4', 'slot-5', 'slot-6']
    const log = await requestsOfFleet(names, 2)
    const creations = log.filter(isAccountCreation)
    expect(creations.map(accountNameOf).sort()).toEqual(names)
    // Two creating requests in flight at most: each account's place is taken until its answer.
    expect(mostAtOnce(creations.map(spanOf))).toBe(2)
    // Every creation takes 1.5 s here: an account waiting for its own holds no place, so more than
    // two creations start before the first one ends.
    const firstEnds = Math.min(...creations.map(c => Date.parse(c.time))) + 1500
    expect(creations.filter(c => Date.parse(c.time) < firstEnds).length).toBeGreaterThan(2)
  })
})

describe('a fleet in which some accounts cannot be done', () => {
  const names = ['fleet-one', 'fleet-taken', 'fleet-plain', 'fleet-two']

  it('does the others, fails naming each failed account and why, and a re-run finishes only those', async () => {
    const first = await lab.run(lab.inputs(names.join('\n'), 'first-party'))
    expect(first.code).toBe(1)
    const message = first.stdout + first.stderr
    expect(message).toContain('2 of 4 accounts failed')
    expect(message).toMatch(/- fleet-taken: Cosmos DB account: .*already taken/)
    expect(message).toMatch(/- fleet-plain: Observe: .*enable-on-existing: true/)

    for (const name of ['fleet-one', 'fleet-two']) {
      expect(cosmosAccount(lab.emulator, name).keyVaultKeyUri).toBe(KEY_URI)
    }
    // Refused before any write of its own.
    expect(accountWrites(lab.emulator.requests(), 'fleet-plain')).toEqual([])
    expect(cosmosAccount(lab.emulator, 'fleet-plain').keyVaultKeyUri).toBeFalsy()

    const accounts = accountsOutput(first.outputs)
    expect(accounts['fleet-one'].changed).toBe(true)
    expect(accounts['fleet-one'].error).toBeUndefined()
    expect(accounts['fleet-taken'].error).toMatch(/^Cosmos DB account: .*already taken/)
    expect(accounts['fleet-plain'].error).toMatch(/^Observe: .*enable-on-existing/)
    expect(first.summary).toContain('**4 accounts**: 2 done, 2 failed.')
    expect(first.summary).toMatch(/\| fleet-taken \| ❌ failed: /)

    // The causes go away: the other account gives the name back, and enable-on-existing is set.
    const world = lab.emulator.store.world
    for (const [id, account] of Object.entries(world.cosmosAccounts)) {
      if (account.name === 'fleet-taken') delete world.cosmosAccounts[id]
    }
    lab.emulator.clearRequests()
    const again = await lab.run(
      lab.inputs(names.join('\n'), 'first-party', { 'enable-on-existing': 'true' })
    )
    assertExit0(again)
    const log = lab.emulator.requests()
    expect(accountWrites(log, 'fleet-one')).toEqual([])
    expect(accountWrites(log, 'fleet-two')).toEqual([])
    expect(log.filter(isAccountCreation).map(accountNameOf)).toEqual(['fleet-taken'])
    expect(accountWrites(log, 'fleet-plain')).toEqual([
      expect.objectContaining({ method: 'PATCH', bodyFields: ['properties.keyVaultKeyUri'] })
    ])
    expect(log.filter(isKeyCreation)).toEqual([])
    expect(log.filter(isRoleAssignmentCreation)).toEqual([])
    const after = accountsOutput(again.outputs)
    expect(Object.entries(after).map(([name, a]) => [name, a.changed])).toEqual([
      ['fleet-one', false],
      ['fleet-taken', true],
      ['fleet-plain', true],
      ['fleet-two', false]
    ])
  })
})

describe('a fleet of accounts on their own system-assigned identities', () => {
  const names = ['fleet-sa-1', 'fleet-sa-2', 'fleet-sa-3']

  it('grants each identity the key, and removes the shared bootstrap grant once, after the last account', async () => {
    const result = await lab.run(
      lab.inputs(names.join(','), 'system-assigned', {
        'account-concurrency': '2',
        'remove-bootstrap-assignment': 'true'
      })
    )
    assertExit0(result)
    const log = lab.emulator.requests()
    const deletions = log.filter(
      e => e.method === 'DELETE' && /roleAssignments/i.test(e.path) && e.status < 300
    )
    expect(deletions).toHaveLength(1)
    const lastAccountWrite = Math.max(
      ...names.flatMap(name => accountWrites(log, name).map(e => e.seq))
    )
    expect(deletions[0].seq).toBeGreaterThan(lastAccountWrite)

    const accounts = accountsOutput(result.outputs)
    const ids = JSON.parse(result.outputs['role-assignment-ids']) as string[]
    expect(ids).not.toContainEqual(expect.stringContaining(deletions[0].path.split('/').pop()!))
    for (const name of names) {
      const account = cosmosAccount(lab.emulator, name)
      expect(account.defaultIdentity).toBe('SystemAssignedIdentity')
      expect(accounts[name].principalId).toBe(account.systemAssignedPrincipalId)
      expect(accounts[name].principalId).toMatch(/^[0-9a-f-]{36}$/)
    }
    expect(new Set(names.map(name => accounts[name].principalId)).size).toBe(3)
    // The admin's assignment and one for each account's identity stand.
    expect(ids).toHaveLength(4)
  })
})

describe('a fleet in plan mode', () => {
  it('reads every account, writes nothing, and fails naming the account apply would refuse', async () => {
    const result = await lab.run(
      lab.inputs('fleet-p1,fleet-plain', 'first-party', { mode: 'plan' })
    )
    expect(result.code).toBe(1)
    expect(result.stdout + result.stderr).toMatch(
      /1 of 2 accounts failed[^]*- fleet-plain: Observe: /
    )
    expect(writes(lab.emulator.requests())).toEqual([])
    expect(result.summary).toContain('| fleet-p1 | 📝 would change |')
    expect(result.summary).toMatch(/\| fleet-plain \| ❌ failed: Observe: .*enable-on-existing/)
  })
})

describe('a matrix: one prepare job, then one job per account started together', () => {
  it('lets the prepare job own the key and the shared grants; the account jobs write only their account', async () => {
    const prepared = await lab.run(lab.inputs('', 'first-party', { mode: 'prepare' }))
    assertExit0(prepared)
    expect(prepared.outputs['key-uri']).toBe(KEY_URI)
    expect(prepared.outputs['cosmos-principal-id']).toMatch(/^[0-9a-f-]{36}$/)
    expect(prepared.outputs.accounts).toBe('')
    const preparation = lab.emulator.requests()
    expect(preparation.filter(isKeyCreation)).toHaveLength(1)
    expect(preparation.filter(isRoleAssignmentCreation)).toHaveLength(2)
    expect(preparation.filter(isAccountCreation)).toEqual([])

    lab.emulator.clearRequests()
    const names = ['matrix-1', 'matrix-2', 'matrix-3', 'matrix-4']
    const jobs = await Promise.all(names.map(name => lab.run(lab.inputs(name, 'first-party'))))
    for (const job of jobs) assertExit0(job)
    const log = lab.emulator.requests()
    expect(log.filter(isKeyCreation)).toEqual([])
    expect(log.filter(isRoleAssignmentCreation)).toEqual([])
    expect(
      writes(log)
        .map(e => accountNameOf(e))
        .sort()
    ).toEqual(names)
    for (const [i, name] of names.entries()) {
      expect(jobs[i].outputs['key-uri']).toBe(prepared.outputs['key-uri'])
      expect(jobs[i].outputs['key-version']).toBe(prepared.outputs['key-version'])
      expect(cosmosAccount(lab.emulator, name).keyVaultKeyUri).toBe(KEY_URI)
    }
  })

  it('refuses an account name in the prepare job, before any request', async () => {
    const result = await lab.run(lab.inputs('matrix-1', 'first-party', { mode: 'prepare' }))
    expect(result.code).toBe(1)
    expect(result.stdout + result.stderr).toContain(
      "Input 'account-name' is 'matrix-1': is for the accounts' jobs: mode 'prepare' makes the HSM, the key and the shared grants, no account."
    )
    expect(lab.emulator.requests()).toEqual([])
  })
})

describe('a fleet within the subscription write budget', () => {
  it('waits out every 429 for its Retry-After and creates every account', async () => {
    // Two writes in the bucket, two more a second: the fleet's account creations cannot all go at once.
    lab.emulator.setTiming({ armWriteBucket: 2, armWriteRefillPerSecond: 2 })
    const names = ['budget-1', 'budget-2', 'budget-3', 'budget-4', 'budget-5', 'budget-6']
    const result = await runFleet(names, 6)
    assertExit0(result)
    const log = lab.emulator.requests()
    const throttled = log.filter(e => e.status === 429)
    expect(throttled.length).toBeGreaterThan(0)
    expect(throttled.every(e => e.retryAfterSeconds !== undefined)).toBe(true)
    // Every account created once, each after its 429s.
    expect(
      log
        .filter(e => isAccountCreation(e) && e.status < 300)
        .map(accountNameOf)
        .sort()
    ).toEqual(names)
    for (const name of names) {
      expect(cosmosAccount(lab.emulator, name).keyVaultKeyUri).toBe(KEY_URI)
    }
    expect(Object.values(accountsOutput(result.outputs)).every(a => !a.error)).toBe(true)
  })
})

describe('verify over a fleet', () => {
  const names = ['verify-sa-1', 'verify-sa-2', 'verify-sa-3']
  const inputs = (mode: 'apply' | 'verify') =>
    lab.inputs(names.join(','), 'system-assigned', { mode })

  it('checks the HSM and the key once and each account on its own, and fails naming only the account that lost its grant', async () => {
    assertExit0(await lab.run(inputs('apply')))
    lab.emulator.clearRequests()
    const healthy = await lab.run(inputs('verify'))
    assertExit0(healthy)
    expect(writes(lab.emulator.requests())).toEqual([])
    expect(healthy.outputs.healthy).toBe('true')
    const checks = JSON.parse(healthy.outputs.findings) as { account?: string; check: string }[]
    // The key's own checks once; each account's checks with its name.
    expect(checks.filter(c => /RSA-HSM with wrapKey/.test(c.check))).toHaveLength(1)
    for (const name of names) {
      expect(checks.filter(c => c.account === name).length).toBeGreaterThanOrEqual(5)
    }

    const lost = cosmosAccount(lab.emulator, 'verify-sa-2').systemAssignedPrincipalId!
    const removed = await adminRequest(lab.emulator, '/hsm-role-assignments', 'DELETE', {
      hsm: defaultNames.hsmName,
      principalId: lost
    })
    expect(removed.json.removed?.length).toBe(1)
    const revoked = await lab.run(inputs('verify'))
    expect(revoked.code).toBe(1)
    expect(revoked.outputs.healthy).toBe('false')
    const message = revoked.stdout + revoked.stderr
    expect(message).toMatch(new RegExp(`- verify-sa-2: Cosmos DB key access: ${lost} holds`))
    expect(message).not.toMatch(/- verify-sa-[13]: /)
    const accounts = accountsOutput(revoked.outputs)
    expect(accounts['verify-sa-2'].error).toMatch(/^Verify: .*no such assignment/)
    expect(accounts['verify-sa-1'].error).toBeUndefined()
    expect(accounts['verify-sa-3'].error).toBeUndefined()
  })
})
