import { describe, expect, it } from '@jest/globals'
import { armService } from '../../src/services/arm/index.js'
import { DEPLOYER, READER, SUB, addApp } from './test-tenant.js'
import { cosmosPath, hsmPath, rgPath, uaiPath } from './arm-paths.js'
import { Harness, type CallOptions } from './harness.js'
import { HSM, seed } from './hsm-fixtures.js'

const TAGS = '/providers/Microsoft.Resources/tags/default'
const TAGGER_APP = '0a0a0a0a-0000-0000-0000-0000000000aa'
const TAGGER = 'd0d0d0d0-0000-0000-0000-0000000000aa'

function world(h: Harness): void {
  seed(h, {
    userAssignedIdentities: [{ name: 'cmk-id' }],
    managedHsms: [{ name: HSM, initialAdminObjectIds: [DEPLOYER] }],
    cosmosAccounts: [{ name: 'acct1' }]
  })
}

const tags = (h: Harness, scope: string, o: Omit<CallOptions, 'path'>) =>
  h.call(armService, { apiVersion: '2025-04-01', path: `${scope}${TAGS}`, ...o })
const merge = (h: Harness, scope: string, t: Record<string, string>, as?: string) =>
  tags(h, scope, {
    method: 'PATCH',
    body: { operation: 'Merge', properties: { tags: t } },
    ...(as ? { as } : {})
  })

