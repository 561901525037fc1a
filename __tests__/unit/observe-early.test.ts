/** The HSM's data-plane reads of the observation, started before ARM has answered for the HSM. */
import { describe, expect, it } from '@jest/globals'
import type { HsmDataPlane } from '../../src/azure/api.js'
import { FakeAzure, baseInputs } from './fakes.js'
import { harness } from './helpers.js'

interface DataPlaneRead {
  host: string
  read: 'key' | 'grants'
  signal?: AbortSignal
}

/** A FakeAzure that holds ARM's read of the HSM until released and notes each data-plane read. */
class EarlyAzure extends FakeAzure {
  reads: DataPlaneRead[] = []
  private release = () => {}
  private readonly held = new Promise<void>(resolve => (this.release = resolve))
  constructor() {
    super()
    this.around('managedHsms', 'get', get => async (...args) => {
      await this.held
      return get(...args)
    })
  }
  override hsm(hsmUri?: string): HsmDataPlane {
    const plane = super.hsm()
    const host = new URL(hsmUri ?? 'https://unknown').host
    return {
      ...plane,
      keys: {
        ...plane.keys,
        get: (name, options) => {
          this.reads.push({ host, read: 'key', signal: options?.signal })
          return plane.keys.get(name)
        }
      },
      rbac: {
        ...plane.rbac,
        listForPrincipal: (scope, principalId, options) => {
          this.reads.push({ host, read: 'grants', signal: options?.signal })
          return plane.rbac.listForPrincipal(scope, principalId)
        }
      }
    }
  }
  answerForHsm(): void {
    this.release()
  }
}

const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise(resolve => setImmediate(resolve))
}

const observationReads = (azure: EarlyAzure) =>
  azure.reads.slice(0, 2).map(({ host, read }) => `${read} at ${host}`)

describe("the HSM's data plane, read alongside ARM's read of the HSM", () => {
  it('reads the key and the admin grants at the host the HSM name gives before ARM answers', async () => {
    const azure = new EarlyAzure().withActiveHsm().withKey()
    const run = harness(azure).run()
    await settle()
    expect(observationReads(azure).sort()).toEqual([
      'grants at hsm-cmk.managedhsm.azure.net',
      'key at hsm-cmk.managedhsm.azure.net'
    ])
    azure.answerForHsm()
    await run
    expect(azure.reads.slice(0, 2).every(r => r.signal && !r.signal.aborted)).toBe(true)
  })

  it('reads nothing on the data plane before ARM answers when the HSM may still have to be created', async () => {
    const azure = new EarlyAzure().withActiveHsm().withKey()
    const inputs = baseInputs()
    const run = harness(azure).run({ ...inputs, hsm: { ...inputs.hsm, create: true } })
    await settle()
    expect(azure.reads).toEqual([])
    azure.answerForHsm()
    await run
    expect(observationReads(azure).sort()).toEqual([
      'grants at hsm-cmk.managedhsm.azure.net',
      'key at hsm-cmk.managedhsm.azure.net'
    ])
  })

  it('cancels the early reads and reads again at the host ARM names when it is another', async () => {
    const azure = new EarlyAzure()
      .withActiveHsm({ hsmUri: 'https://hsm-cmk.eu.managedhsm.example/' })
      .withKey()
    const run = harness(azure).run()
    await settle()
    const early = [...azure.reads]
    azure.answerForHsm()
    await run
    expect(early.map(r => r.host)).toEqual([
      'hsm-cmk.managedhsm.azure.net',
      'hsm-cmk.managedhsm.azure.net'
    ])
    expect(early.every(r => r.signal?.aborted)).toBe(true)
    expect(
      azure.reads
        .slice(2, 4)
        .map(({ host, read }) => `${read} at ${host}`)
        .sort()
    ).toEqual(['grants at hsm-cmk.eu.managedhsm.example', 'key at hsm-cmk.eu.managedhsm.example'])
  })

  it('cancels the early reads when ARM finds no such HSM', async () => {
    const azure = new EarlyAzure()
    const run = harness(azure).run()
    await settle()
    azure.answerForHsm()
    await expect(run).rejects.toMatchObject({ step: 'Observe' })
    expect(azure.reads).toHaveLength(2)
    expect(azure.reads.every(r => r.signal?.aborted)).toBe(true)
  })
})
