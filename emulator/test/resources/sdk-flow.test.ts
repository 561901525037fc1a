import { randomBytes } from 'node:crypto'
import { describe, expect, it } from '@jest/globals'
import { ResourceManagementClient } from '@azure/arm-resources'
import { KeyVaultManagementClient } from '@azure/arm-keyvault'
import { ManagedServiceIdentityClient } from '@azure/arm-msi'
import { CosmosDBManagementClient } from '@azure/arm-cosmosdb'
import { CryptographyClient, KeyClient } from '@azure/keyvault-keys'
import { armService } from '../../src/services/arm/index.js'
import { hsmService } from '../../src/services/hsm/index.js'
import { DEPLOYER, RG, SUB, TENANT } from './test-tenant.js'
import { Harness } from './harness.js'
import {
  CRYPTO_USER,
  ENCRYPTION_USER,
  HSM,
  HSM_HOST,
  assignRole,
  downloadSecurityDomain
} from './hsm-fixtures.js'
import { makeCertificates } from './certificates.js'
import { fakeCredential, inProcessHttpClient } from './sdk-adapter.js'

const POLL = { updateIntervalInMs: 0 }

describe('the unmodified Azure SDK clients against the handlers (in process)', () => {
  it('run the whole CMK-on-Managed-HSM procedure', async () => {
    const h = new Harness({
      providerRegistration: 20_000,
      hsmCreate: 20 * 60_000,
      securityDomainDownload: 30_000,
      rbacPropagation: 90_000,
      principalReplication: 30_000,
      cosmosCreate: 5 * 60_000,
      cosmosUpdate: 60_000,
      retryAfterSeconds: 0
    })
    h.world.subscriptions[SUB]!.providers = {}
    const httpClient = inProcessHttpClient(h, [armService, hsmService], DEPLOYER, 10_000)
    const options = { httpClient, retryOptions: { maxRetries: 0 } }

    // 1. register the resource providers
    const resources = new ResourceManagementClient(fakeCredential, SUB, options)
    for (const ns of ['Microsoft.DocumentDB', 'Microsoft.KeyVault', 'Microsoft.ManagedIdentity']) {
      expect((await resources.providers.register(ns)).registrationState).toBe('Registering')
    }
    expect((await resources.providers.get('Microsoft.DocumentDB')).registrationState).toBe(
      'Registered'
    )

    // 2. the HSM: a Location-polled LRO; purge protection cannot be turned off again
    const keyVault = new KeyVaultManagementClient(fakeCredential, SUB, options)
    const hsm = await keyVault.managedHsms.createOrUpdate(
      RG,
      HSM,
      {
        location: 'westeurope',
        sku: { family: 'B', name: 'Standard_B1' },
        properties: {
          tenantId: TENANT,
          initialAdminObjectIds: [DEPLOYER],
          enablePurgeProtection: true,
          softDeleteRetentionInDays: 7
        }
      },
      POLL
    )
    expect(hsm.properties?.provisioningState).toBe('Succeeded')
    expect(hsm.properties?.hsmUri).toBe(`https://${HSM_HOST}/`)
    expect(hsm.properties?.securityDomainProperties?.activationStatus).toBe('NotActivated')
    await expect(
      keyVault.managedHsms.update(RG, HSM, { properties: { enablePurgeProtection: false } }, POLL)
    ).rejects.toMatchObject({ statusCode: 400, code: 'BadRequest' })

    // 3. activation (no security-domain SDK is served here; the request is the CLI's)
    const sd = await downloadSecurityDomain(h, await makeCertificates(3))
    expect(sd.status).toBe(202)
    h.advance(30_000)
    expect(
      (await keyVault.managedHsms.get(RG, HSM)).properties?.securityDomainProperties
        ?.activationStatus
    ).toBe('Active')

    // 4. Crypto User on /keys for the deployer, then the key, once the role has propagated
    expect((await assignRole(h, DEPLOYER, CRYPTO_USER, '/keys')).status).toBe(201)
    const keys = new KeyClient(`https://${HSM_HOST}`, fakeCredential, options)
    const keyOptions = {
      hsm: true,
      keySize: 3072,
      keyOps: ['wrapKey' as const, 'unwrapKey' as const]
    }
    await expect(keys.createRsaKey('cmk', keyOptions)).rejects.toMatchObject({
      statusCode: 403,
      code: 'AccessDenied'
    })
    h.advance(90_000)
    const key = await keys.createRsaKey('cmk', keyOptions)
    expect(key.keyType).toBe('RSA-HSM')
    expect(key.properties.recoveryLevel).toBe('CustomizedRecoverable')
    expect((await keys.getKey('cmk')).id).toBe(key.id)
    const crypto = new CryptographyClient(key, fakeCredential, options)
    const cek = randomBytes(32)
    const wrapped = await crypto.wrapKey('RSA-OAEP-256', cek)
    expect(Buffer.from((await crypto.unwrapKey('RSA-OAEP-256', wrapped.result)).result)).toEqual(
      cek
    )

    // 5. a user-assigned identity with the encryption role on /keys
    const msi = new ManagedServiceIdentityClient(fakeCredential, SUB, options)
    const uai = await msi.userAssignedIdentities.createOrUpdate(RG, 'cosmos-cmk', {
      location: 'westeurope'
    })
    expect((await assignRole(h, uai.principalId!, ENCRYPTION_USER, '/keys')).json.error.code).toBe(
      'PrincipalNotFound'
    )
    h.advance(30_000)
    expect((await assignRole(h, uai.principalId!, ENCRYPTION_USER, '/keys')).status).toBe(201)

    // 6. the Cosmos DB account: refused until the role propagates, then an Azure-AsyncOperation LRO
    const cosmos = new CosmosDBManagementClient(fakeCredential, SUB, options)
    const params = {
      location: 'westeurope',
      kind: 'GlobalDocumentDB' as const,
      identity: { type: 'UserAssigned' as const, userAssignedIdentities: { [uai.id!]: {} } },
      locations: [{ locationName: 'westeurope', failoverPriority: 0 }],
      databaseAccountOfferType: 'Standard' as const,
      keyVaultKeyUri: `https://${HSM_HOST}/keys/cmk`,
      defaultIdentity: `UserAssignedIdentity=${uai.id}`
    }
    const early = await cosmos.databaseAccounts
      .createOrUpdate(RG, 'sdk-acct', params, POLL)
      .catch((e: unknown) => e)
    expect(early).toMatchObject({ statusCode: 400, code: 'BadRequest' })
    expect((early as Error).message).toContain('KeyVaultAuthenticationFailure')
    h.advance(90_000)
    const account = await cosmos.databaseAccounts.createOrUpdate(RG, 'sdk-acct', params, POLL)
    expect(account.provisioningState).toBe('Succeeded')
    expect(account.keyVaultKeyUri).toBe(`https://${HSM_HOST}/keys/cmk`)
    expect(account.keyVaultKeyUriVersion).toBe(key.properties.version)
    expect(account.defaultIdentity).toBe(`UserAssignedIdentity=${uai.id}`)
    expect(account.identity?.userAssignedIdentities?.[uai.id!]?.principalId).toBe(uai.principalId)

    // 7. switch to the system-assigned identity: identity first, default identity later
    const withSystem = await cosmos.databaseAccounts.update(
      RG,
      'sdk-acct',
      {
        identity: { type: 'SystemAssigned,UserAssigned', userAssignedIdentities: { [uai.id!]: {} } }
      },
      POLL
    )
    expect(withSystem.provisioningState).toBe('Succeeded')
    const systemPrincipal = withSystem.identity!.principalId!
    h.advance(30_000)
    expect((await assignRole(h, systemPrincipal, ENCRYPTION_USER, '/keys')).status).toBe(201)
    const tooSoon = await cosmos.databaseAccounts
      .update(RG, 'sdk-acct', { defaultIdentity: 'SystemAssignedIdentity' }, POLL)
      .catch((e: unknown) => e)
    expect((tooSoon as Error).message).toContain('KeyVaultAuthenticationFailure')
    h.advance(90_000)
    const switched = await cosmos.databaseAccounts.update(
      RG,
      'sdk-acct',
      { defaultIdentity: 'SystemAssignedIdentity' },
      POLL
    )
    expect(switched.defaultIdentity).toBe('SystemAssignedIdentity')

    // 8. delete
    await cosmos.databaseAccounts.delete(RG, 'sdk-acct', POLL)
    await expect(cosmos.databaseAccounts.get(RG, 'sdk-acct')).rejects.toMatchObject({
      statusCode: 404,
      code: 'ResourceNotFound'
    })
  })
})
