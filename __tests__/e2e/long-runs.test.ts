/**
 * What goes wrong for people running the procedure by hand, run through the bundled action:
 * tokens that expire mid-run, and an existing HSM without purge protection.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  assertExit0,
  createHsmInputs,
  defaultScenario,
  emptySubscriptionScenario,
  errorMessage,
  hsmOf,
  startLab,
  writes,
  writeSecurityDomainCertificates,
  type Lab
} from '../../testkit/index.js'

let lab: Lab
let workDir: string

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'cmk-long-'))
  lab = await startLab(defaultScenario())
})

afterAll(async () => {
  await lab?.stop()
})

/** The `iat` and `exp` claims of a JWT, in seconds of the local Azure's clock. */
function lifetime(token: string): { iat: number; exp: number } {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'))
}

describe('token lifetimes shorter than the run', () => {
  it('asks the runner for a fresh ID token whenever a new access token is needed', async () => {
    const emulator = lab.emulator
    emulator.loadScenario(emptySubscriptionScenario())
    // An HSM creation that outlives both the ID token and every access token.
    emulator.setTiming({
      hsmCreate: 5_000,
      idTokenLifetimeSeconds: 2,
      accessTokenLifetimeSeconds: 3
    })
    emulator.clearRequests()
    const certificates = await writeSecurityDomainCertificates(workDir, 3)
    const result = await lab.run(
      lab.inputs('cosmos-cmk-tokens', undefined, {
        ...createHsmInputs(certificates, join(workDir, 'tokens-security-domain.json')),
        // the comma-separated form of the list
        'security-domain-certificates': certificates.join(',')
      })
    )
    assertExit0(result)

    const log = emulator.requests()
    const idTokenRequests = log.filter(e => e.host === 'pipelines.actions.githubusercontent.com')
    const entraTokens = log.filter(e => e.host === 'login.microsoftonline.com' && e.status === 200)
    expect(log.filter(e => e.status === 401 && e.host === 'management.azure.com')).toEqual([])
    expect(log.some(e => /AADSTS700024/.test(JSON.stringify(e)))).toBe(false)
    // An ID token was issued after the first one had expired: one token up front could not have done.
    const idTokens = emulator.tokens.issued().idTokens.map(lifetime)
    expect(Math.max(...idTokens.map(t => t.iat))).toBeGreaterThanOrEqual(idTokens[0].exp)
    expect(idTokenRequests.length).toBeGreaterThan(1)
    expect(entraTokens.length).toBeGreaterThanOrEqual(idTokenRequests.length)
  })
})

describe('an existing HSM without purge protection', () => {
  function hsmWithoutPurgeProtection(): void {
    const scenario = defaultScenario()
    hsmOf(scenario).enablePurgeProtection = false
    lab.emulator.loadScenario(scenario)
    lab.emulator.clearRequests()
  }

  it('fails before any write when enable-purge-protection is false', async () => {
    hsmWithoutPurgeProtection()
    const before = lab.emulator.store.snapshot()
    const result = await lab.run(lab.inputs('cosmos-cmk-nopp'))
    expect(result.code).toBe(1)
    expect(errorMessage(result)).toMatch(/purge protection/i)
    expect(errorMessage(result)).toMatch(/enable-purge-protection/)
    expect(writes(lab.emulator.requests())).toEqual([])
    expect(lab.emulator.store.snapshot()).toEqual(before)
  })

  it('turns it on in place, saying that it is irreversible, when enable-purge-protection is true', async () => {
    hsmWithoutPurgeProtection()
    const result = await lab.run(
      lab.inputs('cosmos-cmk-pp', undefined, { 'enable-purge-protection': 'true' })
    )
    assertExit0(result)
    expect(result.stdout).toMatch(/irreversible/i)
    const hsm = Object.values(lab.emulator.store.world.managedHsms)[0]
    expect(hsm.enablePurgeProtection).toBe(true)
    expect(hsm.enableSoftDelete).toBe(true)
  })
})
