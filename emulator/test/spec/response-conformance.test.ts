import { randomUUID } from 'node:crypto'
import { describe, expect, it } from '@jest/globals'
import { armService } from '../../src/services/arm/index.js'
import { COSMOS_FP, DEPLOYER, READER, SUB } from '../resources/test-tenant.js'
import {
  cosmosPath,
  hsmCreateBody,
  hsmPath,
  pathOf,
  rgPath,
  uaiPath
} from '../resources/arm-paths.js'
import { Harness } from '../resources/harness.js'
import {
  CRYPTO_USER,
  ENCRYPTION_USER,
  HSM,
  assignRole,
  downloadSecurityDomain,
  hsmCall,
  roleId,
  seedHsm,
  seed
} from '../resources/hsm-fixtures.js'
import { makeCertificates } from '../resources/certificates.js'
import { check, checkHsm, conforms, validators } from './conformance.js'

const v = validators()

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
    expect(v.keyVaultRm.check('ManagedHsmKeys_Get', 200, { name: 'k' })).not.toEqual([])
    expect(
      v.keyVaultRm.check('ManagedHsmKeys_GetVersion', 200, {
        properties: { keySize: '2048', attributes: { created: 'now' } }
      })
    ).not.toEqual([])
    expect(v.administration.check('GetSetting', 200, { name: 'x' })).not.toEqual([])
  })
})

describe('ARM responses conform to the REST specs', () => {
  it('Microsoft.Resources: providers and resource groups', async () => {
    const h = new Harness({ providerRegistration: 1_000 })
    h.world.subscriptions[SUB]!.providers = {}
    const provider = `/subscriptions/${SUB}/providers/Microsoft.KeyVault`
    await check(h, 'resources', 'Providers_Get', { method: 'GET', path: provider })
    await check(h, 'resources', 'Providers_Register', {
      method: 'POST',
      path: `${provider}/register`
    })
    await check(h, 'resources', 'ResourceGroups_Get', { method: 'GET', path: rgPath })
    await check(h, 'resources', 'ResourceGroups_Get', {
      method: 'GET',
      path: `/subscriptions/${SUB}/resourceGroups/none`
    })
    await check(h, 'resources', 'Providers_Register', {
      method: 'POST',
      path: `${provider}/register`,
      as: READER
    })
  })

  it('Microsoft.KeyVault/managedHSMs: create, poll, get, update and errors', async () => {
    const h = new Harness({ hsmCreate: 1_000, hsmUpdate: 1_000 })
    const put = await h.call(armService, {
      method: 'PUT',
      path: hsmPath('spec-hsm'),
      body: hsmCreateBody()
    })
    conforms('keyVaultRm', 'ManagedHsms_CreateOrUpdate', put)
    await check(h, 'keyVaultRm', 'ManagedHsms_Get', { method: 'GET', path: hsmPath('spec-hsm') })
    const polled = await h.call(armService, { method: 'GET', path: pathOf(put.headers!.Location!) })
    expect(v.keyVaultRm.checkDefinition('ManagedHsm', polled.json)).toEqual([])
    h.advance(1_000)
    const done = await h.call(armService, { method: 'GET', path: pathOf(put.headers!.Location!) })
    expect(done.status).toBe(200)
    expect(v.keyVaultRm.checkDefinition('ManagedHsm', done.json)).toEqual([])
    await check(h, 'keyVaultRm', 'ManagedHsms_Get', { method: 'GET', path: hsmPath('spec-hsm') })
    await check(h, 'keyVaultRm', 'ManagedHsms_Update', {
      method: 'PATCH',
      path: hsmPath('spec-hsm'),
      body: { tags: { a: 'b' } }
    })
    h.advance(1_000)
    await check(h, 'keyVaultRm', 'ManagedHsms_Update', {
      method: 'PATCH',
      path: hsmPath('spec-hsm'),
      body: { properties: { enablePurgeProtection: false } }
    })
    await check(h, 'keyVaultRm', 'ManagedHsms_Get', { method: 'GET', path: hsmPath('other') })
    await check(h, 'keyVaultRm', 'ManagedHsms_CreateOrUpdate', {
      method: 'PUT',
      path: hsmPath('bad'),
      body: hsmCreateBody({}, { softDeleteRetentionInDays: 3 })
    })
    await check(h, 'keyVaultRm', 'ManagedHsms_CheckMhsmNameAvailability', {
      method: 'POST',
      path: `/subscriptions/${SUB}/providers/Microsoft.KeyVault/checkMhsmNameAvailability`,
      body: { name: 'spec-hsm' }
    })
  })

  it('Microsoft.ManagedIdentity/userAssignedIdentities: create, update, get and errors', async () => {
    const h = new Harness()
    const body = { location: 'westeurope', tags: { a: 'b' } }
    await check(h, 'msi', 'UserAssignedIdentities_CreateOrUpdate', {
      method: 'PUT',
      path: uaiPath('id1'),
      body
    })
    await check(h, 'msi', 'UserAssignedIdentities_CreateOrUpdate', {
      method: 'PUT',
      path: uaiPath('id1'),
      body
    })
    await check(h, 'msi', 'UserAssignedIdentities_Get', { method: 'GET', path: uaiPath('id1') })
    await check(h, 'msi', 'UserAssignedIdentities_Get', { method: 'GET', path: uaiPath('nope') })
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
    await check(h, 'cosmos', 'DatabaseAccounts_Get', {
      method: 'GET',
      path: cosmosPath('spec-acct')
    })
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
    await check(h, 'cosmos', 'DatabaseAccounts_ListByResourceGroup', {
      method: 'GET',
      path: cosmosPath('spec-acct').replace(/\/[^/]+$/, '')
    })
    await check(h, 'cosmos', 'DatabaseAccounts_Update', {
      method: 'PATCH',
      path: cosmosPath('spec-acct'),
      body: { tags: { a: 'b' } }
    })
    const del = await h.call(armService, { method: 'DELETE', path: cosmosPath('spec-acct') })
    conforms('cosmos', 'DatabaseAccounts_Delete', { ...del, json: undefined })
    await check(h, 'cosmos', 'DatabaseAccounts_Delete', {
      method: 'DELETE',
      path: cosmosPath('none')
    })
  })
})

