/**
 * The Resource Manager adapters (providers, Managed HSM, user-assigned identities, Cosmos DB
 * accounts) on the Azure SDKs: what they send, how they read answers with fields left out, which
 * failures they read as "absent" and which they pass on, and that they stop on the run's signal.
 */
import { beforeEach, describe, expect, it } from '@jest/globals'
import type { AzureApis } from '../../src/azure/api.js'
import { createAzureApis } from '../../src/azure/clients.js'
import { getCloud } from '../../src/cloud.js'
import { hsmRoles, roleAssignmentName, roleDefinitionId } from '../../src/roles.js'
import { defaultNames } from '../../testkit/index.js'
import { instantScenario, quickTransport, signedInApis, useLocalAzure } from './local-azure.js'
import { errorAnswer, scriptedArm, type ScriptedAnswer } from './scripted-hosts.js'

const arm = scriptedArm()
const govAudience = 'api://AzureADTokenExchangeUSGov'
/** The pipeline's GitHub credentials also federated for Azure US Government's audience. */
const scenario = () =>
  instantScenario(s => {
    for (const app of s.applications ?? []) {
      for (const fc of app.federatedCredentials ?? []) {
        if (fc.issuer === 'https://token.actions.githubusercontent.com') {
          fc.audiences = [...(fc.audiences ?? []), govAudience]
        }
      }
    }
  })
const local = useLocalAzure(scenario, [arm.service])
const rg = defaultNames.resourceGroup
const sub = defaultNames.subscriptionId
const hsmName = defaultNames.hsmName
const hsmUri = `https://${hsmName}.managedhsm.azure.net`
const me = defaultNames.clientObjectId
const uai = defaultNames.userAssignedIdentityId
const abortError = { name: 'AbortError' }

beforeEach(() => arm.stop())

/** The local Azure's own Resource Manager requests of one method, with their body's fields. */
const armWrites = (method: string) =>
  local.emulator
    .requests()
    .filter(r => r.host === 'management.azure.com' && r.method === method && r.status < 300)

/** Adapters whose every request is stopped by a signal that has aborted already. */
function abortedApis(): AzureApis {
  return createAzureApis({
    credential: local.credential,
    cloud: getCloud('AzureCloud'),
    subscriptionId: sub,
    transport: quickTransport,
    signal: AbortSignal.abort()
  })
}

const answer =
  (value: ScriptedAnswer): (() => ScriptedAnswer) =>
  () =>
    value

describe('every Resource Manager client', () => {
  it("names the action in its user agent and stops on the run's signal", async () => {
    arm.answer(answer(errorAnswer(404, 'ResourceNotFound')))
    const { providers, managedHsms, identities, cosmos } = local.apis
    await providers.get('Microsoft.KeyVault').catch(() => undefined)
    await managedHsms.get(rg, 'h')
    await identities.getUserAssigned(sub, rg, 'i')
    await cosmos.get(rg, 'a')
    expect(arm.requests).toHaveLength(4)
    for (const request of arm.requests) {
      expect(request.headers['user-agent']).toMatch(/^cosmos-cmk-hsm-action /)
    }

    const stopped = abortedApis()
    await expect(stopped.providers.get('Microsoft.KeyVault')).rejects.toMatchObject(abortError)
    await expect(stopped.managedHsms.get(rg, hsmName)).rejects.toMatchObject(abortError)
    await expect(stopped.managedHsms.getKey(rg, hsmName, 'k')).rejects.toMatchObject(abortError)
    await expect(stopped.identities.getUserAssigned(sub, rg, 'i')).rejects.toMatchObject(abortError)
    await expect(stopped.cosmos.get(rg, 'a')).rejects.toMatchObject(abortError)
    await expect(
      stopped.managedHsms.createKeyIfNotExist(rg, hsmName, 'k', {
        kty: 'RSA-HSM',
        keySize: 2048,
        keyOps: ['wrapKey', 'unwrapKey'],
        tags: {}
      })
    ).rejects.toMatchObject(abortError)
    expect(arm.requests).toHaveLength(4)
    expect(local.emulator.requests().filter(r => r.method === 'PUT')).toEqual([])
  })
})

