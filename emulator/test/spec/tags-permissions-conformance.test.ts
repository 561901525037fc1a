import { describe, expect, it } from '@jest/globals'
import { DEPLOYER, READER, SUB } from '../resources/test-tenant.js'
import { cosmosPath, hsmPath, rgPath } from '../resources/arm-paths.js'
import { Harness } from '../resources/harness.js'
import { HSM, seed } from '../resources/hsm-fixtures.js'
import { armService } from '../../src/services/arm/index.js'
import { check, validators } from './conformance.js'

const TAGS = '/providers/Microsoft.Resources/tags/default'
const PERMISSIONS = '/providers/Microsoft.Authorization/permissions'

function world(): Harness {
  const h = new Harness()
  seed(h, { managedHsms: [{ name: HSM, initialAdminObjectIds: [DEPLOYER] }] })
  return h
}

describe('Microsoft.Resources tags at scope conform to the REST spec', () => {
  it('GetAtScope, CreateOrUpdateAtScope, UpdateAtScope, DeleteAtScope and their errors', async () => {
    const h = world()
    const call = (method: string, scope: string, body?: unknown, as?: string) => ({
      method,
      path: `${scope}${TAGS}`,
      apiVersion: '2025-04-01',
      ...(body === undefined ? {} : { body }),
      ...(as ? { as } : {})
    })
    const hsmId = hsmPath(HSM)
    const put = await check(
      h,
      'resources',
      'Tags_CreateOrUpdateAtScope',
      call('PUT', hsmId, {
        properties: { tags: { a: 'b' } }
      })
    )
    expect(put.status).toBe(200)
    for (const operation of ['Merge', 'Replace', 'Delete']) {
      const res = await check(
        h,
        'resources',
        'Tags_UpdateAtScope',
        call('PATCH', hsmId, {
          operation,
          properties: { tags: { a: 'b', c: 'd' } }
        })
      )
      expect(res.status).toBe(200)
    }
    for (const scope of [hsmId, rgPath, `/subscriptions/${SUB}`]) {
      await check(h, 'resources', 'Tags_GetAtScope', call('GET', scope))
    }
    await check(h, 'resources', 'Tags_DeleteAtScope', call('DELETE', hsmId))
    // errors: missing resource, denied, refused tags
    const missing = await check(h, 'resources', 'Tags_GetAtScope', call('GET', hsmPath('none')))
    expect(missing.status).toBe(404)
    const denied = await check(
      h,
      'resources',
      'Tags_UpdateAtScope',
      call('PATCH', hsmId, { operation: 'Merge', properties: { tags: { a: 'b' } } }, READER)
    )
    expect(denied.status).toBe(403)
    const refused = await check(
      h,
      'resources',
      'Tags_CreateOrUpdateAtScope',
      call('PUT', hsmId, {
        properties: { tags: { 'a/b': 'c' } }
      })
    )
    expect(refused.status).toBe(400)
  })

  it('resource groups and subscriptions carry their tags in the documented shape', async () => {
    const h = world()
    for (const scope of [rgPath, `/subscriptions/${SUB}`]) {
      await check(h, 'resources', 'Tags_UpdateAtScope', {
        method: 'PATCH',
        path: `${scope}${TAGS}`,
        body: { operation: 'Merge', properties: { tags: { owner: 'db' } } }
      })
    }
    const rg = await check(h, 'resources', 'ResourceGroups_Get', { method: 'GET', path: rgPath })
    expect(rg.json.tags).toEqual({ owner: 'db' })
  })
})

describe('Microsoft.Authorization permissions conform to the REST spec', () => {
  it('Permissions_ListForResourceGroup and Permissions_ListForResource', async () => {
    const h = world()
    const list = (scope: string, as = DEPLOYER) => ({
      method: 'GET',
      path: `${scope}${PERMISSIONS}`,
      apiVersion: '2022-04-01',
      as
    })
    const group = await check(h, 'authorization', 'Permissions_ListForResourceGroup', list(rgPath))
    expect(group.json.value).toHaveLength(1)
    await check(h, 'authorization', 'Permissions_ListForResourceGroup', list(rgPath, READER))
    await check(h, 'authorization', 'Permissions_ListForResource', list(hsmPath(HSM)))
    await check(h, 'authorization', 'Permissions_ListForResource', list(cosmosPath('not-yet')))
    // the subscription form has no operation of its own in the spec; its body is the same result
    const sub = await h.call(armService, list(`/subscriptions/${SUB}`))
    const schema = validators().authorization
    expect(schema.checkDefinition('PermissionGetResult', sub.json)).toEqual([])
    expect(
      schema.checkDefinition('PermissionGetResult', { value: [{ actions: '*' }] })
    ).not.toEqual([])
  })
})