describe('Managed HSM keys through ARM conform to the REST spec', () => {
  it('CreateIfNotExist, Get, GetVersion, List, ListVersions and their errors', async () => {
    const h = new Harness()
    seedHsm(h, {
      settings: { AllowKeyManagementOperationsThroughARM: true },
      keys: [{ name: 'signing', kty: 'EC-HSM', curve: 'P-384' }]
    })
    await assignRole(h, DEPLOYER, CRYPTO_USER, '/keys')
    const keys = `${hsmPath(HSM)}/keys`
    const body = {
      tags: { a: 'b' },
      properties: {
        kty: 'RSA-HSM',
        keySize: 3072,
        keyOps: ['wrapKey', 'unwrapKey'],
        attributes: { enabled: true, exp: 1999999999 }
      }
    }
    const op = 'ManagedHsmKeys_CreateIfNotExist'
    const created = await check(h, 'keyVaultRm', op, { method: 'PUT', path: `${keys}/cmk`, body })
    expect(created.status).toBe(200)
    await check(h, 'keyVaultRm', op, { method: 'PUT', path: `${keys}/cmk`, body })
    const version = created.json.properties.keyUriWithVersion.split('/').pop()
    for (const [operationId, path] of [
      ['ManagedHsmKeys_Get', `${keys}/cmk`],
      ['ManagedHsmKeys_Get', `${keys}/signing`],
      ['ManagedHsmKeys_GetVersion', `${keys}/cmk/versions/${version}`],
      ['ManagedHsmKeys_List', keys],
      ['ManagedHsmKeys_ListVersions', `${keys}/cmk/versions`],
      ['ManagedHsmKeys_Get', `${keys}/none`],
      ['ManagedHsmKeys_GetVersion', `${keys}/cmk/versions/${'0'.repeat(32)}`],
      ['ManagedHsmKeys_List', `${hsmPath('nohsm')}/keys`]
    ] as const) {
      await check(h, 'keyVaultRm', operationId, { method: 'GET', path })
    }
    await check(h, 'keyVaultRm', 'ManagedHsmKeys_Get', {
      method: 'GET',
      path: `${keys}/cmk`,
      as: READER
    })
    await check(h, 'keyVaultRm', op, { method: 'PUT', path: `${keys}/x`, body, as: READER })
    await check(h, 'keyVaultRm', op, {
      method: 'PUT',
      path: `${keys}/x`,
      body: { properties: { kty: 'RSA', keySize: 1 } }
    })
  })

  it('the account setting that lets ARM manage keys (data plane)', async () => {
    const h = new Harness()
    seedHsm(h)
    const path = '/settings/AllowKeyManagementOperationsThroughARM'
    await checkHsm(h, 'administration', 'GetSettings', { method: 'GET', path: '/settings' })
    await checkHsm(h, 'administration', 'GetSetting', { method: 'GET', path })
    await checkHsm(h, 'administration', 'GetSetting', { method: 'GET', path, as: READER })
    const updated = await checkHsm(h, 'administration', 'UpdateSetting', {
      method: 'PATCH',
      path,
      body: { value: 'true' }
    })
    expect(updated.json.value).toBe('true')
    await checkHsm(h, 'administration', 'UpdateSetting', {
      method: 'PATCH',
      path,
      body: { value: 'yes' }
    })
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
    await checkHsm(h, 'keys', 'GetKey', { method: 'GET', path: '/keys/cmk/' })
    await checkHsm(h, 'keys', 'GetKeys', { method: 'GET', path: '/keys' })
    await checkHsm(h, 'keys', 'GetKeyVersions', { method: 'GET', path: '/keys/cmk/versions' })
    const version = created.json.key.kid.split('/').pop()
    const wrapped = await hsmCall(h, {
      method: 'POST',
      path: `/keys/cmk/${version}/wrapkey`,
      body: { alg: 'RSA-OAEP-256', value: 'AAECAw' }
    })
    conforms('keys', 'wrapKey', wrapped)
    await checkHsm(h, 'keys', 'unwrapKey', {
      method: 'POST',
      path: `/keys/cmk/${version}/unwrapkey`,
      body: { alg: 'RSA-OAEP-256', value: wrapped.json.value }
    })
    await checkHsm(h, 'keys', 'GetKey', { method: 'GET', path: '/keys/none' })
    await checkHsm(h, 'keys', 'CreateKey', {
      method: 'POST',
      path: '/keys/x/create',
      body: { kty: 'RSA' },
      as: READER
    })
    await checkHsm(h, 'keys', 'CreateKey', {
      method: 'POST',
      path: '/keys/x/create',
      body: { kty: 'RSA', key_size: 1 }
    })
  })

  it('role definitions and role assignments', async () => {
    const h = new Harness()
    seedHsm(h)
    await checkHsm(h, 'administration', 'RoleDefinitions_List', {
      method: 'GET',
      path: '/providers/Microsoft.Authorization/roleDefinitions'
    })
    await checkHsm(h, 'administration', 'RoleDefinitions_Get', {
      method: 'GET',
      path: `/providers/Microsoft.Authorization/roleDefinitions/${ENCRYPTION_USER}`
    })
    const name = randomUUID()
    const path = `/keys/providers/Microsoft.Authorization/roleAssignments/${name}`
    const body = {
      properties: { roleDefinitionId: roleId(ENCRYPTION_USER), principalId: COSMOS_FP }
    }
    await checkHsm(h, 'administration', 'RoleAssignments_Create', { method: 'PUT', path, body })
    await checkHsm(h, 'administration', 'RoleAssignments_Get', { method: 'GET', path })
    await checkHsm(h, 'administration', 'RoleAssignments_ListForScope', {
      method: 'GET',
      path: '/keys/providers/Microsoft.Authorization/roleAssignments',
      query: { $filter: 'atScope()' }
    })
    await checkHsm(h, 'administration', 'RoleAssignments_Create', {
      method: 'PUT',
      path: path.replace(name, randomUUID()),
      body
    })
    await checkHsm(h, 'administration', 'RoleAssignments_Delete', { method: 'DELETE', path })
    await checkHsm(h, 'administration', 'RoleAssignments_Get', { method: 'GET', path })
  })

  it('security domain download and its status', async () => {
    const h = new Harness({ securityDomainDownload: 1_000 })
    seedHsm(h, { activationStatus: 'NotActivated' })
    await checkHsm(h, 'keys', 'GetKeys', { method: 'GET', path: '/keys' })
    const certs = await makeCertificates(3)
    const download = await downloadSecurityDomain(h, certs)
    conforms('securityDomain', 'HSMSecurityDomain_Download', download)
    await checkHsm(h, 'securityDomain', 'HSMSecurityDomain_DownloadPending', {
      method: 'GET',
      path: '/securitydomain/download/pending'
    })
    h.advance(1_000)
    await checkHsm(h, 'securityDomain', 'HSMSecurityDomain_DownloadPending', {
      method: 'GET',
      path: '/securitydomain/download/pending'
    })
    await checkHsm(h, 'securityDomain', 'HSMSecurityDomain_Download', {
      method: 'POST',
      path: '/securitydomain/download',
      body: { certificates: [] }
    })
  })
})
