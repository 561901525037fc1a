/**
 * mode teardown with the bundled action against the local Azure: a per-PR account is removed with
 * exactly the grants the action made for it; the key, its versions, the HSM and every foreign
 * assignment stay; refusals write nothing; a run killed halfway is finished by the next one.
 */
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals'
import {
  Lab,
  KEY_NAME,
  assertExit0,
  crashAtWrite,
  defaultNames,
  errorMessage,
  hsmOf,
  preparedScenario,
  withReadableKey,
  writes,
  type World
} from '../../testkit/index.js'

const ACCOUNT = 'pr-12-teardown'
const FOREIGN = '12121212-1212-4212-8212-121212121212'

let lab: Lab

beforeEach(async () => {
  lab = await Lab.start(
    preparedScenario(s => {
      withReadableKey(s)
      // Somebody else's grant on the same key.
      hsmOf(s).roleAssignments!.push({
        name: 'foreign-grant',
        role: 'Managed HSM Crypto Service Encryption User',
        principalId: FOREIGN,
        scope: `/keys/${KEY_NAME}`
      })
    })
  )
  assertExit0(await lab.run(lab.inputs(ACCOUNT, 'system-assigned')), 'apply')
})

afterEach(async () => {
  await lab?.stop()
})

const teardown = (extra: Record<string, string> = {}) =>
  lab.inputs(ACCOUNT, 'system-assigned', {
    mode: 'teardown',
    'confirm-teardown': ACCOUNT,
    ...extra
  })

function hsmState(world: World) {
  const plane = world.hsmDataPlanes[defaultNames.hsmName.toLowerCase()]
  return {
    hsm: Object.values(world.managedHsms).map(h => ({ ...h, tags: undefined })),
    keys: plane.keys,
    assignments: plane.roleAssignments
  }
}

function accounts(world: World): string[] {
  return Object.values(world.cosmosAccounts).map(a => a.name)
}

describe('mode teardown', () => {
  test('removes the account and its grants only, and never the key, its versions or the HSM', async () => {
    const before = hsmState(lab.emulator.store.snapshot())
    const systemPrincipal = Object.values(lab.emulator.store.world.cosmosAccounts).find(
      a => a.name === ACCOUNT
    )?.systemAssignedPrincipalId
    expect(systemPrincipal).toBeDefined()
    assertExit0(await lab.run(teardown()), 'teardown')
    const after = lab.emulator.store.snapshot()
    expect(accounts(after)).not.toContain(ACCOUNT)
    const state = hsmState(after)
    expect(state.keys).toEqual(before.keys)
    expect(state.hsm).toEqual(before.hsm)
    const remaining = Object.values(state.assignments)
    expect(remaining.map(a => a.principalId)).toContain(FOREIGN)
    expect(remaining.map(a => a.principalId)).toContain(defaultNames.clientObjectId)
    expect(remaining.map(a => a.principalId)).not.toContain(systemPrincipal)
    // Nothing but this action's grants for the account went away: its system identity's and the
    // first-party grant it was created with (no other account uses the key).
    const ours = [systemPrincipal, defaultNames.cosmosObjectId]
    expect(Object.keys(state.assignments).sort()).toEqual(
      Object.entries(before.assignments)
        .filter(([, a]) => !ours.includes(a.principalId))
        .map(([k]) => k)
        .sort()
    )
  })

  test('plan-teardown lists what would go and writes nothing', async () => {
    const since = lab.emulator.requests().length
    const result = await lab.run(lab.inputs(ACCOUNT, 'system-assigned', { mode: 'plan-teardown' }))
    assertExit0(result, 'plan-teardown')
    expect(writes(lab.emulator.requests().slice(since))).toEqual([])
    expect(result.summary).toMatch(/Account deletion/)
    expect(result.summary).toMatch(/would change/)
  })

  test('refuses a protected account before any write', async () => {
    const since = lab.emulator.requests().length
    const result = await lab.run(teardown({ 'protected-tags': 'created-by=cosmos-cmk-hsm-action' }))
    expect(result.code).toBe(1)
    expect(errorMessage(result)).toMatch(/protected-tags puts off limits/)
    expect(writes(lab.emulator.requests().slice(since))).toEqual([])
    expect(accounts(lab.emulator.store.snapshot())).toContain(ACCOUNT)
  })

  test('a run killed after the account deletion is finished by the next run', async () => {
    const before = Object.values(hsmState(lab.emulator.store.snapshot()).assignments)
    const ours = [
      Object.values(lab.emulator.store.world.cosmosAccounts).find(a => a.name === ACCOUNT)
        ?.systemAssignedPrincipalId,
      defaultNames.cosmosObjectId
    ]
    // The writes: the note on the HSM, the account deletion, then the grants.
    const crash = crashAtWrite(lab.emulator, 3, 'lands')
    try {
      const killed = await lab.run(teardown(), { onSpawn: crash.onSpawn })
      expect(killed.code).not.toBe(0)
      await crash.settled()
    } finally {
      crash.dispose()
    }
    expect(accounts(lab.emulator.store.snapshot())).not.toContain(ACCOUNT)
    assertExit0(await lab.run(teardown()), 'teardown again')
    const hsm = Object.values(lab.emulator.store.snapshot().managedHsms)[0]
    expect(Object.keys(hsm.tags ?? {})).not.toContain(`cmk-teardown-${ACCOUNT}`)
    const after = Object.values(hsmState(lab.emulator.store.snapshot()).assignments)
    // Exactly this run's grants are gone; every other assignment stays.
    expect(after.map(a => a.name).sort()).toEqual(
      before
        .filter(a => !ours.includes(a.principalId))
        .map(a => a.name)
        .sort()
    )
    expect(after.map(a => a.principalId)).toContain(FOREIGN)
  })
})
