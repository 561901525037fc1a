import { randomUUID } from 'node:crypto'
import { beforeAll, describe, expect, it } from '@jest/globals'
import { armService } from '../../src/services/arm/index.js'
import {
  COSMOS_FP,
  DEPLOYER,
  Harness,
  READER,
  SUB,
  cosmosPath,
  hsmCreateBody,
  hsmPath,
  pathOf,
  rgPath,
  uaiPath,
  type JsonResponse
} from '../resources/harness.js'
import {
  ENCRYPTION_USER,
  HSM,
  assignRole,
  hsmCall,
  roleId,
  seedHsm,
  seed
} from '../resources/hsm-fixtures.js'
import { makeCertificates } from '../resources/certificates.js'
import { SwaggerValidator, Specs } from './swagger.js'

let v: Record<keyof typeof Specs, SwaggerValidator>

beforeAll(() => {
  v = Object.fromEntries(
    Object.entries(Specs).map(([k, file]) => [k, new SwaggerValidator(file)])
  ) as typeof v
})

function conforms(spec: keyof typeof Specs, operationId: string, res: JsonResponse): void {
  expect({
    operationId,
    status: res.status,
    problems: v[spec].check(operationId, res.status, res.json)
  }).toEqual({
    operationId,
    status: res.status,
    problems: []
  })
}

describe('the validator itself', () => {
  it('catches bodies that break the schema', () => {
    expect(
      v.keyVaultRm.check('ManagedHsms_Get', 200, { sku: { family: 'B', name: 'Premium_X' } })
    ).not.toEqual([])
    expect(v.keys.check('CreateKey', 200, { key: { key_ops: 'wrapKey' } })).not.toEqual([])
    expect(
      v.cosmos.check('DatabaseAccounts_Get', 200, { identity: { type: 'Sometimes' } })
    ).not.toEqual([])
    expect(v.keys.check('CreateKey', 201, {})).toEqual([
      'CreateKey: status 201 is not a documented response'
    ])
    // through $refs into the common-types files
    expect(v.keyVaultRm.check('ManagedHsms_Get', 200, { id: 5 })).not.toEqual([])
    expect(v.msi.check('UserAssignedIdentities_Get', 200, { location: 5 })).not.toEqual([])
    expect(
      v.cosmos.check('DatabaseAccounts_Get', 200, { systemData: { createdAt: 5 } })
    ).not.toEqual([])
    expect(
      v.cosmos.check('DatabaseAccounts_Get', 200, {
        identity: { type: 'UserAssigned', userAssignedIdentities: { x: { principalId: 5 } } }
      })
    ).not.toEqual([])
    expect(v.resources.check('Providers_Get', 200, { resourceTypes: 'x' })).not.toEqual([])
    expect(
      v.administration.check('RoleAssignments_Create', 201, { properties: { principalId: [] } })
    ).not.toEqual([])
    expect(v.keyVaultRm.check('ManagedHsms_Get', 404, { error: { code: 5 } })).not.toEqual([])
  })
})