describe('another cloud', () => {
  it("asks for tokens for that cloud's Resource Manager", async () => {
    const { apis } = signedInApis(local.emulator, 'AzureUSGovernment')
    const provider = await apis.providers.get('Microsoft.KeyVault')
    expect(provider.registrationState).toBe('Registered')
    const hsm = await apis.managedHsms.get(rg, hsmName)
    expect(hsm?.hsmUri).toMatch(/^https:\/\/[^/]+\.managedhsm\.usgovcloudapi\.net\/?$/)
  })
})

describe('resource providers', () => {
  it("reads a provider without a registration state as 'Unknown'", async () => {
    arm.answer(answer({ status: 200, body: { id: 'p' } }))
    expect(await local.apis.providers.get('Microsoft.KeyVault')).toEqual({
      namespace: 'Microsoft.KeyVault',
      registrationState: 'Unknown',
      locations: {}
    })
    expect(await local.apis.providers.register('Microsoft.KeyVault')).toEqual({
      namespace: 'Microsoft.KeyVault',
      registrationState: 'Unknown'
    })
  })
})

describe('reads of what may not exist', () => {
  it.each([
    ['404', errorAnswer(404, 'ResourceNotFound')],
    ['an unregistered namespace', errorAnswer(409, 'MissingSubscriptionRegistration')]
  ])('reads %s as absent', async (_, refusal) => {
    arm.answer(answer(refusal))
    expect(await local.apis.managedHsms.get(rg, 'h')).toBeUndefined()
    expect(await local.apis.identities.getUserAssigned(sub, rg, 'i')).toBeUndefined()
    expect(await local.apis.cosmos.get(rg, 'a')).toBeUndefined()
  })

  it('passes on any other refusal', async () => {
    arm.answer(answer(errorAnswer(403, 'AuthorizationFailed')))
    const refused = { statusCode: 403, code: 'AuthorizationFailed' }
    await expect(local.apis.managedHsms.get(rg, 'h')).rejects.toMatchObject(refused)
    await expect(local.apis.identities.getUserAssigned(sub, rg, 'i')).rejects.toMatchObject(refused)
    await expect(local.apis.cosmos.get(rg, 'a')).rejects.toMatchObject(refused)
    await expect(local.apis.managedHsms.getKey(rg, hsmName, 'k')).rejects.toMatchObject(refused)
  })

  it('reads an HSM answered with 204 or without an id as absent', async () => {
    arm.answer(answer({ status: 204 }))
    expect(await local.apis.managedHsms.get(rg, 'h')).toBeUndefined()
    arm.answer(answer({ status: 200, body: { name: 'h' } }))
    expect(await local.apis.managedHsms.get(rg, 'h')).toBeUndefined()
  })
})

