/**
 * Day two of an account the bundled action provisioned: the key rotates and the account follows
 * after Azure Cosmos DB's lag; the account's grant is taken away and the account shows the
 * revocation, and a re-run of the action restores access. Key and grant changes go through the
 * local Azure's admin API, as a test of the action's own day-two modes would make them. The
 * rotation policy the action keeps (key-rotate-after, key-expire-after) and its on-demand rotation
 * (rotate-key) show in mode verify as lag until the account has caught up.
 */
import { describe, expect, it } from '@jest/globals'
import {
  assertExit0,
  cosmosServicePrincipal,
  defaultNames,
  describeRequest,
  KEY_NAME,
  writes,
  type ActionRun
} from '../../testkit/index.js'
import { dayTwoLab, HOUR } from './day-two-lab.js'

const { lab, admin, stateOf } = dayTwoLab()

describe('day two of an account the action provisioned', () => {
  it('follows a key rotation after the lag, and a re-run of the action changes nothing', async () => {
    const name = 'day-two-rotation'
    const first = await lab.run(lab.inputs(name, 'first-party'))
    assertExit0(first)
    const version = first.outputs['key-version']
    expect((await stateOf(name)).keyVersionInUse).toBe(version)

    lab.emulator.setTiming({ cosmosKeyVersionLag: 24 * HOUR })
    const rotated = await admin('/hsm-key/rotate', 'POST', {
      hsm: defaultNames.hsmName,
      key: KEY_NAME
    })
    expect(rotated.status).toBe(200)
    const again = await lab.run(lab.inputs(name, 'first-party'))
    assertExit0(again)
    expect(again.outputs['key-version']).toBe(rotated.json.version)
    expect((await stateOf(name)).keyVersionInUse).toBe(version)
    lab.emulator.advanceClock(24 * HOUR)
    expect((await stateOf(name)).keyVersionInUse).toBe(rotated.json.version)
  })

  it('shows a removed grant as revocation 4002, and recovers once a re-run grants it again', async () => {
    const name = 'day-two-revocation'
    assertExit0(await lab.run(lab.inputs(name, 'first-party')))
    const cosmos = cosmosServicePrincipal(lab.emulator.store.world)!
    const removed = await admin('/hsm-role-assignments', 'DELETE', {
      hsm: defaultNames.hsmName,
      principalId: cosmos.id
    })
    expect(removed.json.removed?.length).toBeGreaterThan(0)
    expect((await stateOf(name)).revoked?.code).toBe(4002)

    const rerun = await lab.run(lab.inputs(name, 'first-party'))
    assertExit0(rerun)
    const grants = Object.values(
      lab.emulator.store.world.hsmDataPlanes[defaultNames.hsmName]!.roleAssignments
    ).filter(a => a.principalId === cosmos.id)
    expect(grants.length).toBeGreaterThan(0)
    lab.emulator.advanceClock(1)
    expect((await stateOf(name)).revoked).toBeUndefined()
  })
})

const hsmHost = `${defaultNames.hsmName}.managedhsm.azure.net`

function key() {
  return lab.emulator.store.world.hsmDataPlanes[defaultNames.hsmName]!.keys[KEY_NAME]!
}

const versions = () => key().versions.map(v => v.version)

interface Finding {
  step: string
  check: string
  result: 'ok' | 'warning' | 'failed'
  observed: string
}

const findings = (run: ActionRun): Finding[] => JSON.parse(run.outputs.findings ?? '[]')

/** Runs the action and returns what it wrote, by request. */
async function runAndWrites(inputs: Record<string, string>) {
  lab.emulator.clearRequests()
  const run = await lab.run(inputs)
  return { run, writes: writes(lab.emulator.requests()).map(describeRequest) }
}

describe('the key rotation the action manages', () => {
  it('keeps the rotation policy of the inputs, and verify shows an on-demand rotation as lag until the account catches up', async () => {
    const name = 'day-two-policy'
    const policy = { 'key-rotate-after': 'P90D', 'key-expire-after': 'P2Y' }
    const first = await lab.run(lab.inputs(name, 'first-party', policy))
    assertExit0(first)
    expect(key().rotationPolicy).toMatchObject({
      lifetimeActions: [{ timeAfterCreate: 'P90D' }],
      expiryTime: 'P2Y'
    })
    const created = versions()
    expect(created).toEqual([first.outputs['key-version']])

    const again = await runAndWrites(lab.inputs(name, 'first-party', policy))
    assertExit0(again.run)
    expect(again.writes).toEqual([])
    expect(again.run.outputs.changed).toBe('false')
    expect(versions()).toEqual(created)

    // Rotated now by the action (rotate-key); Azure Cosmos DB moves to the new version later.
    lab.emulator.setTiming({ cosmosKeyVersionLag: 2 * HOUR })
    const rotated = await runAndWrites(
      lab.inputs(name, 'first-party', { ...policy, 'rotate-key': 'true' })
    )
    assertExit0(rotated.run)
    expect(rotated.writes).toEqual([`POST ${hsmHost}/keys/${KEY_NAME}/rotate`])
    const newVersion = rotated.run.outputs['key-version']
    expect(versions()).toEqual([...created, newVersion])
    expect(key().versions.every(v => v.enabled)).toBe(true)

    const verify = lab.inputs(name, 'first-party', { ...policy, mode: 'verify' })
    const lagging = await runAndWrites(verify)
    assertExit0(lagging.run)
    expect(lagging.writes).toEqual([])
    expect(lagging.run.outputs).toMatchObject({
      healthy: 'true',
      'key-version': newVersion,
      'key-version-in-use': created[0]
    })
    // The lag is the one finding that is not ok, and it is a warning.
    expect(findings(lagging.run).filter(f => f.result !== 'ok')).toEqual([
      expect.objectContaining({
        check: 'uses the current key version (within 24 hours of a rotation)',
        result: 'warning',
        observed: expect.stringContaining(
          `uses version ${created[0]}; the current version ${newVersion}`
        )
      })
    ])
    expect(lagging.run.summary).toContain('⚠️ warning')

    lab.emulator.advanceClock(2 * HOUR)
    const caughtUp = await runAndWrites(verify)
    assertExit0(caughtUp.run)
    expect(caughtUp.writes).toEqual([])
    expect(caughtUp.run.outputs).toMatchObject({
      healthy: 'true',
      'key-version-in-use': newVersion
    })
    expect(findings(caughtUp.run)).toContainEqual(
      expect.objectContaining({
        check: 'uses the current key version',
        result: 'ok',
        observed: `version ${newVersion}`
      })
    )
    expect(findings(caughtUp.run).filter(f => f.result !== 'ok')).toEqual([])
  })
})