describe('ARM responses conform to the REST specs', () => {
  it('Microsoft.Resources: providers and resource groups', async () => {
    const h = new Harness({ providerRegistration: 1_000 })
    h.world.subscriptions[SUB]!.providers = {}
    const provider = `/subscriptions/${SUB}/providers/Microsoft.KeyVault`
    conforms(
      'resources',
      'Providers_Get',
      await h.call(armService, { method: 'GET', path: provider })
    )
    conforms(
      'resources',
      'Providers_Register',
      await h.call(armService, { method: 'POST', path: `${provider}/register` })
    )
    conforms(
      'resources',
      'ResourceGroups_Get',
      await h.call(armService, { method: 'GET', path: rgPath })
    )
    conforms(
      'resources',
      'ResourceGroups_Get',
      await h.call(armService, { method: 'GET', path: `/subscriptions/${SUB}/resourceGroups/none` })
    )
    conforms(
      'resources',
      'Providers_Register',
      await h.call(armService, { method: 'POST', path: `${provider}/register`, as: READER })
    )
  })

  it('Microsoft.KeyVault/managedHSMs: create, poll, get, update and errors', async () => {
    const h = new Harness({ hsmCreate: 1_000, hsmUpdate: 1_000 })
    const put = await h.call(armService, {
      method: 'PUT',
      path: hsmPath('spec-hsm'),
      body: hsmCreateBody()
    })
    conforms('keyVaultRm', 'ManagedHsms_CreateOrUpdate', put)
    conforms(
      'keyVaultRm',
      'ManagedHsms_Get',
      await h.call(armService, { method: 'GET', path: hsmPath('spec-hsm') })
    )
    const polled = await h.call(armService, { method: 'GET', path: pathOf(put.headers!.Location!) })
    expect(v.keyVaultRm.checkDefinition('ManagedHsm', polled.json)).toEqual([])
    h.advance(1_000)
    const done = await h.call(armService, { method: 'GET', path: pathOf(put.headers!.Location!) })
    expect(done.status).toBe(200)
    expect(v.keyVaultRm.checkDefinition('ManagedHsm', done.json)).toEqual([])
    conforms(
      'keyVaultRm',
      'ManagedHsms_Get',
      await h.call(armService, { method: 'GET', path: hsmPath('spec-hsm') })
    )
    conforms(
      'keyVaultRm',
      'ManagedHsms_Update',
      await h.call(armService, {
        method: 'PATCH',
        path: hsmPath('spec-hsm'),
        body: { tags: { a: 'b' } }
      })
    )
    h.advance(1_000)
    conforms(
      'keyVaultRm',
      'ManagedHsms_Update',
      await h.call(armService, {
        method: 'PATCH',
        path: hsmPath('spec-hsm'),
        body: { properties: { enablePurgeProtection: false } }
      })
    )
    conforms(
      'keyVaultRm',
      'ManagedHsms_Get',
      await h.call(armService, { method: 'GET', path: hsmPath('other') })
    )
    conforms(
      'keyVaultRm',
      'ManagedHsms_CreateOrUpdate',
      await h.call(armService, {
        method: 'PUT',
        path: hsmPath('bad'),
        body: hsmCreateBody({}, { softDeleteRetentionInDays: 3 })
      })
    )
    conforms(
      'keyVaultRm',
      'ManagedHsms_CheckMhsmNameAvailability',
      await h.call(armService, {
        method: 'POST',
        path: `/subscriptions/${SUB}/providers/Microsoft.KeyVault/checkMhsmNameAvailability`,
        body: { name: 'spec-hsm' }
      })
    )
  })

  it('Microsoft.ManagedIdentity/userAssignedIdentities: create, update, get and errors', async () => {
    const h = new Harness()
    const body = { location: 'westeurope', tags: { a: 'b' } }
    conforms(
      'msi',
      'UserAssignedIdentities_CreateOrUpdate',
      await h.call(armService, { method: 'PUT', path: uaiPath('id1'), body })
    )
    conforms(
      'msi',
      'UserAssignedIdentities_CreateOrUpdate',
      await h.call(armService, { method: 'PUT', path: uaiPath('id1'), body })
    )
    conforms(
      'msi',
      'UserAssignedIdentities_Get',
      await h.call(armService, { method: 'GET', path: uaiPath('id1') })
    )
    conforms(
      'msi',
      'UserAssignedIdentities_Get',
      await h.call(armService, { method: 'GET', path: uaiPath('nope') })
    )
  })

  it('Microsoft.DocumentDB/databaseAccounts: create, update, get (with CMK and identities) and delete', async () => {
    const h = new Harness({ cosmosCreate: 1_000 })
    seed(h, {
      userAssignedIdentities: [{ name: 'cmk-id' }],
      managedHsms: [
        { name: HSM, initialAdminObjectIds: [DEPLOYER], keys: [{ name: 'cmk', size: 2048 }] }
      ]
    })
    await assignRole(h, COSMOS_FP, ENCRYPTION_USER, '/keys')
    const uaiId = Object.values(h.world.userAssignedIdentities)[0]!.id
    const put = await h.call(armService, {
      method: 'PUT',
      path: cosmosPath('spec-acct'),
      apiVersion: '2025-10-15',
      body: {
        location: 'westeurope',
        kind: 'MongoDB',
        identity: { type: 'SystemAssigned,UserAssigned', userAssignedIdentities: { [uaiId]: {} } },
        properties: {
          locations: [
            { locationName: 'westeurope', failoverPriority: 0 },
            { locationName: 'northeurope', failoverPriority: 1 }
          ],
          databaseAccountOfferType: 'Standard',
          keyVaultKeyUri: `https://${HSM}.managedhsm.azure.net/keys/cmk`,
          capabilities: [{ name: 'EnableServerless' }]
        }
      }
    })
    expect(put.status).toBe(200)
    conforms('cosmos', 'DatabaseAccounts_CreateOrUpdate', put)
    conforms(
      'cosmos',
      'DatabaseAccounts_Get',
      await h.call(armService, { method: 'GET', path: cosmosPath('spec-acct') })
    )
    h.advance(1_000)
    const got = await h.call(armService, { method: 'GET', path: cosmosPath('spec-acct') })
    expect(got.json.properties.keyVaultKeyUriVersion).toBeDefined()
    conforms('cosmos', 'DatabaseAccounts_Get', got)
    const listed = await h.call(armService, {
      method: 'GET',
      path: cosmosPath('spec-acct').replace(
        /\/resourceGroups\/.*$/,
        '/providers/Microsoft.DocumentDB/databaseAccounts'
      )
    })
    expect(listed.json.value.map((a: { name: string }) => a.name)).toEqual(['spec-acct'])
    conforms('cosmos', 'DatabaseAccounts_List', listed)
    conforms(
      'cosmos',
      'DatabaseAccounts_ListByResourceGroup',
      await h.call(armService, {
        method: 'GET',
        path: cosmosPath('spec-acct').replace(/\/[^/]+$/, '')
      })
    )
    conforms(
      'cosmos',
      'DatabaseAccounts_Update',
      await h.call(armService, {
        method: 'PATCH',
        path: cosmosPath('spec-acct'),
        body: { tags: { a: 'b' } }
      })
    )
    const del = await h.call(armService, { method: 'DELETE', path: cosmosPath('spec-acct') })
    conforms('cosmos', 'DatabaseAccounts_Delete', { ...del, json: undefined })
    conforms(
      'cosmos',
      'DatabaseAccounts_Delete',
      await h.call(armService, { method: 'DELETE', path: cosmosPath('none') })
    )
  })
})

