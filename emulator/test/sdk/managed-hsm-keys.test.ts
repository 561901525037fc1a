import { beforeAll, describe, expect, it } from '@jest/globals'
import {
  KeyVaultManagementClient,
  type ManagedHsmKey,
  type ManagedHsmKeyCreateParameters
} from '@azure/arm-keyvault'
import { KeyClient } from '@azure/keyvault-keys'
import {
  DEPLOYER_SP,
  FAST_TIMING,
  HSM_ROLES,
  RG,
  SEEDED_HSM,
  SUB,
  hsmDataPlane,
  rejection,
  sdkScenario,
  useSdkEmulator
} from './helpers.js'

const TRUST = 'AllowKeyManagementOperationsThroughARM'
const KEY = 'cmk'
const PARAMETERS: ManagedHsmKeyCreateParameters = {
  tags: { use: 'cosmos-cmk' },
  properties: {
    kty: 'RSA-HSM',
    keySize: 3072,
    keyOps: ['wrapKey', 'unwrapKey'],
    attributes: { enabled: true }
  }
}

const s = useSdkEmulator(() => {
  const scenario = sdkScenario()
  const hsm = scenario.subscriptions[0]!.resourceGroups![0]!.managedHsms![0]!
  hsm.keys = [{ name: 'signing', kty: 'EC-HSM', curve: 'P-256' }]
  return scenario
})
let client: KeyVaultManagementClient

function createIfNotExist(parameters = PARAMETERS): Promise<ManagedHsmKey> {
  return client.managedHsmKeys.createIfNotExist(RG, SEEDED_HSM, KEY, parameters)
}

async function versions(): Promise<ManagedHsmKey[]> {
  const all: ManagedHsmKey[] = []
  for await (const v of client.managedHsmKeys.listVersions(RG, SEEDED_HSM, KEY)) all.push(v)
  return all
}

beforeAll(async () => {
  client = new KeyVaultManagementClient(s.credential, SUB)
})

describe('@azure/arm-keyvault ManagedHsmKeys over HTTPS through the proxy', () => {
  it('is refused until an HSM administrator lets ARM manage keys', async () => {
    const err = await rejection(createIfNotExist())
    expect(err.statusCode).toBe(400)
    expect(err.message).toContain(`enable the setting '${TRUST}'`)
    const plane = hsmDataPlane(SEEDED_HSM, s.credential)
    const enabled = await plane.send('PATCH', `/settings/${TRUST}`, { body: { value: 'true' } })
    expect(enabled.json).toEqual({ name: TRUST, value: 'true', type: 'boolean' })
  })

  it("is then refused by the HSM's local RBAC until a key role has propagated", async () => {
    const denied = await rejection(createIfNotExist())
    expect(denied.statusCode).toBe(400)
    expect(denied.code).toBe('AccessDenied')
    expect(denied.message).toMatch(
      /^\[AccessDenied \(Forbidden\)\] Not authorized to access Microsoft\.KeyVault\/managedHsm\/keys\/create on \/keys\/cmk/
    )
    const plane = hsmDataPlane(SEEDED_HSM, s.credential)
    const name = '7a2b3c4d-2222-4e5f-8a9b-0c1d2e3f4a5b'
    const granted = await plane.assignRole('/keys', name, HSM_ROLES.cryptoUser, DEPLOYER_SP)
    expect(granted.status).toBe(201)
    s.emulator.advanceClock(FAST_TIMING.rbacPropagation as number)
  })

  it('creates the key once: two concurrent calls end with one version, the one the data plane serves', async () => {
    const [a, b] = await Promise.all([createIfNotExist(), createIfNotExist()])
    expect(a).toEqual(b)
    expect(a).toMatchObject({
      name: KEY,
      type: 'Microsoft.KeyVault/managedHSMs/keys',
      tags: { use: 'cosmos-cmk' },
      kty: 'RSA-HSM',
      keySize: 3072,
      keyOps: ['wrapKey', 'unwrapKey'],
      attributes: { enabled: true, exportable: false },
      keyUri: `https://${SEEDED_HSM}.managedhsm.azure.net:443/keys/${KEY}`
    })
    const listed = await versions()
    expect(listed).toHaveLength(1)
    expect(listed[0]!.keyUriWithVersion).toBe(a.keyUriWithVersion)
    const creates = s.emulator
      .requests()
      .filter(e => e.method === 'PUT' && e.path.endsWith(`/keys/${KEY}`))
    expect(creates.slice(-2).map(e => e.status)).toEqual([200, 200])

    const dataPlane = await new KeyClient(
      `https://${SEEDED_HSM}.managedhsm.azure.net`,
      s.credential
    ).getKey(KEY)
    expect(dataPlane.id).toBe(a.keyUriWithVersion!.replace(':443/', '/'))
    expect(dataPlane.keyType).toBe('RSA-HSM')
    expect(Buffer.from(dataPlane.key!.n!)).toHaveLength(384)
  })

  it('answers the existing key, unchanged, to a later call with other parameters', async () => {
    const before = await client.managedHsmKeys.get(RG, SEEDED_HSM, KEY)
    const again = await createIfNotExist({ properties: { kty: 'RSA', keySize: 2048 } })
    expect(again).toEqual(before)
    expect(await versions()).toHaveLength(1)
  })

  it('reads a version by id, and reports a seeded EC key as EC-HSM', async () => {
    const [only] = await versions()
    const version = only!.keyUriWithVersion!.split('/').pop()!
    const byVersion = await client.managedHsmKeys.getVersion(RG, SEEDED_HSM, KEY, version)
    expect(byVersion).toMatchObject({ name: version, keySize: 3072 })
    const ec = await client.managedHsmKeys.get(RG, SEEDED_HSM, 'signing')
    expect(ec).toMatchObject({ kty: 'EC-HSM', curveName: 'P-256', keyOps: ['sign', 'verify'] })
    expect(ec.keySize).toBeUndefined()
    await expect(client.managedHsmKeys.get(RG, SEEDED_HSM, 'none')).rejects.toMatchObject({
      statusCode: 404,
      code: 'KeyNotFound'
    })
  })
})
