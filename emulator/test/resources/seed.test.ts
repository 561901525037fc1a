import { describe, expect, it } from '@jest/globals'
import { DataActions, principalMayPerform } from '../../src/model/rbac.js'
import { COSMOS_FP, DEPLOYER, SUB } from './test-tenant.js'
import { Harness } from './harness.js'
import { ENCRYPTION_USER, HSM, roleId, seed } from './hsm-fixtures.js'

const UAI_PRINCIPAL = '5a5a5a5a-0000-0000-0000-000000000001'
const UAI_CLIENT = '5a5a5a5a-0000-0000-0000-000000000002'

describe('seedResources', () => {
  it('seeds identities, an HSM with real keys and effective roles, and a Cosmos DB account', () => {
    const h = new Harness()
    seed(h, {
      userAssignedIdentities: [
        { name: 'cmk-id', principalId: UAI_PRINCIPAL, clientId: UAI_CLIENT }
      ],
      managedHsms: [
        {
          name: HSM,
          location: 'northeurope',
          initialAdminObjectIds: [DEPLOYER],
          keys: [{ name: 'cmk', size: 2048, ops: ['wrapKey', 'unwrapKey'] }],
          roleAssignments: [
            {
              role: 'Managed HSM Crypto Service Encryption User',
              principalId: COSMOS_FP,
              scope: '/keys'
            },
            {
              role: ENCRYPTION_USER,
              principalId: UAI_PRINCIPAL,
              scope: '/keys/cmk',
              name: 'a1b2c3d4-0000-0000-0000-000000000000'
            }
          ]
        }
      ],
      cosmosAccounts: [
        { name: 'seeded-acct', keyVaultKeyUri: `https://${HSM}.managedhsm.azure.net/keys/cmk` }
      ]
    })
    const uai = Object.values(h.world.userAssignedIdentities)[0]!
    expect(uai).toMatchObject({
      name: 'cmk-id',
      principalId: UAI_PRINCIPAL,
      clientId: UAI_CLIENT,
      location: 'westeurope'
    })
    expect(h.world.servicePrincipals[UAI_PRINCIPAL]).toEqual({
      id: UAI_PRINCIPAL,
      appId: UAI_CLIENT,
      displayName: 'cmk-id',
      servicePrincipalType: 'ManagedIdentity',
      replicatedAt: h.now
    })

    const hsm = Object.values(h.world.managedHsms)[0]!
    expect(hsm).toMatchObject({
      id: `/subscriptions/${SUB}/resourceGroups/cmk-rg/providers/Microsoft.KeyVault/managedHSMs/${HSM}`,
      location: 'northeurope',
      provisioningState: 'Succeeded',
      activationStatus: 'Active',
      enablePurgeProtection: true,
      enableSoftDelete: true
    })
    const plane = h.world.hsmDataPlanes[HSM]!
    const key = plane.keys.cmk!
    expect(key.versions).toHaveLength(1)
    expect(key.versions[0]).toMatchObject({
      kty: 'RSA-HSM',
      keySize: 2048,
      keyOps: ['wrapKey', 'unwrapKey'],
      enabled: true
    })
    expect(key.versions[0]!.privateKeyPem).toContain('BEGIN PRIVATE KEY')
    expect(plane.roleAssignments['a1b2c3d4-0000-0000-0000-000000000000']).toMatchObject({
      scope: '/keys/cmk',
      roleDefinitionId: roleId(ENCRYPTION_USER),
      effectiveAt: h.now
    })
    const admins = Object.values(plane.roleAssignments).filter(a => a.principalId === DEPLOYER)
    expect(admins).toEqual([
      expect.objectContaining({
        scope: '/',
        roleDefinitionId: roleId('a290e904-7015-4bba-90c8-60543313cdb4')
      })
    ])
    expect(
      principalMayPerform(h.world, HSM, COSMOS_FP, DataActions.keysUnwrap, '/keys/cmk', h.now)
    ).toBe(true)
    expect(
      principalMayPerform(h.world, HSM, DEPLOYER, DataActions.securityDomainDownload, '/', h.now)
    ).toBe(true)

    const account = Object.values(h.world.cosmosAccounts)[0]!
    expect(account).toMatchObject({
      name: 'seeded-acct',
      provisioningState: 'Succeeded',
      defaultIdentity: 'FirstPartyIdentity',
      locations: [{ locationName: 'westeurope', failoverPriority: 0, isZoneRedundant: false }]
    })
  })

  it('refuses unknown roles and scopes', () => {
    const h = new Harness()
    expect(() =>
      seed(h, {
        managedHsms: [
          { name: 'h1', roleAssignments: [{ role: 'Owner', principalId: COSMOS_FP, scope: '/' }] }
        ]
      })
    ).toThrow(/unknown Managed HSM role 'Owner'/)
    expect(() =>
      seed(h, {
        managedHsms: [
          {
            name: 'h2',
            roleAssignments: [
              { role: 'Managed HSM Crypto User', principalId: COSMOS_FP, scope: '/secrets' }
            ]
          }
        ]
      })
    ).toThrow(/invalid role assignment scope/)
  })

  it('seeds EC keys as EC-HSM on their curve, and refuses keys Managed HSM could not hold', () => {
    const h = new Harness()
    seed(h, {
      managedHsms: [
        {
          name: HSM,
          keys: [
            { name: 'ec', kty: 'EC' },
            { name: 'k', kty: 'EC-HSM', curve: 'P-521', ops: ['sign'] }
          ]
        }
      ]
    })
    const keys = h.world.hsmDataPlanes[HSM]!.keys
    expect(keys.ec!.versions[0]).toMatchObject({
      kty: 'EC-HSM',
      crv: 'P-256',
      keySize: 256,
      keyOps: ['sign', 'verify']
    })
    expect(keys.k!.versions[0]).toMatchObject({ kty: 'EC-HSM', crv: 'P-521', keyOps: ['sign'] })
    expect(keys.k!.versions[0]!.n).toBeUndefined()
    const refused = (name: string, key: Record<string, unknown>) =>
      expect(() => seed(h, { managedHsms: [{ name, keys: [{ name: 'x', ...key }] }] }))
    refused('h1', { kty: 'oct-HSM' }).toThrow(/key type 'oct-HSM' is not emulated/)
    refused('h2', { kty: 'EC-HSM', ops: ['wrapKey'] }).toThrow(/EC-HSM key cannot allow 'wrapKey'/)
    refused('h3', { kty: 'EC-HSM', size: 256 }).toThrow(/has a curve, not a size/)
    refused('h4', { kty: 'EC', curve: 'P-192' }).toThrow(/unknown curve 'P-192'/)
    refused('h5', { size: 1024 }).toThrow(/2048, 3072 or 4096 bits/)
  })

  it('seeds HSM settings and refuses settings HSMs do not have', () => {
    const h = new Harness()
    seed(h, {
      managedHsms: [{ name: HSM, settings: { AllowKeyManagementOperationsThroughARM: true } }]
    })
    expect(h.world.hsmDataPlanes[HSM]!.settings).toEqual({
      AllowKeyManagementOperationsThroughARM: true
    })
    const settings = { AllowEverything: true } as Record<string, boolean>
    expect(() => seed(h, { managedHsms: [{ name: 'h1', settings }] })).toThrow(
      /'AllowEverything' is not a setting/
    )
  })
})
