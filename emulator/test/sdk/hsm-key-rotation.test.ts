import { randomBytes } from 'node:crypto'
import { beforeAll, describe, expect, it } from '@jest/globals'
import { CryptographyClient, KeyClient } from '@azure/keyvault-keys'
import { DEPLOYER_SP, SEEDED_HSM, rejection, sdkScenario, useSdkEmulator } from './helpers.js'

const VAULT_URL = `https://${SEEDED_HSM}.managedhsm.azure.net`

const s = useSdkEmulator(() => {
  const scenario = sdkScenario()
  const hsm = scenario.subscriptions[0]!.resourceGroups![0]!.managedHsms![0]!
  hsm.keys = [{ name: 'cmk', size: 2048, ops: ['wrapKey', 'unwrapKey'] }]
  hsm.roleAssignments = [
    { role: 'Managed HSM Crypto User', principalId: DEPLOYER_SP, scope: '/keys' }
  ]
  return scenario
})
let keys: KeyClient

beforeAll(() => {
  keys = new KeyClient(VAULT_URL, s.credential)
})

describe('@azure/keyvault-keys rotation and key updates against Managed HSM', () => {
  it('reads an empty policy, sets one, and refuses what Managed HSM refuses', async () => {
    const none = await keys.getKeyRotationPolicy('cmk')
    expect(none.lifetimeActions).toEqual([])
    expect(none.id).toBeUndefined()
    expect(none.createdOn).toBeUndefined()
    const set = await keys.updateKeyRotationPolicy('cmk', {
      lifetimeActions: [{ action: 'Rotate', timeAfterCreate: 'P90D' }],
      expiresIn: 'P1Y'
    })
    expect(set).toMatchObject({
      id: `${VAULT_URL}/keys/cmk/rotationpolicy`,
      expiresIn: 'P1Y',
      lifetimeActions: [{ action: 'Rotate', timeAfterCreate: 'P90D' }]
    })
    expect(set.createdOn).toBeInstanceOf(Date)
    expect(await keys.getKeyRotationPolicy('cmk')).toEqual(set)

    const notify = await rejection(
      keys.updateKeyRotationPolicy('cmk', {
        lifetimeActions: [{ action: 'Notify', timeBeforeExpiry: 'P30D' }],
        expiresIn: 'P1Y'
      })
    )
    expect(notify.statusCode).toBe(400)
    expect(notify.code).toBe('BadParameter')
    expect(notify.message).toContain("'Notify'")
    const tooOften = await rejection(
      keys.updateKeyRotationPolicy('cmk', {
        lifetimeActions: [{ action: 'Rotate', timeAfterCreate: 'P7D' }]
      })
    )
    expect(tooOften.message).toContain('P28D')
  })

  it('rotates on demand into a new version with real key material and the policy expiry', async () => {
    const before = await keys.getKey('cmk')
    const rotated = await keys.rotateKey('cmk')
    expect(rotated.properties.version).not.toBe(before.properties.version)
    expect(rotated.key?.n).not.toEqual(before.key?.n)
    const expires = rotated.properties.expiresOn!.getTime()
    const inAYear = new Date(rotated.properties.createdOn!)
    inAYear.setUTCFullYear(inAYear.getUTCFullYear() + 1)
    expect(expires).toBe(inAYear.getTime())
    const versions: string[] = []
    for await (const v of keys.listPropertiesOfKeyVersions('cmk')) versions.push(v.version!)
    expect(versions).toEqual([before.properties.version, rotated.properties.version])

    const crypto = new CryptographyClient(rotated, s.credential)
    const secret = randomBytes(32)
    const wrapped = await crypto.wrapKey('RSA-OAEP-256', secret)
    expect(wrapped.keyID).toBe(rotated.id)
    expect(Buffer.from((await crypto.unwrapKey('RSA-OAEP-256', wrapped.result)).result)).toEqual(
      secret
    )
  })

  it('updates key properties: disables a version, then sets the expiry of the current one', async () => {
    const current = await keys.getKey('cmk')
    const disabled = await keys.updateKeyProperties('cmk', current.properties.version!, {
      enabled: false
    })
    expect(disabled.properties.enabled).toBe(false)
    const crypto = new CryptographyClient(current, s.credential)
    const refused = await rejection(crypto.wrapKey('RSA-OAEP-256', randomBytes(32)))
    expect(refused.statusCode).toBe(403)
    const expiresOn = new Date(Math.floor(Date.now() / 1000 + 86_400) * 1000)
    const dated = await keys.updateKeyProperties('cmk', { enabled: true, expiresOn })
    expect(dated.properties.enabled).toBe(true)
    expect(dated.properties.expiresOn).toEqual(expiresOn)
    expect(dated.properties.version).toBe(current.properties.version)
  })
})
