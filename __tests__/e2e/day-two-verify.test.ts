/**
 * mode verify of an account the bundled action provisioned, once Azure Cosmos DB has lost its
 * key: the key disabled, or the grant of the account's identity removed. Verify fails naming the
 * revocation code, writes nothing, and passes again once access is back and Azure Cosmos DB has
 * noticed (its recovery runs on the local Azure's clock). Key and grant changes go through the
 * local Azure's admin API.
 */
import { describe, expect, it } from '@jest/globals'
import {
  assertExit0,
  cosmosServicePrincipal,
  defaultNames,
  describeRequest,
  errorMessage,
  isRoleAssignmentCreation,
  KEY_NAME,
  writes,
  type ActionRun
} from '../../testkit/index.js'
import { dayTwoLab, HOUR } from './day-two-lab.js'

const { lab, admin, stateOf } = dayTwoLab()

const findings = (run: ActionRun): { result: string }[] => JSON.parse(run.outputs.findings ?? '[]')

/** Runs the action and returns what it wrote, by request. */
async function runAndWrites(inputs: Record<string, string>) {
  lab.emulator.clearRequests()
  const run = await lab.run(inputs)
  return { run, writes: writes(lab.emulator.requests()).map(describeRequest) }
}

/** The action's inputs for `name`, in `mode`. */
const inputs = (name: string, mode: 'apply' | 'verify') => lab.inputs(name, 'first-party', { mode })

/** Provisions `name` and checks that verify passes it; Azure Cosmos DB recovers after an hour. */
async function provisioned(name: string): Promise<void> {
  // Azure Cosmos DB takes a while to notice that access is back ("wait upwards to one hour").
  lab.emulator.setTiming({ cosmosRevocationRecovery: HOUR })
  assertExit0(await lab.run(inputs(name, 'apply')))
  const healthy = await runAndWrites(inputs(name, 'verify'))
  assertExit0(healthy.run)
  expect(healthy.run.outputs).toMatchObject({ healthy: 'true', 'key-status-code': '' })
  expect(healthy.writes).toEqual([])
}

/** Verify failed on revocation 4002, saying so, and for `because` too; it wrote nothing. */
function expectRevoked(verified: { run: ActionRun; writes: string[] }, because: RegExp): void {
  const { run } = verified
  expect(run.code).toBe(1)
  expect(run.outputs).toMatchObject({ healthy: 'false', 'key-status-code': '4002' })
  const message = errorMessage(run)
  expect(message).toMatch(/^Verify found \d+ problem/)
  expect(message).toMatch(/revoked with code 4002: the default identity may not use the key/)
  expect(message).toMatch(because)
  expect(verified.writes).toEqual([])
}

/** Verify passed, every check without a failure. */
function expectHealthy(verified: { run: ActionRun; writes: string[] }): void {
  assertExit0(verified.run)
  expect(verified.run.outputs).toMatchObject({ healthy: 'true', 'key-status-code': '' })
  expect(findings(verified.run).filter(f => f.result === 'failed')).toEqual([])
  expect(verified.writes).toEqual([])
}

describe('mode verify of an account that lost its key', () => {
  it('fails naming revocation 4002 while the key is disabled, and passes once it is enabled again and the account has recovered', async () => {
    const name = 'verify-disabled-key'
    await provisioned(name)
    const key = { hsm: defaultNames.hsmName, key: KEY_NAME }

    expect((await admin('/hsm-key', 'PATCH', { ...key, enabled: false })).status).toBe(200)
    expectRevoked(await runAndWrites(inputs(name, 'verify')), /it is disabled/)

    expect((await admin('/hsm-key', 'PATCH', { ...key, enabled: true })).status).toBe(200)
    expect((await stateOf(name)).revoked?.code).toBe(4002)
    lab.emulator.advanceClock(HOUR)
    expectHealthy(await runAndWrites(inputs(name, 'verify')))
  })

  it('fails naming revocation 4002 while the grant is gone, and passes once a re-run of the action has granted it again and the account has recovered', async () => {
    const name = 'verify-removed-grant'
    await provisioned(name)
    const cosmos = cosmosServicePrincipal(lab.emulator.store.world)!

    const removed = await admin('/hsm-role-assignments', 'DELETE', {
      hsm: defaultNames.hsmName,
      principalId: cosmos.id
    })
    expect(removed.json.removed?.length).toBeGreaterThan(0)
    expectRevoked(
      await runAndWrites(inputs(name, 'verify')),
      new RegExp(
        `${cosmos.id} holds 'Managed HSM Crypto Service Encryption User'.*no such assignment`
      )
    )

    const restored = await runAndWrites(inputs(name, 'apply'))
    assertExit0(restored.run)
    expect(lab.emulator.requests().filter(isRoleAssignmentCreation)).toHaveLength(1)
    expect((await stateOf(name)).revoked?.code).toBe(4002)
    lab.emulator.advanceClock(HOUR)
    expectHealthy(await runAndWrites(inputs(name, 'verify')))
  })
})