describe('Managed HSM data-plane responses conform to the REST specs', () => {
  it('keys: create, get, list, versions, wrap, unwrap and errors', async () => {
    const h = new Harness()
    seedHsm(h, {
      roleAssignments: [{ role: 'Managed HSM Crypto User', principalId: DEPLOYER, scope: '/' }]
    })
    const created = await hsmCall(h, {
      method: 'POST',
      path: '/keys/cmk/create',
      body: {
        kty: 'RSA-HSM',
        key_size: 2048,
        key_ops: ['wrapKey', 'unwrapKey'],
        tags: { a: 'b' },
        attributes: { exp: 1999999999 }
      }
    })
    conforms('keys', 'CreateKey', created)
    conforms('keys', 'GetKey', await hsmCall(h, { method: 'GET', path: '/keys/cmk/' }))
    conforms('keys', 'GetKeys', await hsmCall(h, { method: 'GET', path: '/keys' }))
    conforms(
      'keys',
      'GetKeyVersions',
      await hsmCall(h, { method: 'GET', path: '/keys/cmk/versions' })
    )
    const version = created.json.key.kid.split('/').pop()
    const wrapped = await hsmCall(h, {
      method: 'POST',
      path: `/keys/cmk/${version}/wrapkey`,
      body: { alg: 'RSA-OAEP-256', value: 'AAECAw' }
    })
    conforms('keys', 'wrapKey', wrapped)
    conforms(
      'keys',
      'unwrapKey',
      await hsmCall(h, {
        method: 'POST',
        path: `/keys/cmk/${version}/unwrapkey`,
        body: { alg: 'RSA-OAEP-256', value: wrapped.json.value }
      })
    )
    conforms('keys', 'GetKey', await hsmCall(h, { method: 'GET', path: '/keys/none' }))
    conforms(
      'keys',
      'CreateKey',
      await hsmCall(h, { method: 'POST', path: '/keys/x/create', body: { kty: 'RSA' }, as: READER })
    )
    conforms(
      'keys',
      'CreateKey',
      await hsmCall(h, {
        method: 'POST',
        path: '/keys/x/create',
        body: { kty: 'RSA', key_size: 1 }
      })
    )
  })

  it('role definitions and role assignments', async () => {
    const h = new Harness()
    seedHsm(h)
    conforms(
      'administration',
      'RoleDefinitions_List',
      await hsmCall(h, {
        method: 'GET',
        path: '/providers/Microsoft.Authorization/roleDefinitions'
      })
    )
    conforms(
      'administration',
      'RoleDefinitions_Get',
      await hsmCall(h, {
        method: 'GET',
        path: `/providers/Microsoft.Authorization/roleDefinitions/${ENCRYPTION_USER}`
      })
    )
    const name = randomUUID()
    const path = `/keys/providers/Microsoft.Authorization/roleAssignments/${name}`
    const body = {
      properties: { roleDefinitionId: roleId(ENCRYPTION_USER), principalId: COSMOS_FP }
    }
    conforms(
      'administration',
      'RoleAssignments_Create',
      await hsmCall(h, { method: 'PUT', path, body })
    )
    conforms('administration', 'RoleAssignments_Get', await hsmCall(h, { method: 'GET', path }))
    conforms(
      'administration',
      'RoleAssignments_ListForScope',
      await hsmCall(h, {
        method: 'GET',
        path: '/keys/providers/Microsoft.Authorization/roleAssignments',
        query: { $filter: 'atScope()' }
      })
    )
    conforms(
      'administration',
      'RoleAssignments_Create',
      await hsmCall(h, { method: 'PUT', path: path.replace(name, randomUUID()), body })
    )
    conforms(
      'administration',
      'RoleAssignments_Delete',
      await hsmCall(h, { method: 'DELETE', path })
    )
    conforms('administration', 'RoleAssignments_Get', await hsmCall(h, { method: 'GET', path }))
  })

  it('security domain download and its status', async () => {
    const h = new Harness({ securityDomainDownload: 1_000 })
    seedHsm(h, { activationStatus: 'NotActivated' })
    conforms('keys', 'GetKeys', await hsmCall(h, { method: 'GET', path: '/keys' }))
    const certs = await makeCertificates(3)
    const download = await hsmCall(h, {
      method: 'POST',
      path: '/securitydomain/download',
      body: { certificates: certs.map(c => c.jwk), required: 2 }
    })
    conforms('securityDomain', 'HSMSecurityDomain_Download', download)
    conforms(
      'securityDomain',
      'HSMSecurityDomain_DownloadPending',
      await hsmCall(h, { method: 'GET', path: '/securitydomain/download/pending' })
    )
    h.advance(1_000)
    conforms(
      'securityDomain',
      'HSMSecurityDomain_DownloadPending',
      await hsmCall(h, { method: 'GET', path: '/securitydomain/download/pending' })
    )
    conforms(
      'securityDomain',
      'HSMSecurityDomain_Download',
      await hsmCall(h, {
        method: 'POST',
        path: '/securitydomain/download',
        body: { certificates: [] }
      })
    )
  })
})