describe('Managed HSM writes', () => {
  const spec = {
    location: 'westeurope',
    skuName: 'Custom_C42',
    tenantId: defaultNames.tenantId,
    initialAdminObjectIds: [me],
    softDeleteRetentionInDays: 7,
    tags: { team: 'tests' }
  }

  it('creates an HSM of the family its SKU names, and reads an answer without fields', async () => {
    arm.answer(answer({ status: 200, body: {} }))
    expect(await local.apis.managedHsms.create(rg, 'h', spec)).toEqual({
      id: '',
      name: '',
      location: '',
      hsmUri: '',
      provisioningState: 'Unknown',
      statusMessage: undefined,
      enableSoftDelete: true,
      enablePurgeProtection: false,
      softDeleteRetentionInDays: undefined,
      activationStatus: 'Unknown',
      activationStatusMessage: undefined,
      initialAdminObjectIds: [],
      tags: {}
    })
    await local.apis.managedHsms.create(rg, 'h', { ...spec, skuName: 'Standard_B1' })
    const puts = arm.requests.filter(r => r.method === 'PUT')
    expect(puts.map(r => r.body)).toEqual([
      {
        location: 'westeurope',
        tags: { team: 'tests' },
        sku: { family: 'C', name: 'Custom_C42' },
        properties: {
          tenantId: defaultNames.tenantId,
          initialAdminObjectIds: [me],
          enableSoftDelete: true,
          softDeleteRetentionInDays: 7,
          enablePurgeProtection: true,
          createMode: 'default',
          publicNetworkAccess: 'Enabled'
        }
      },
      expect.objectContaining({ sku: { family: 'B', name: 'Standard_B1' } })
    ])
  })

  it('reads soft delete turned off', async () => {
    arm.answer(answer({ status: 200, body: { id: 'x', properties: { enableSoftDelete: false } } }))
    const hsm = await local.apis.managedHsms.enablePurgeProtection(rg, 'h')
    expect(hsm).toMatchObject({ id: 'x', enableSoftDelete: false, enablePurgeProtection: false })
  })

  it('turns purge protection on with a patch of that property alone', async () => {
    await local.apis.managedHsms.enablePurgeProtection(rg, hsmName)
    expect(armWrites('PATCH').map(r => r.bodyFields)).toEqual([
      ['properties.enablePurgeProtection']
    ])
  })

  it('creates a key through ARM enabled', async () => {
    const grant = roleAssignmentName(hsmName, '/keys', hsmRoles.cryptoUser.id, me)
    const { rbac, settings } = local.apis.hsm(hsmUri)
    await rbac.create('/keys', grant, roleDefinitionId(hsmRoles.cryptoUser), me)
    await settings.update('AllowKeyManagementOperationsThroughARM', 'true')
    await local.apis.managedHsms.createKeyIfNotExist(rg, hsmName, 'arm-key', {
      kty: 'RSA-HSM',
      keySize: 2048,
      keyOps: ['wrapKey', 'unwrapKey'],
      tags: {}
    })
    const [put] = armWrites('PUT').filter(r => r.path.endsWith('/keys/arm-key'))
    expect(put?.bodyFields).toContain('properties.attributes.enabled')
  })

  it('reads a key answered without fields, and one with its dates and a trailing slash', async () => {
    arm.answer(answer({ status: 200, body: { properties: {} } }))
    expect(await local.apis.managedHsms.getKey(rg, hsmName, 'k')).toEqual({
      id: '',
      name: '',
      version: '',
      kty: 'unknown',
      keySize: undefined,
      keyOps: [],
      enabled: true,
      notBefore: undefined,
      expiresOn: undefined
    })
    arm.answer(
      answer({
        status: 200,
        body: {
          name: 'k',
          properties: {
            kty: 'RSA-HSM',
            keyUriWithVersion: `${hsmUri}:443/keys/k/v7/`,
            attributes: { enabled: false, nbf: 1_700_000_000, exp: 1_800_000_000 }
          }
        }
      })
    )
    expect(await local.apis.managedHsms.getKey(rg, hsmName, 'k')).toMatchObject({
      id: `${hsmUri}/keys/k/v7/`,
      version: 'v7',
      enabled: false,
      notBefore: new Date(1_700_000_000_000),
      expiresOn: new Date(1_800_000_000_000)
    })
  })
})

describe('user-assigned identities', () => {
  it('reads an identity answered without fields by the name asked for', async () => {
    arm.answer(answer({ status: 200, body: {} }))
    expect(await local.apis.identities.getUserAssigned(sub, rg, 'id-asked')).toEqual({
      id: '',
      name: 'id-asked',
      principalId: '',
      clientId: ''
    })
  })
})