describe('Tags at scope', () => {
  it('merges into an HSM, and the HSM shows the tags on its next GET', async () => {
    const h = new Harness()
    world(h)
    const hsmId = hsmPath(HSM)
    const res = await merge(h, hsmId, { 'cmk-security-domain': 'download started 2026-01-15' })
    expect(res.status).toBe(200)
    expect(res.json).toEqual({
      id: `${hsmId}${TAGS}`,
      name: 'default',
      type: 'Microsoft.Resources/tags',
      properties: { tags: { 'cmk-security-domain': 'download started 2026-01-15' } }
    })
    await merge(h, hsmId, { 'cmk-security-domain': 'saved', owner: 'platform' })
    const hsm = await h.call(armService, { method: 'GET', path: hsmId })
    expect(hsm.json.tags).toEqual({ 'cmk-security-domain': 'saved', owner: 'platform' })
    const read = await tags(h, hsmId, { method: 'GET' })
    expect(read.json.properties.tags).toEqual(hsm.json.tags)
  })

  it('keeps tags set at creation and compares names without case', async () => {
    const h = new Harness()
    world(h)
    const hsmId = hsmPath(HSM)
    await tags(h, hsmId, { method: 'PUT', body: { properties: { tags: { Env: 'test' } } } })
    const merged = await merge(h, hsmId, { env: 'prod', team: 'db' })
    expect(merged.json.properties.tags).toEqual({ Env: 'prod', team: 'db' })
  })

  it('replaces, deletes by name or by name and value, and deletes all', async () => {
    const h = new Harness()
    world(h)
    const id = cosmosPath('acct1')
    await tags(h, id, { method: 'PUT', body: { properties: { tags: { a: '1', b: '2', c: '3' } } } })
    const del = (t: Record<string, string>) =>
      tags(h, id, { method: 'PATCH', body: { operation: 'Delete', properties: { tags: t } } })
    expect((await del({ a: 'other' })).json.properties.tags).toEqual({ a: '1', b: '2', c: '3' })
    expect((await del({ a: '1', B: '' })).json.properties.tags).toEqual({ c: '3' })
    const replaced = await tags(h, id, {
      method: 'PATCH',
      body: { operation: 'replace', properties: { tags: { x: 'y' } } }
    })
    expect(replaced.json.properties.tags).toEqual({ x: 'y' })
    const account = await h.call(armService, { method: 'GET', path: id, apiVersion: '2025-10-15' })
    expect(account.json.tags).toEqual({ x: 'y' })
    expect((await tags(h, id, { method: 'DELETE' })).status).toBe(200)
    expect((await tags(h, id, { method: 'GET' })).json.properties.tags).toEqual({})
  })

  it('tags identities, resource groups and subscriptions', async () => {
    const h = new Harness()
    world(h)
    for (const scope of [uaiPath('cmk-id'), rgPath, `/subscriptions/${SUB}`]) {
      const res = await merge(h, scope, { scope: 'yes' })
      expect(res.status).toBe(200)
      expect(res.json.id).toBe(`${scope}${TAGS}`)
    }
    const uai = await h.call(armService, { method: 'GET', path: uaiPath('cmk-id') })
    expect(uai.json.tags).toEqual({ scope: 'yes' })
    const rg = await h.call(armService, { method: 'GET', path: rgPath })
    expect(rg.json.tags).toEqual({ scope: 'yes' })
    const sub = await h.call(armService, { method: 'GET', path: `/subscriptions/${SUB}` })
    expect(sub.json.tags).toEqual({ scope: 'yes' })
  })

  it('answers 404 for what does not exist, and the scope in the canonical spelling', async () => {
    const h = new Harness()
    world(h)
    const missing = await merge(h, hsmPath('nohsm'), { a: 'b' })
    expect(missing.status).toBe(404)
    expect(missing.json.error.code).toBe('ResourceNotFound')
    const noGroup = await merge(h, `/subscriptions/${SUB}/resourceGroups/nope`, { a: 'b' })
    expect(noGroup.json.error.code).toBe('ResourceGroupNotFound')
    const upper = await tags(
      h,
      hsmPath(HSM).toUpperCase().replace('SUBSCRIPTIONS', 'subscriptions'),
      {
        method: 'GET'
      }
    )
    expect(upper.status).toBe(200)
    expect(upper.json.id).toBe(`${hsmPath(HSM)}${TAGS}`)
  })

  it('enforces Azure tag limits with its 400s', async () => {
    const h = new Harness()
    world(h)
    const hsmId = hsmPath(HSM)
    const codeOf = async (t: Record<string, string>) => (await merge(h, hsmId, t)).json.error
    expect(await codeOf({ 'a/b': 'x' })).toEqual({
      code: 'InvalidTagNameCharacters',
      message:
        "The tag names 'a/b' have reserved characters '<,>,%,&,\\,?,/' or control characters."
    })
    for (const bad of ['<', '>', '%', '&', '\\', '?', '\u0007']) {
      expect((await codeOf({ [`n${bad}`]: 'x' })).code).toBe('InvalidTagNameCharacters')
    }
    expect((await merge(h, hsmId, { 'hidden-title': 'a/b', 'link:x/y': 'z' })).status).toBe(200)
    expect((await codeOf({ [' ']: 'x' })).code).toBe('InvalidTagName')
    expect((await codeOf({ ['n'.repeat(513)]: 'x' })).code).toBe('InvalidTagName')
    expect((await merge(h, hsmId, { ['n'.repeat(512)]: 'v'.repeat(256) })).status).toBe(200)
    expect((await codeOf({ long: 'v'.repeat(257) })).code).toBe('InvalidTagValueLength')
    // 3 tags are there; 47 more make 50, one more is refused with the count it would reach
    const many = Object.fromEntries(Array.from({ length: 47 }, (_, i) => [`t${i}`, 'v']))
    expect((await merge(h, hsmId, many)).status).toBe(200)
    expect(await codeOf({ one: 'more' })).toEqual({
      code: 'InvalidTags',
      message:
        "Too many tags specified. Requested tag count - '51'. Maximum number of tags allowed - '50'."
    })
    const tagsNow = (await tags(h, hsmId, { method: 'GET' })).json.properties.tags
    expect(Object.keys(tagsNow)).toHaveLength(50)
    const bad = await tags(h, hsmId, {
      method: 'PATCH',
      body: { operation: 'Append', properties: {} }
    })
    expect(bad.status).toBe(400)
    expect(bad.json.error.code).toBe('InvalidRequestContent')
    const notString = await merge(h, hsmId, { n: 5 as unknown as string })
    expect(notString.json.error.code).toBe('InvalidRequestContent')
  })

  it('authorizes as ARM does: tags/write, or write on the resource itself', async () => {
    const h = new Harness()
    world(h)
    addApp(h.world, TAGGER_APP, TAGGER, [{ role: 'Tag Contributor', scope: hsmPath(HSM) }])
    const hsmId = hsmPath(HSM)
    const denied = await merge(h, hsmId, { a: 'b' }, READER)
    expect(denied.status).toBe(403)
    expect(denied.json.error.code).toBe('AuthorizationFailed')
    expect(denied.json.error.message).toContain(
      `perform action 'Microsoft.Resources/tags/write' over scope '${hsmId}'`
    )
    expect((await tags(h, hsmId, { method: 'GET', as: READER })).status).toBe(200)
    // Tag Contributor on the HSM only: may tag it, not the account next to it, nor change the HSM
    expect((await merge(h, hsmId, { a: 'b' }, TAGGER)).status).toBe(200)
    expect((await merge(h, cosmosPath('acct1'), { a: 'b' }, TAGGER)).status).toBe(403)
    const patchHsm = await h.call(armService, {
      method: 'PATCH',
      path: hsmId,
      body: { tags: { a: 'c' } },
      as: TAGGER
    })
    expect(patchHsm.status).toBe(403)
    expect((await tags(h, hsmId, { method: 'GET', as: TAGGER })).json.properties.tags).toEqual({
      a: 'b'
    })
  })
})
