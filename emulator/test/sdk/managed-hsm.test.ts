import { beforeAll, describe, expect, it } from '@jest/globals'
import { KeyVaultManagementClient, type ManagedHsm } from '@azure/arm-keyvault'
import { KeyClient } from '@azure/keyvault-keys'
import {
  DEPLOYER_SP,
  FAST_TIMING,
  LOCATION,
  POLL,
  READER_SP,
  RG,
  SUB,
  TENANT,
  asReader,
  federatedCredential,
  hsmDataPlane,
  rejection,
  securityDomainCertificates,
  useSdkEmulator,
  waitUntil
} from './helpers.js'

const HSM = 'hsm-sdk-lifecycle'
const HSM_ID = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.KeyVault/managedHSMs/${HSM}`
const NOT_ACTIVATED_MESSAGE =
  'Your HSM has been provisioned, but cannot be used for cryptographic operations until it is ' +
  'activated. To activate the HSM, download the security domain.'

const s = useSdkEmulator()
let client: KeyVaultManagementClient

function hsmParameters(enablePurgeProtection: boolean): ManagedHsm {
  return {
    location: LOCATION,
    sku: { family: 'B', name: 'Standard_B1' },
    properties: {
      tenantId: TENANT,
      initialAdminObjectIds: [DEPLOYER_SP],
      enableSoftDelete: true,
      softDeleteRetentionInDays: 7,
      enablePurgeProtection,
      publicNetworkAccess: 'Enabled'
    }
  }
}

beforeAll(async () => {
  client = new KeyVaultManagementClient(s.credential, SUB)
})

describe('@azure/arm-keyvault managed HSMs over HTTPS through the proxy', () => {
  it('creates an HSM: 202 + Location, polled until Succeeded, not yet activated', async () => {
    const since = s.emulator.requests().at(-1)?.seq ?? 0
    const hsm = await client.managedHsms.beginCreateOrUpdateAndWait(
      RG,
      HSM,
      hsmParameters(false),
      POLL
    )
    expect(hsm).toMatchObject({
      id: HSM_ID,
      name: HSM,
      type: 'Microsoft.KeyVault/managedHSMs',
      location: LOCATION,
      sku: { family: 'B', name: 'Standard_B1' }
    })
    expect(hsm.properties).toMatchObject({
      tenantId: TENANT,
      initialAdminObjectIds: [DEPLOYER_SP],
      hsmUri: `https://${HSM}.managedhsm.azure.net/`,
      enableSoftDelete: true,
      softDeleteRetentionInDays: 7,
      enablePurgeProtection: false,
      provisioningState: 'Succeeded',
      securityDomainProperties: {
        activationStatus: 'NotActivated',
        activationStatusMessage: NOT_ACTIVATED_MESSAGE
      }
    })

    const log = s.emulator.requests(since).filter(e => e.host === 'management.azure.com')
    expect(log[0]).toMatchObject({ method: 'PUT', path: HSM_ID, status: 202 })
    const polls = log.filter(e => e.path.includes('/managedHsmOperationResults/'))
    expect(polls.length).toBeGreaterThanOrEqual(2)
    expect(polls.every(e => e.kind === 'poll' && e.principal === DEPLOYER_SP)).toBe(true)
    expect(polls.slice(0, -1).every(e => e.status === 202)).toBe(true)
    expect(polls.at(-1)!.status).toBe(200)
  })

  it('gets the HSM', async () => {
    const hsm = await client.managedHsms.get(RG, HSM)
    expect(hsm.id).toBe(HSM_ID)
    expect(hsm.properties?.provisioningState).toBe('Succeeded')
    expect(hsm.properties?.securityDomainProperties?.activationStatus).toBe('NotActivated')
  })

  it('answers 404 ResourceNotFound for an HSM that does not exist', async () => {
    const err = await rejection(client.managedHsms.get(RG, 'hsm-nowhere'))
    expect(err.statusCode).toBe(404)
    expect(err.code).toBe('ResourceNotFound')
    expect(err.message).toBe(
      "The Resource 'Microsoft.KeyVault/managedHSMs/hsm-nowhere' under resource group 'rg-cmk-demo' " +
        'was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix'
    )
  })

  it('turns purge protection on in place (PATCH, 202 + Location)', async () => {
    const since = s.emulator.requests().at(-1)?.seq ?? 0
    const updated = await client.managedHsms.beginUpdateAndWait(
      RG,
      HSM,
      { properties: { enablePurgeProtection: true } },
      POLL
    )
    expect(updated.properties?.enablePurgeProtection).toBe(true)
    expect(updated.properties?.provisioningState).toBe('Succeeded')
    const log = s.emulator.requests(since)
    expect(log[0]).toMatchObject({ method: 'PATCH', path: HSM_ID, status: 202 })
    expect(log.some(e => e.path.includes('/managedHsmOperationResults/'))).toBe(true)
    expect((await client.managedHsms.get(RG, HSM)).properties?.enablePurgeProtection).toBe(true)
  })

  it('refuses to turn purge protection off again', async () => {
    const err = await rejection(
      client.managedHsms.beginUpdateAndWait(
        RG,
        HSM,
        { properties: { enablePurgeProtection: false } },
        POLL
      )
    )
    expect(err.statusCode).toBe(400)
    expect(err.code).toBe('BadRequest')
    expect(err.message).toBe(
      'The property "enablePurgeProtection" cannot be set to false. Enabling the purge protection ' +
        'for a vault is an irreversible action.'
    )
    expect((await client.managedHsms.get(RG, HSM)).properties?.enablePurgeProtection).toBe(true)
  })

  it('lets a Reader-only app read but not write: 403 AuthorizationFailed', async () => {
    const err = await asReader(s.emulator, async readerCredential => {
      const reader = new KeyVaultManagementClient(readerCredential, SUB)
      expect((await reader.managedHsms.get(RG, HSM)).id).toBe(HSM_ID)
      return rejection(
        reader.managedHsms.beginCreateOrUpdateAndWait(
          RG,
          'hsm-by-reader',
          hsmParameters(true),
          POLL
        )
      )
    })
    expect(err.statusCode).toBe(403)
    expect(err.code).toBe('AuthorizationFailed')
    expect(err.message).toBe(
      `The client '${READER_SP}' with object id '${READER_SP}' does not have authorization to ` +
        "perform action 'Microsoft.KeyVault/managedHSMs/write' over scope " +
        `'/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.KeyVault/managedHSMs/hsm-by-reader' ` +
        'or the scope is invalid. If access was recently granted, please refresh your credentials.'
    )
    const denied = s.emulator.requests().filter(e => e.path.endsWith('/hsm-by-reader'))
    expect(denied.map(e => [e.status, e.principal])).toEqual([[403, READER_SP]])
  })
})

