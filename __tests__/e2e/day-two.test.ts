/**
 * Day two of an account the bundled action provisioned: the key rotates and the account follows
 * after Azure Cosmos DB's lag; the account's grant is taken away and the account shows the
 * revocation, and a re-run of the action restores access. Key and grant changes go through the
 * local Azure's admin API, as a test of the action's own day-two modes would make them.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import {
  assertExit0,
  cosmosServicePrincipal,
  defaultNames,
  KEY_NAME,
  preparedScenario,
  startLab,
  type Lab
} from '../../testkit/index.js'

const HOUR = 3_600_000

let lab: Lab

beforeAll(async () => {
  lab = await startLab(preparedScenario())
})

afterAll(async () => {
  await lab?.stop()
})

beforeEach(() => {
  lab.emulator.reset()
  lab.emulator.clearRequests()
})

async function admin(
  path: string,
  method: string,
  body: unknown
): Promise<{ status: number; json: { version?: string; removed?: unknown[] } }> {
  const res = await fetch(`${lab.emulator.adminUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body)
  })
  return {
    status: res.status,
    json: (await res.json()) as { version?: string; removed?: unknown[] }
  }
}

function account(name: string) {
  const found = Object.values(lab.emulator.store.world.cosmosAccounts).find(a => a.name === name)
  if (!found) throw new Error(`no account ${name}`)
  return found
}

type AccountState = { keyVersionInUse?: string; revoked?: { code: number } }

/** The account as of now: `/_emulator/state` first moves the world to the emulator's clock. */
async function stateOf(name: string): Promise<AccountState> {
  const world = (await fetch(`${lab.emulator.adminUrl}/state`).then(r => r.json())) as {
    cosmosAccounts: Record<string, AccountState>
  }
  return world.cosmosAccounts[account(name).id.toLowerCase()]!
}

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
