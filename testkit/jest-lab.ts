/**
 * The lab of one Jest test file, for files that share one local Azure across their tests. Only
 * for tests: it registers Jest hooks, so it is not exported from the kit's index.
 */
import { afterAll, beforeAll, beforeEach } from '@jest/globals'
import type { Scenario } from './emulator.js'
import { startLab, type Lab } from './lab.js'

/**
 * Starts a lab from `scenario()` before the file's first test, resets its world and request log
 * before each test, and stops it after the last. The object returned stands for that lab.
 */
export function labPerFile(scenario: () => Scenario): Lab {
  let lab: Lab | undefined
  beforeAll(async () => {
    lab = await startLab(scenario())
  })
  afterAll(async () => {
    await lab?.stop()
  })
  beforeEach(() => {
    lab!.emulator.reset()
    lab!.emulator.clearRequests()
  })
  return new Proxy({} as Lab, {
    get(_, property) {
      if (!lab) throw new Error('The lab starts before the first test; use it inside tests.')
      return Reflect.get(lab, property, lab) as unknown
    }
  })
}
