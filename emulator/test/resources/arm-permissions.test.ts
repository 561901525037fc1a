import { describe, expect, it } from '@jest/globals'
import { armService } from '../../src/services/arm/index.js'
import { DEPLOYER, READER, SUB, addApp } from './test-tenant.js'
import { cosmosPath, hsmCreateBody, hsmPath, rgPath, uaiPath } from './arm-paths.js'
import { Harness, type CallOptions } from './harness.js'
import { HSM, seed } from './hsm-fixtures.js'

const PERMISSIONS = '/providers/Microsoft.Authorization/permissions'
const TAGGER = 'd0d0d0d0-0000-0000-0000-0000000000aa'
const OPERATOR = 'd0d0d0d0-0000-0000-0000-0000000000bb'
const RG_CONTRIBUTOR = 'd0d0d0d0-0000-0000-0000-0000000000cc'
const ACCOUNT_ONLY = 'd0d0d0d0-0000-0000-0000-0000000000ff'
const OWNER = 'd0d0d0d0-0000-0000-0000-0000000000dd'
const NOBODY = 'd0d0d0d0-0000-0000-0000-0000000000ee'

interface Permission {
  actions: string[]
  notActions: string[]
  dataActions: string[]
  notDataActions: string[]
}

function world(): Harness {
  const h = new Harness()
  seed(h, {
    userAssignedIdentities: [{ name: 'cmk-id' }],
    managedHsms: [{ name: HSM, initialAdminObjectIds: [DEPLOYER] }]
  })
  const app = (objectId: string, roles: Parameters<typeof addApp>[3]) =>
    addApp(h.world, objectId.replace(/^d0d0d0d0/, '0a0a0a0a'), objectId, roles)
  app(TAGGER, [{ role: 'Tag Contributor', scope: hsmPath(HSM) }])
  app(OPERATOR, [
    { role: 'Contributor', scope: rgPath },
    { role: 'Managed Identity Operator', scope: uaiPath('cmk-id') }
  ])
  app(RG_CONTRIBUTOR, [{ role: 'Contributor', scope: rgPath }])
  app(ACCOUNT_ONLY, [
    { role: 'Reader', scope: rgPath },
    { role: 'Contributor', scope: cosmosPath('acct-limited') }
  ])
  app(OWNER, [{ role: 'Owner', scope: rgPath }])
  app(NOBODY, [])
  return h
}

async function permissionsAt(h: Harness, scope: string, as: string): Promise<Permission[]> {
  const res = await h.call(armService, {
    method: 'GET',
    path: `${scope}${PERMISSIONS}`,
    apiVersion: '2022-04-01',
    as
  })
  expect(res.status).toBe(200)
  return res.json.value
}

/**
 * ARM's reading of a permission list, written out here independently of the emulator: a star
 * matches any run of characters, a `/*\/` segment may also be empty, case is ignored, and
 * notActions take away from actions of the same entry.
 */
function allows(permissions: Permission[], action: string): boolean {
  const matches = (pattern: string) =>
    new RegExp(
      `^${pattern
        .split('/*/')
        .map(part =>
          part
            .split('*')
            .map(s => s.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'))
            .join('.*')
        )
        .join('(?:/.*)?/')}$`,
      'i'
    ).test(action)
  return permissions.some(p => p.actions.some(matches) && !p.notActions.some(matches))
}

const CONTRIBUTOR_NOT_ACTIONS = [
  'Microsoft.Authorization/*/Delete',
  'Microsoft.Authorization/*/Write',
  'Microsoft.Authorization/elevateAccess/Action'
]

