/**
 * Accounts that exist before the bundled action first runs: one without a customer-managed key
 * gets the key in place (an update that carries the key URI alone), a re-run while the
 * re-encryption still runs watches it instead of asking again, and every account the action may
 * not or cannot change in place is refused before any write.
 */
import type { ChildProcess } from 'node:child_process'
import { describe, expect, it } from '@jest/globals'
import {
  accountNameOf,
  advanceWorld,
  assertExit0,
  cosmosAccount,
  cosmosServicePrincipal,
  defaultNames,
  errorMessage,
  groupOf,
  hsmOf,
  isAccountCreation,
  KEY_NAME,
  preparedScenario,
  writes,
  type ActionRun,
  type RequestLogEntry,
  type Scenario
} from '../../testkit/index.js'
import { labPerFile } from '../../testkit/jest-lab.js'

const MINUTE = 60_000
const KEY_URI = `https://${defaultNames.hsmName}.managedhsm.azure.net/keys/${KEY_NAME}`
const OTHER_KEY_URI = `https://${defaultNames.hsmName}.managedhsm.azure.net/keys/other-key`

/** Accounts as another tool left them: without a key, or on another key of the same HSM. */
function existingAccounts(s: Scenario): void {
  hsmOf(s).keys = [{ name: 'other-key', size: 3072, ops: ['wrapKey', 'unwrapKey'] }]
  groupOf(s).cosmosAccounts = [
    { name: 'existing-plain' },
    { name: 'existing-resumed' },
    { name: 'existing-refused' },
    { name: 'existing-cassandra', capabilities: ['EnableCassandra'] },
    { name: 'existing-continuous', backupPolicy: 'Continuous7Days' },
    { name: 'existing-other-key', keyVaultKeyUri: OTHER_KEY_URI }
  ]
}

const lab = labPerFile(() => preparedScenario(existingAccounts))

const account = (name: string) => cosmosAccount(lab.emulator, name)

/** The requests that changed (or tried to change) the account `name`. */
const accountWrites = (log: RequestLogEntry[], name: string) =>
  writes(log).filter(e => accountNameOf(e) === name)

/** Every request other than a token exchange that is not a plain read. */
const nonReads = (log: RequestLogEntry[]) =>
  log.filter(e => e.kind !== 'token' && e.method !== 'GET' && e.method !== 'HEAD')

describe('an existing account without a customer-managed key, enable-on-existing true', () => {
  it('gets the key in place, in an update that carries the key URI alone', async () => {
    const name = 'existing-plain'
    const before = structuredClone(account(name))
    const result = await lab.run(lab.inputs(name, 'first-party', { 'enable-on-existing': 'true' }))
    assertExit0(result)
    expect(result.stdout).toMatch(
      new RegExp(`Turning customer-managed keys on for Cosmos DB account '${name}'.*irreversible`)
    )

    const log = lab.emulator.requests()
    expect(log.some(isAccountCreation)).toBe(false)
    const updates = accountWrites(log, name)
    expect(updates).toEqual([
      expect.objectContaining({
        method: 'PATCH',
        status: 200,
        bodyFields: ['properties.keyVaultKeyUri']
      })
    ])

    const after = account(name)
    expect(after.keyVaultKeyUri).toBe(KEY_URI)
    expect(after.provisioningState).toBe('Succeeded')
    // Nothing else about the account changed.
    expect(after.defaultIdentity).toBe(before.defaultIdentity)
    expect(after.identityType).toBe(before.identityType)
    expect(after.tags).toEqual(before.tags)

    const key = lab.emulator.store.world.hsmDataPlanes[defaultNames.hsmName]!.keys[KEY_NAME]!
    expect(result.outputs).toMatchObject({
      'key-uri': KEY_URI,
      'key-version': key.versions.at(-1)!.version,
      'account-id': after.id,
      'default-identity': 'FirstPartyIdentity',
      'cosmos-principal-id': cosmosServicePrincipal(lab.emulator.store.world)!.id,
      'key-version-in-use': key.versions.at(-1)!.version,
      changed: 'true'
    })
    expect(result.outputs['account-endpoint']).toMatch(/^https:\/\/existing-plain\./)
    expect(lab.leaks(result)).toEqual([])
  })
})