describe('Managed HSM activation through the Key Vault challenge policy', () => {
  /** Creating the RSA key `name` through the SDK fails with 403 `code`, its message naming `says`. */
  async function expectKeyCreationRefused(name: string, code: string, says: string) {
    const keys = new KeyClient(`https://${HSM}.managedhsm.azure.net`, s.credential)
    const err = await rejection(keys.createRsaKey(name, { hsm: true, keySize: 3072 }))
    expect(err.statusCode).toBe(403)
    expect(err.code).toBe(code)
    expect(err.message).toContain(says)
  }

  it('refuses key and role operations while the HSM is not activated', async () => {
    await expectKeyCreationRefused('too-early', 'HSMNotActivated', 'download')
    const plane = hsmDataPlane(HSM, s.credential)
    const rbac = await plane.send('GET', '/providers/Microsoft.Authorization/roleAssignments')
    expect(rbac.status).toBe(403)
    expect(rbac.json.error.code).toBe('HSMNotActivated')
  })

  it('downloads the security domain (challenge, 202, pending), and the HSM turns Active', async () => {
    const since = s.emulator.requests().at(-1)?.seq ?? 0
    const plane = hsmDataPlane(HSM, federatedCredential())
    const certificates = await securityDomainCertificates(3)
    // The download takes a minute on the local Azure's clock, so that no pause of this process can
    // let it finish before the first status read; the clock jumps past it after that read.
    s.emulator.setTiming({ securityDomainDownload: 60_000 })
    const download = await plane.send('POST', '/securitydomain/download', {
      body: { certificates: certificates.map(c => c.jwk), required: 2 }
    })
    expect(download.status).toBe(202)
    expect(download.headers['azure-asyncoperation']).toBe(
      `https://${HSM}.managedhsm.azure.net/securitydomain/download/pending`
    )
    const domain = JSON.parse(Buffer.from(download.json.value, 'base64').toString('utf8'))
    expect(domain.SharedKeys.required).toBe(2)
    expect(domain.SharedKeys.enc_shares.map((sh: { x5t_256: string }) => sh.x5t_256)).toEqual(
      certificates.map(c => c.thumbprint)
    )
    // the challenge: the body is withheld until the 401 names the resource, then sent with a token
    const posts = s.emulator.requests(since).filter(e => e.path === '/securitydomain/download')
    expect(posts.map(e => e.status)).toEqual([401, 202])
    expect(posts[1]!.principal).toBe(DEPLOYER_SP)

    const statuses: string[] = []
    await waitUntil(async () => {
      const pending = await plane.send('GET', '/securitydomain/download/pending')
      expect(pending.status).toBe(200)
      statuses.push(pending.json.status)
      if (statuses.length === 1) s.emulator.advanceClock(60_000)
      return pending.json.status === 'Success'
    })
    s.emulator.setTiming({ securityDomainDownload: FAST_TIMING.securityDomainDownload })
    expect(statuses[0]).toBe('InProgress')
    expect(statuses.at(-1)).toBe('Success')

    const hsm = await client.managedHsms.get(RG, HSM)
    expect(hsm.properties?.securityDomainProperties?.activationStatus).toBe('Active')

    const again = await plane.send('POST', '/securitydomain/download', {
      body: { certificates: certificates.map(c => c.jwk), required: 2 }
    })
    expect(again.status).toBe(409)
    expect(again.json.error.code).toBe('Conflict')
  })

  it('after activation, key operations reach local RBAC (the administrator holds no key rights)', async () => {
    await expectKeyCreationRefused(
      'cmk',
      'AccessDenied',
      'Microsoft.KeyVault/managedHsm/keys/create'
    )
    const plane = hsmDataPlane(HSM, s.credential)
    const rbac = await plane.send('GET', '/providers/Microsoft.Authorization/roleAssignments', {
      query: { $filter: 'atScope()' }
    })
    expect(rbac.status).toBe(200)
    expect(rbac.json.value).toHaveLength(1)
    expect(rbac.json.value[0].properties).toMatchObject({ scope: '/', principalId: DEPLOYER_SP })
  })
})