describe('Microsoft.Authorization/permissions', () => {
  it('lists the role permissions held at the scope or above it, for each scope form', async () => {
    const h = world()
    for (const scope of [`/subscriptions/${SUB}`, rgPath, hsmPath(HSM)]) {
      const [contributor, ...rest] = await permissionsAt(h, scope, DEPLOYER)
      expect(rest).toEqual([])
      expect(contributor).toEqual({
        actions: ['*'],
        notActions: expect.arrayContaining(CONTRIBUTOR_NOT_ACTIONS),
        dataActions: [],
        notDataActions: []
      })
    }
    expect(await permissionsAt(h, rgPath, READER)).toEqual([
      { actions: ['*/read'], notActions: [], dataActions: [], notDataActions: [] }
    ])
    // an assignment below the scope does not count at the scope
    expect(await permissionsAt(h, rgPath, TAGGER)).toEqual([])
    const tagger = await permissionsAt(h, hsmPath(HSM), TAGGER)
    expect(tagger).toHaveLength(1)
    expect(tagger[0]!.actions).toContain('Microsoft.Resources/tags/*')
    // two roles at the identity: one entry each
    const operator = await permissionsAt(h, uaiPath('cmk-id'), OPERATOR)
    expect(operator.map(p => p.actions[0])).toEqual([
      '*',
      'Microsoft.ManagedIdentity/userAssignedIdentities/*/read'
    ])
    expect(await permissionsAt(h, rgPath, NOBODY)).toEqual([])
  })

  it('answers for resources that do not exist yet, not for missing groups', async () => {
    const h = world()
    expect(await permissionsAt(h, cosmosPath('not-yet'), DEPLOYER)).toHaveLength(1)
    const res = await h.call(armService, {
      method: 'GET',
      path: `/subscriptions/${SUB}/resourceGroups/nope${PERMISSIONS}`,
      apiVersion: '2022-04-01'
    })
    expect(res.status).toBe(404)
    expect(res.json.error.code).toBe('ResourceGroupNotFound')
  })

  it('agrees with what the emulator authorizes, principal by principal', async () => {
    const h = world()
    const hsmId = hsmPath(HSM)
    const operations: { action: string; scope: string; call: Omit<CallOptions, 'as'> }[] = [
      {
        action: 'Microsoft.KeyVault/managedHSMs/read',
        scope: hsmId,
        call: { method: 'GET', path: hsmId }
      },
      {
        action: 'Microsoft.KeyVault/managedHSMs/write',
        scope: hsmId,
        call: { method: 'PATCH', path: hsmId, body: { tags: { a: 'b' } } }
      },
      {
        action: 'Microsoft.KeyVault/managedHSMs/write',
        scope: hsmPath('hsm-new'),
        call: { method: 'PUT', path: hsmPath('hsm-new'), body: hsmCreateBody({ tags: 'bad' }) }
      },
      {
        action: 'Microsoft.DocumentDB/register/action',
        scope: `/subscriptions/${SUB}`,
        call: {
          method: 'POST',
          path: `/subscriptions/${SUB}/providers/Microsoft.DocumentDB/register`
        }
      },
      {
        action: 'Microsoft.ManagedIdentity/userAssignedIdentities/read',
        scope: uaiPath('cmk-id'),
        call: { method: 'GET', path: uaiPath('cmk-id') }
      },
      {
        action: 'Microsoft.ManagedIdentity/userAssignedIdentities/write',
        scope: uaiPath('cmk-id'),
        call: { method: 'PUT', path: uaiPath('cmk-id'), body: { location: 'westeurope' } }
      },
      {
        action: 'Microsoft.Resources/subscriptions/resourceGroups/read',
        scope: rgPath,
        call: { method: 'GET', path: rgPath }
      },
      {
        action: 'Microsoft.DocumentDB/databaseAccounts/write',
        scope: cosmosPath('acct-perm'),
        call: { method: 'PUT', path: cosmosPath('acct-perm'), body: {} }
      },
      {
        action: 'Microsoft.DocumentDB/databaseAccounts/read',
        scope: cosmosPath('acct-perm'),
        call: { method: 'GET', path: cosmosPath('acct-perm') }
      }
    ]
    const principals = [
      DEPLOYER,
      READER,
      TAGGER,
      OPERATOR,
      RG_CONTRIBUTOR,
      ACCOUNT_ONLY,
      OWNER,
      NOBODY
    ]
    const table: string[] = []
    for (const as of principals) {
      for (const op of operations) {
        const reported = allows(await permissionsAt(h, op.scope, as), op.action)
        const res = await h.call(armService, { ...op.call, as })
        const authorized = res.status !== 403
        table.push(
          `${as} ${op.call.method} ${op.action}: reported ${reported}, authorized ${authorized}`
        )
        expect({ as, action: op.action, authorized }).toEqual({
          as,
          action: op.action,
          authorized: reported
        })
      }
    }
    // the table holds both answers, so that agreement is not vacuous
    expect(table.some(line => line.endsWith('reported true, authorized true'))).toBe(true)
    expect(table.some(line => line.endsWith('reported false, authorized false'))).toBe(true)
  })

  it("reports Managed Identity Operator's assign action as the role defines it, and ARM honours it", async () => {
    const h = world()
    const assign = 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action'
    const operator = await permissionsAt(h, uaiPath('cmk-id'), OPERATOR)
    expect(operator.flatMap(p => p.actions)).toContain(
      'Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action'
    )
    // the star segment also matches nothing: the role grants `.../userAssignedIdentities/assign/action`
    expect(allows(operator, assign)).toBe(true)
    expect(allows(await permissionsAt(h, uaiPath('cmk-id'), RG_CONTRIBUTOR), assign)).toBe(true)
    expect(allows(await permissionsAt(h, uaiPath('cmk-id'), ACCOUNT_ONLY), assign)).toBe(false)
    const body = (id: string) => ({
      location: 'westeurope',
      identity: { type: 'UserAssigned', userAssignedIdentities: { [id]: {} } },
      properties: {
        locations: [{ locationName: 'westeurope', failoverPriority: 0 }],
        databaseAccountOfferType: 'Standard',
        defaultIdentity: 'FirstPartyIdentity'
      }
    })
    const uaiId = Object.values(h.world.userAssignedIdentities)[0]!.id
    const put = (name: string, as: string) =>
      h.call(armService, { method: 'PUT', path: cosmosPath(name), body: body(uaiId), as })
    expect((await put('acct-operator', OPERATOR)).status).toBe(200)
    // Contributor carries '*', and so the assign action too
    expect((await put('acct-contributor', RG_CONTRIBUTOR)).status).toBe(200)
    const limited = await put('acct-limited', ACCOUNT_ONLY)
    expect(limited.status).toBe(403)
    expect(limited.json.error.code).toBe('LinkedAuthorizationFailed')
  })
})
