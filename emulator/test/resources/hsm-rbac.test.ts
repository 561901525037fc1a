import { randomUUID } from 'node:crypto'
import { describe, expect, it } from '@jest/globals'
import {
  DataActions,
  normalizeScope,
  principalMayPerform,
  scopeCovers
} from '../../src/model/rbac.js'
import { COSMOS_FP, DEPLOYER, READER, TENANT } from './test-tenant.js'
import { Harness } from './harness.js'
import {
  ADMIN_ROLE,
  BUILT_IN_ROLE_NAMES,
  CRYPTO_USER,
  ENCRYPTION_USER,
  HSM,
  POLICY_ADMIN,
  assignRole,
  expectAssignableOnlyAfter,
  hsmCall,
  roleNamesOf,
  roleId,
  seedHsm
} from './hsm-fixtures.js'

const ASSIGNMENTS = '/providers/Microsoft.Authorization/roleAssignments'
const DEFINITIONS = '/providers/Microsoft.Authorization/roleDefinitions'

describe('Managed HSM local RBAC', () => {
  it('lists and reads the built-in role definitions', async () => {
    const h = new Harness()
    seedHsm(h)
    const list = await hsmCall(h, { method: 'GET', path: DEFINITIONS })
    expect(list.status).toBe(200)
    expect(roleNamesOf(list.json)).toEqual(expect.arrayContaining(BUILT_IN_ROLE_NAMES))
    const one = await hsmCall(h, {
      method: 'GET',
      path: `/providers/Microsoft.Authorization/roleDefinitions/${ENCRYPTION_USER}`
    })
    expect(one.json).toEqual({
      id: roleId(ENCRYPTION_USER),
      name: ENCRYPTION_USER,
      type: 'Microsoft.Authorization/roleDefinitions',
      properties: {
        roleName: 'Managed HSM Crypto Service Encryption User',
        description: '',
        type: 'AKVBuiltInRole',
        permissions: [
          {
            actions: [],
            notActions: [],
            dataActions: [
              'Microsoft.KeyVault/managedHsm/keys/read/action',
              'Microsoft.KeyVault/managedHsm/keys/wrap/action',
              'Microsoft.KeyVault/managedHsm/keys/unwrap/action'
            ],
            notDataActions: []
          }
        ],
        assignableScopes: ['/']
      }
    })
    const filtered = await hsmCall(h, {
      method: 'GET',
      path: '/keys/providers/Microsoft.Authorization/roleDefinitions',
      query: { $filter: "roleName eq 'Managed HSM Crypto User'" }
    })
    expect(filtered.json.value.map((r: { name: string }) => r.name)).toEqual([CRYPTO_USER])
  })

  it('creates, reads, lists and deletes assignments with the spec body', async () => {
    const h = new Harness({ rbacPropagation: 10_000 })
    seedHsm(h)
    const name = randomUUID()
    const put = await hsmCall(h, {
      method: 'PUT',
      path: `/keys${ASSIGNMENTS}/${name}`,
      body: {
        properties: {
          roleDefinitionId: `/keys/providers/Microsoft.Authorization/roleDefinitions/${ENCRYPTION_USER}`,
          principalId: COSMOS_FP
        }
      }
    })
    expect(put.status).toBe(201)
    expect(put.json).toEqual({
      id: `/keys${ASSIGNMENTS}/${name}`,
      name,
      type: 'Microsoft.Authorization/roleAssignments',
      properties: {
        scope: '/keys',
        roleDefinitionId: roleId(ENCRYPTION_USER),
        principalId: COSMOS_FP
      }
    })
    const again = await hsmCall(h, {
      method: 'PUT',
      path: `/keys${ASSIGNMENTS}/${name}`,
      body: { properties: { roleDefinitionId: roleId(ENCRYPTION_USER), principalId: COSMOS_FP } }
    })
    expect(again.status).toBe(201)
    expect(again.json).toEqual(put.json)

    const get = await hsmCall(h, { method: 'GET', path: `/keys${ASSIGNMENTS}/${name}` })
    expect(get.json).toEqual(put.json)
    const atScope = await hsmCall(h, {
      method: 'GET',
      path: `/keys/cmk${ASSIGNMENTS}`,
      query: { $filter: 'atScope()' }
    })
    const scopes = atScope.json.value
      .map((a: { properties: { scope: string } }) => a.properties.scope)
      .sort()
    expect(scopes).toEqual(['/', '/keys'])
    const byPrincipal = await hsmCall(h, {
      method: 'GET',
      path: ASSIGNMENTS,
      query: { $filter: `principalId eq '${COSMOS_FP}'` }
    })
    expect(byPrincipal.json.value.map((a: { name: string }) => a.name)).toEqual([name])

    const del = await hsmCall(h, { method: 'DELETE', path: `/keys${ASSIGNMENTS}/${name}` })
    expect(del.status).toBe(200)
    expect(del.json).toEqual(put.json)
    const gone = await hsmCall(h, { method: 'GET', path: `/keys${ASSIGNMENTS}/${name}` })
    expect(gone.status).toBe(404)
  })

  it('honours an assignment only after propagation', async () => {
    const h = new Harness({ rbacPropagation: 90_000 })
    seedHsm(h)
    const start = h.now
    expect((await assignRole(h, COSMOS_FP, ENCRYPTION_USER, '/keys')).status).toBe(201)
    const may = () =>
      principalMayPerform(h.world, HSM, COSMOS_FP, DataActions.keysWrap, '/keys/cmk', h.now)
    expect(may()).toBe(false)
    h.now = start + 89_999
    expect(may()).toBe(false)
    h.now = start + 90_000
    expect(may()).toBe(true)
    expect(
      principalMayPerform(h.world, HSM, COSMOS_FP, DataActions.keysCreate, '/keys/cmk', h.now)
    ).toBe(false)
  })

  it('answers conflicts as Azure RBAC does', async () => {
    const h = new Harness()
    seedHsm(h)
    const name = randomUUID()
    const body = (principalId: string) => ({
      properties: { roleDefinitionId: roleId(CRYPTO_USER), principalId }
    })
    expect(
      (
        await hsmCall(h, {
          method: 'PUT',
          path: `/keys${ASSIGNMENTS}/${name}`,
          body: body(COSMOS_FP)
        })
      ).status
    ).toBe(201)
    const changed = await hsmCall(h, {
      method: 'PUT',
      path: `/keys${ASSIGNMENTS}/${name}`,
      body: body(READER)
    })
    expect(changed.status).toBe(409)
    const duplicate = await hsmCall(h, {
      method: 'PUT',
      path: `/keys${ASSIGNMENTS}/${randomUUID()}`,
      body: body(COSMOS_FP)
    })
    expect(duplicate.status).toBe(409)
    expect(duplicate.json.error.code).toBe('RoleAssignmentExists')
    expect(duplicate.json.error.message).toBe(
      `The role assignment already exists. The ID of the existing role assignment is ${name.replace(/-/g, '')}.`
    )
  })

  it('refuses principals the directory does not know yet', async () => {
    const h = new Harness()
    seedHsm(h)
    const unknown = randomUUID()
    const res = await assignRole(h, unknown, ENCRYPTION_USER, '/keys')
    expect(res.status).toBe(400)
    expect(res.json.error.code).toBe('PrincipalNotFound')
    expect(res.json.error.message).toMatch(
      new RegExp(`^Principal ${unknown} does not exist in the directory ${TENANT}\\.`)
    )
    const fresh = randomUUID()
    h.world.servicePrincipals[fresh] = {
      id: fresh,
      appId: randomUUID(),
      displayName: 'new identity',
      servicePrincipalType: 'ManagedIdentity',
      replicatedAt: h.now + 30_000
    }
    await expectAssignableOnlyAfter(h, fresh, 30_000)
  })

  it('needs roleAssignments/write at the scope and read at "/"', async () => {
    const h = new Harness()
    seedHsm(h, {
      keys: [{ name: 'team-key', size: 2048 }],
      roleAssignments: [
        { role: 'Managed HSM Policy Administrator', principalId: READER, scope: '/keys/team-key' }
      ]
    })
    const res = await assignRole(h, COSMOS_FP, CRYPTO_USER, '/keys/team-key', READER)
    expect(res.status).toBe(403)
    expect(res.json.error.message).toMatch(
      /^Not authorized to access Microsoft\.KeyVault\/managedHsm\/roleAssignments\/read\/action on \/ \(Activity ID/
    )
    const elsewhere = await assignRole(h, COSMOS_FP, CRYPTO_USER, '/keys', READER)
    expect(elsewhere.json.error.message).toContain('roleAssignments/write/action on /keys ')
    expect((await assignRole(h, COSMOS_FP, POLICY_ADMIN, '/keys/team-key', DEPLOYER)).status).toBe(
      201
    )
  })

  it('validates names, role ids and scopes', async () => {
    const h = new Harness()
    seedHsm(h)
    const put = (path: string, roleDefinitionId: string, principalId = COSMOS_FP) =>
      hsmCall(h, { method: 'PUT', path, body: { properties: { roleDefinitionId, principalId } } })
    expect((await put(`${ASSIGNMENTS}/not-a-guid`, roleId(ADMIN_ROLE))).status).toBe(400)
    const unknownRole = await put(`${ASSIGNMENTS}/${randomUUID()}`, roleId(randomUUID()))
    expect(unknownRole.json.error.code).toBe('RoleDefinitionDoesNotExist')
    expect((await put(`/secrets${ASSIGNMENTS}/${randomUUID()}`, roleId(ADMIN_ROLE))).status).toBe(
      400
    )
    expect((await put(`${ASSIGNMENTS}/${randomUUID()}`, roleId(ADMIN_ROLE), 'nobody')).status).toBe(
      400
    )
  })

  it('covers scopes from "/" down to one key', () => {
    expect(normalizeScope('/')).toBe('/')
    expect(normalizeScope('')).toBe('/')
    expect(normalizeScope('//keys/')).toBe('/keys')
    expect(normalizeScope('/KEYS/MyKey')).toBe('/keys/MyKey')
    expect(normalizeScope('/secrets')).toBeUndefined()
    expect(scopeCovers('/', '/keys/a')).toBe(true)
    expect(scopeCovers('/keys', '/keys/a')).toBe(true)
    expect(scopeCovers('/keys/a', '/keys/A')).toBe(true)
    expect(scopeCovers('/keys/a', '/keys/ab')).toBe(false)
    expect(scopeCovers('/keys/a', '/keys')).toBe(false)
  })
})
