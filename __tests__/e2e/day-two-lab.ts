/**
 * The lab of a day-two test file: one local Azure from the prepared scenario, shared by the file's
 * tests, with Azure's side of day two (a key rotated or disabled, a grant taken away) played out
 * through its admin API.
 */
import { adminRequest, cosmosAccountNow, preparedScenario } from '../../testkit/index.js'
import { labPerFile } from '../../testkit/jest-lab.js'

export const HOUR = 3_600_000

export function dayTwoLab() {
  const lab = labPerFile(() => preparedScenario())
  return {
    lab,
    admin: (path: string, method: string, body: unknown) =>
      adminRequest(lab.emulator, path, method, body),
    /** The account as of now: `/_emulator/state` first moves the world to the emulator's clock. */
    stateOf: (name: string) => cosmosAccountNow(lab.emulator, name)
  }
}
