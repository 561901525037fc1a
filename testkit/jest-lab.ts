/**
 * The lab of one Jest test file, for files that share one local Azure across their tests, and the
 * security-domain certificates of its runs. Only for tests: it registers Jest hooks, so it is not
 * exported from the kit's index.
 */
import { afterAll, beforeAll, beforeEach } from '@jest/globals'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { taskCreateHsmInputs } from './azure-pipelines.js'
import { writeSecurityDomainCertificates } from './certificates.js'
import type { Scenario } from './emulator.js'
import { createHsmInputs } from './inputs.js'
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

/** The inputs that create and activate an HSM, for the runs of one test file. */
export interface HsmCreation {
  /** The action's inputs (`createHsmInputs`), downloading to `<name>-security-domain.json`. */
  actionInputs(name: string): Record<string, string>
  /** The same in the task's input names. */
  taskInputs(name: string): Record<string, string>
}

/**
 * Writes three security-domain certificates into a folder of its own before the file's first test;
 * the runs download their security domains into that folder.
 */
export function hsmCreationPerFile(): HsmCreation {
  let dir: string | undefined
  let certificates: string[] = []
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cmk-security-domain-'))
    certificates = await writeSecurityDomainCertificates(dir, 3)
  })
  const file = (name: string) => {
    if (!dir)
      throw new Error('The certificates are written before the first test; use them inside tests.')
    return join(dir, `${name}-security-domain.json`)
  }
  return {
    actionInputs: name => createHsmInputs(certificates, file(name)),
    taskInputs: name => taskCreateHsmInputs(certificates, file(name))
  }
}