describe('a re-run while the re-encryption still runs', () => {
  it('watches the running re-encryption instead of sending the update again', async () => {
    const name = 'existing-resumed'
    // Long enough to outlive the first run; short enough that an ID token fetched just before the
    // clock jumps over it mid-run is still valid after the jump (GitHub's live five minutes).
    const encryption = 4 * MINUTE
    lab.emulator.setTiming({ cosmosEncryption: encryption })
    const inputs = lab.inputs(name, 'first-party', { 'enable-on-existing': 'true' })

    // The first run is stopped (as a runner stops a job at its timeout) while it watches the
    // re-encryption: at its first look at the operation's status.
    let child: ChildProcess | undefined
    const stopWhileWatching = (entry: RequestLogEntry) => {
      if (entry.kind === 'poll' && /\/operationsStatus\//i.test(entry.path)) child?.kill('SIGKILL')
    }
    lab.emulator.on('request', stopWhileWatching)
    const first = await lab
      .run(inputs, { onSpawn: c => (child = c) })
      .finally(() => lab.emulator.off('request', stopWhileWatching))
    expect(first).toMatchObject({ code: null, signal: 'SIGKILL' })
    expect(accountWrites(lab.emulator.requests(), name)).toEqual([
      expect.objectContaining({ method: 'PATCH', bodyFields: ['properties.keyVaultKeyUri'] })
    ])
    expect(account(name)).toMatchObject({ keyVaultKeyUri: KEY_URI, provisioningState: 'Updating' })

    // The second run finds the account on the key, still updating; the re-encryption ends once
    // the clock has passed its end, after the run's first look at the account.
    lab.emulator.clearRequests()
    let seenUpdating = false
    const finishOnFirstRead = (entry: RequestLogEntry) => {
      if (seenUpdating || entry.method !== 'GET' || accountNameOf(entry) !== name) return
      seenUpdating = account(name).provisioningState === 'Updating'
      lab.emulator.advanceClock(encryption)
    }
    lab.emulator.on('request', finishOnFirstRead)
    const second = await lab
      .run(inputs)
      .finally(() => lab.emulator.off('request', finishOnFirstRead))
    assertExit0(second)
    expect(seenUpdating).toBe(true)

    // No second update, nor any other write: the run only watched until the account was done.
    const log = lab.emulator.requests()
    expect(writes(log)).toEqual([])
    const reads = log.filter(e => e.method === 'GET' && accountNameOf(e) === name)
    expect(reads.length).toBeGreaterThan(1)
    const key = lab.emulator.store.world.hsmDataPlanes[defaultNames.hsmName]!.keys[KEY_NAME]!
    expect(account(name)).toMatchObject({
      keyVaultKeyUri: KEY_URI,
      provisioningState: 'Succeeded',
      keyVersionInUse: key.versions.at(-1)!.version
    })
    expect(second.outputs).toMatchObject({
      'key-uri': KEY_URI,
      'account-id': account(name).id,
      'key-version-in-use': key.versions.at(-1)!.version,
      changed: 'false'
    })
  })
})

interface Refusal {
  name: string
  account: string
  inputs: Record<string, string>
  /** Every pattern must appear in the failure message. */
  says: string[]
}

const refusals: Refusal[] = [
  {
    name: 'an account without a key when enable-on-existing is false',
    account: 'existing-refused',
    inputs: { 'enable-on-existing': 'false' },
    says: [
      "'existing-refused' exists without a customer-managed key",
      'Set enable-on-existing: true',
      'irreversible'
    ]
  },
  {
    name: 'a Cassandra account',
    account: 'existing-cassandra',
    inputs: { 'enable-on-existing': 'true' },
    says: ["'existing-cassandra' uses the Cassandra API", 'Create a new account with the key']
  },
  {
    name: 'an account with continuous backup and FirstPartyIdentity',
    account: 'existing-continuous',
    inputs: { 'enable-on-existing': 'true' },
    says: [
      "'existing-continuous' has continuous backup",
      'its default identity is FirstPartyIdentity',
      "identity-mode 'system-assigned' or 'user-assigned'"
    ]
  },
  {
    name: 'an account on another key when key-switch is false',
    account: 'existing-other-key',
    inputs: { 'key-switch': 'false', 'enable-on-existing': 'true' },
    says: [`is encrypted with key ${OTHER_KEY_URI}, not ${KEY_URI}`, 'set key-switch: true']
  }
]

describe('refused before any write', () => {
  it.each(refusals)('$name', async c => {
    // The world as the action will find it (what the local Azure does on its own has happened).
    advanceWorld(lab.emulator.store.world, lab.emulator.now())
    const before = lab.emulator.store.snapshot()
    const result: ActionRun = await lab.run(lab.inputs(c.account, 'first-party', c.inputs))
    expect(result.code).toBe(1)
    const message = errorMessage(result)
    for (const words of c.says) expect(message).toContain(words)

    const log = lab.emulator.requests()
    expect(log.some(e => accountNameOf(e) === c.account)).toBe(true)
    expect(nonReads(log)).toEqual([])
    expect(writes(log)).toEqual([])
    expect(lab.emulator.store.snapshot()).toEqual(before)
    expect(result.outputs).toEqual({})
  })
})