describe('Cosmos DB accounts', () => {
  const keyUri = `${hsmUri}/keys/k`
  const spec = {
    location: 'westeurope',
    kind: 'GlobalDocumentDB' as const,
    capabilities: ['EnableTable'],
    locations: ['westeurope', 'northeurope'],
    keyVaultKeyUri: keyUri,
    defaultIdentity: 'SystemAssignedIdentity',
    systemAssigned: true,
    userAssignedIdentityId: uai,
    tags: { team: 'tests' }
  }

  it('creates an account as specified, without a callback, and reads an answer without fields', async () => {
    arm.answer(answer({ status: 200, body: {} }))
    const created = await local.apis.cosmos.create(rg, 'acct', spec)
    expect(created).toMatchObject({
      id: '',
      name: '',
      location: '',
      capabilities: [],
      tags: {},
      identity: { type: 'None', principalId: undefined, userAssignedIdentities: {} }
    })
    expect(arm.requests.map(r => [r.method, r.body])).toEqual([
      [
        'PUT',
        {
          location: 'westeurope',
          tags: { team: 'tests' },
          kind: 'GlobalDocumentDB',
          identity: { type: 'SystemAssigned,UserAssigned', userAssignedIdentities: { [uai]: {} } },
          properties: {
            locations: [
              { locationName: 'westeurope', failoverPriority: 0, isZoneRedundant: false },
              { locationName: 'northeurope', failoverPriority: 1, isZoneRedundant: false }
            ],
            databaseAccountOfferType: 'Standard',
            capabilities: [{ name: 'EnableTable' }],
            keyVaultKeyUri: keyUri,
            defaultIdentity: 'SystemAssignedIdentity'
          }
        }
      ]
    ])
  })

  it('tells the caller of a creation accepted with 202, and not of a refused one', async () => {
    const operation = `https://management.azure.com/subscriptions/${sub}/providers/Microsoft.DocumentDB/locations/westeurope/operationsStatus/op1?api-version=2025-04-15`
    arm.answer(request =>
      request.method === 'PUT'
        ? {
            status: 202,
            headers: { 'azure-asyncoperation': operation, 'retry-after': '0' },
            body: { identity: { type: 'SystemAssigned', principalId: 'p-1' } }
          }
        : request.path.includes('/operationsStatus/')
          ? { status: 200, body: { status: 'Succeeded' } }
          : { status: 200, body: { name: 'acct', properties: { provisioningState: 'Succeeded' } } }
    )
    const accepted: unknown[] = []
    const created = await local.apis.cosmos.create(rg, 'acct', spec, a => accepted.push(a))
    expect(created.name).toBe('acct')
    expect(accepted).toEqual([{ systemPrincipalId: 'p-1' }])

    arm.answer(answer(errorAnswer(400, 'BadRequest')))
    await expect(
      local.apis.cosmos.create(rg, 'acct', spec, a => accepted.push(a))
    ).rejects.toMatchObject({ statusCode: 400 })
    expect(accepted).toHaveLength(1)
  })

  it('changes the key with a patch of the key alone', async () => {
    arm.answer(answer({ status: 200, body: { name: 'acct' } }))
    await local.apis.cosmos.update(rg, 'acct', { keyVaultKeyUri: keyUri })
    expect(arm.requests.map(r => [r.method, r.body])).toEqual([
      ['PATCH', { properties: { keyVaultKeyUri: keyUri } }]
    ])
  })

  it("reads an account's capabilities and identities, whatever is left out", async () => {
    arm.answer(
      answer({
        status: 200,
        body: {
          id: 'acct-id',
          name: 'acct',
          identity: {
            type: 'UserAssigned',
            userAssignedIdentities: {
              [uai]: null,
              [`${uai}-2`]: { principalId: 'p2', clientId: 'c2' }
            }
          },
          properties: { capabilities: [{}, { name: 'EnableTable' }] }
        }
      })
    )
    const account = await local.apis.cosmos.get(rg, 'acct')
    expect(account?.capabilities).toEqual(['EnableTable'])
    expect(account?.identity).toEqual({
      type: 'UserAssigned',
      principalId: undefined,
      userAssignedIdentities: {
        [uai]: { principalId: undefined, clientId: undefined },
        [`${uai}-2`]: { principalId: 'p2', clientId: 'c2' }
      }
    })
  })
})
