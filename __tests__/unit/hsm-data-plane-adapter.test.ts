/**
 * The Managed HSM data plane adapter (local RBAC, security domain, keys) on the Azure SDK and the
 * pipeline's own sign-in: the requests it sends, how it reads answers with fields left out, paged
 * lists and odd keys, and which failures it passes on.
 */
import { beforeEach, describe, expect, it } from '@jest/globals'
import type { HsmDataPlane } from '../../src/azure/api.js'
import { fakeSecurityDomainKey } from './fakes.js'
import { createHsmDataPlane } from '../../src/azure/hsm-data-plane.js'
import { systemClock } from '../../src/clock.js'
import { hsmRoles, roleAssignmentName, roleDefinitionId } from '../../src/roles.js'
import { Step } from '../../src/steps/names.js'
import { Timeline } from '../../src/timeline.js'
import { defaultNames } from '../../testkit/index.js'
import { quickTransport, useLocalAzure } from './local-azure.js'
import { errorAnswer, hsmHost, scriptedHsm, type ScriptedRequest } from './scripted-hosts.js'

const scripted = scriptedHsm('hsm-scripted')
const local = useLocalAzure(undefined, [scripted.service])
const hsmName = defaultNames.hsmName
const hsmUri = `https://${hsmName}.managedhsm.azure.net`
const scriptedUri = `https://${hsmHost('hsm-scripted')}`
const me = defaultNames.clientObjectId
const other = defaultNames.userAssignedIdentityPrincipalId
const assignments = '/providers/Microsoft.Authorization/roleAssignments'
const definitions = '/providers/Microsoft.Authorization/roleDefinitions'

const plane = (): HsmDataPlane => local.apis.hsm(hsmUri)
const scriptedPlane = (): HsmDataPlane => local.apis.hsm(scriptedUri)

beforeEach(() => {
  scripted.stop()
  local.emulator.store.world.hsmDataPlanes['hsm-scripted'] = {
    name: 'hsm-scripted',
    keys: {},
    roleAssignments: {}
  }
})

/** The requests the local Azure's own HSM received (not the token exchange). */
const hsmRequests = () => local.emulator.requests().filter(r => r.host === hsmHost(hsmName))

/** The path of a request as sent, before the local Azure collapses runs of slashes. */
const target = (request: ScriptedRequest): string => request.rawUrl.split('?')[0]!

const aborted = (): AbortSignal => AbortSignal.abort()
const abortError = { name: 'AbortError' }

async function grantKeys(): Promise<void> {
  const name = roleAssignmentName(hsmName, '/keys', hsmRoles.cryptoUser.id, me)
  if (!(await plane().rbac.get('/keys', name))) {
    await plane().rbac.create('/keys', name, roleDefinitionId(hsmRoles.cryptoUser), me)
  }
}

describe('local RBAC requests', () => {
  it("asks for one principal's assignments, with the HSM's api-version", async () => {
    await plane().rbac.listForPrincipal('/keys', me)
    const lists = hsmRequests().filter(r => r.path.endsWith('/roleAssignments') && r.status === 200)
    expect(lists.map(r => r.query)).toEqual([
      { $filter: `principalId eq '${me}'`, 'api-version': '7.6' }
    ])
  })

  it('asks for role definitions with nothing but the api-version', async () => {
    await plane().rbac.listRoleDefinitions('/')
    const lists = hsmRequests().filter(r => r.path.endsWith('/roleDefinitions') && r.status === 200)
    expect(lists.map(r => r.query)).toEqual([{ 'api-version': '7.6' }])
  })

  it('stops a list when its own signal aborts', async () => {
    await expect(
      plane().rbac.listForPrincipal('/keys', me, { signal: aborted() })
    ).rejects.toMatchObject(abortError)
  })

  it('passes on a refused deletion that is not "not found"', async () => {
    const name = roleAssignmentName(hsmName, '/keys', hsmRoles.cryptoUser.id, me)
    await expect(plane().rbac.delete('/secrets', name)).rejects.toMatchObject({ statusCode: 400 })
  })
})

describe('local RBAC answers', () => {
  it('follows next links, keeping their query without a second api-version', async () => {
    const principal = other.toUpperCase()
    const assignment = (name: string, principalId: string) => ({
      id: `/keys${assignments}/${name}`,
      name,
      properties: { scope: '/keys', roleDefinitionId: 'role', principalId }
    })
    const pages: Record<string, unknown> = {
      [`$filter=principalId eq '${principal}'&api-version=7.6`]: {
        value: [assignment('a1', other), assignment('b1', me)],
        nextLink: `${scriptedUri}${assignments}?api-version=7.6&$skiptoken=p2`
      },
      '$skiptoken=p2&api-version=7.6': {
        value: [assignment('a2', principal)],
        nextLink: `${scriptedUri}${assignments}?$skiptoken=p3&api-version=7.6&$top=5`
      },
      '$skiptoken=p3&$top=5&api-version=7.6': { value: [assignment('a3', other)] }
    }
    scripted.answer(request => {
      const page = pages[decodeURIComponent(request.rawUrl.split('?')[1] ?? '')]
      if (request.path !== assignments || !page) return errorAnswer(400, 'BadParameter')
      return { status: 200, body: page }
    })
    const seen = await scriptedPlane().rbac.listForPrincipal('/', principal)
    expect(seen.map(a => [a.name, a.principalId])).toEqual([
      ['a1', other],
      ['a2', other],
      ['a3', other]
    ])
    expect(scripted.requests.map(target)).toEqual([assignments, assignments, assignments])
  })

  it('sends each page read as a read of the step', async () => {
    scripted.answer(request =>
      request.query.get('$skiptoken')
        ? { status: 200, body: { value: [] } }
        : {
            status: 200,
            body: { value: [], nextLink: `${scriptedUri}/keys${assignments}?$skiptoken=2` }
          }
    )
    const timeline = new Timeline(systemClock)
    await timeline.within(Step.Observe, () => scriptedPlane().rbac.listForPrincipal('/keys', me))
    const pages = timeline.spans().filter(s => s.label.endsWith('/roleAssignments'))
    expect(pages.map(s => `${s.kind} ${s.label}`)).toEqual([
      `read GET /keys${assignments}`,
      `read GET /keys${assignments}`
    ])
  })

  it('reads an assignment with its fields left out as empty, at the root scope', async () => {
    scripted.answer(() => ({ status: 200, body: {} }))
    expect(await scriptedPlane().rbac.get('/keys', 'n1')).toEqual({
      id: '',
      name: '',
      scope: '/',
      roleDefinitionId: '',
      principalId: ''
    })
    expect(scripted.requests.map(r => r.path)).toEqual([`/keys${assignments}/n1`])
  })

  it('creates an assignment at its scope, and reads an answer without fields as empty', async () => {
    scripted.answer(() => ({ status: 201 }))
    expect(await scriptedPlane().rbac.create('/', 'n2', 'role', me)).toEqual({
      id: '',
      name: '',
      scope: '/',
      roleDefinitionId: '',
      principalId: ''
    })
    expect(scripted.requests.map(r => [r.method, target(r), r.body])).toEqual([
      ['PUT', `${assignments}/n2`, { properties: { roleDefinitionId: 'role', principalId: me } }]
    ])
  })

  it('reads role definitions at the root and at a scope, fields left out as empty', async () => {
    scripted.answer(request =>
      request.path.endsWith('/d1')
        ? { status: 200, body: { properties: {} } }
        : {
            status: 200,
            body: { value: [{}, { id: 'x', name: 'y', properties: { roleName: 'z' } }] }
          }
    )
    const empty = { id: '', name: '', roleName: '' }
    expect(await scriptedPlane().rbac.listRoleDefinitions('/')).toEqual([
      empty,
      { id: 'x', name: 'y', roleName: 'z' }
    ])
    expect(await scriptedPlane().rbac.listRoleDefinitions('/keys')).toHaveLength(2)
    expect(await scriptedPlane().rbac.getRoleDefinition('/keys', 'd1')).toEqual(empty)
    expect(scripted.requests.map(target)).toEqual([
      definitions,
      `/keys${definitions}`,
      `/keys${definitions}/d1`
    ])
  })
})

describe('security domain', () => {
  const certificates = ['c1', 'c2', 'c3'].map(kid => fakeSecurityDomainKey(kid))

  it('downloads with the certificates and the quorum', async () => {
    scripted.answer(() => ({ status: 202, body: { value: 'the-domain' } }))
    await expect(scriptedPlane().securityDomain.download(certificates, 2)).resolves.toEqual({
      value: 'the-domain'
    })
    expect(scripted.requests.map(r => [r.method, r.path, r.body])).toEqual([
      ['POST', '/securitydomain/download', { certificates, required: 2 }]
    ])
  })

  it('refuses a download answered without a security domain', async () => {
    scripted.answer(() => ({ status: 202, body: {} }))
    await expect(scriptedPlane().securityDomain.download(certificates, 2)).rejects.toThrow(
      new Error('The security domain download answered without a security domain.')
    )
  })

  it("reads the download's status and its details", async () => {
    scripted.answer(() => ({
      status: 200,
      body: { status: 'Failed', status_details: 'the quorum was not met' }
    }))
    const timeline = new Timeline(systemClock)
    const status = await timeline.within(Step.Activation, () =>
      scriptedPlane().securityDomain.downloadStatus()
    )
    expect(status).toEqual({ status: 'Failed', statusDetails: 'the quorum was not met' })
    expect(timeline.spans().map(s => `${s.kind} ${s.label}`)).toContain(
      'read GET /securitydomain/download/pending'
    )
    expect(scripted.requests.map(r => [r.method, r.path])).toEqual([
      ['GET', '/securitydomain/download/pending']
    ])
  })

  it.each([
    ['a status without one', { status: 200, body: {} }],
    ['404', errorAnswer(404, 'NotFound')],
    ['400', errorAnswer(400, 'BadParameter')]
  ])('reads %s as no download started', async (_, answer) => {
    scripted.answer(() => answer)
    expect(await scriptedPlane().securityDomain.downloadStatus()).toBeUndefined()
  })

  it('passes on any other refusal of the status', async () => {
    scripted.answer(() => errorAnswer(403, 'Forbidden'))
    await expect(scriptedPlane().securityDomain.downloadStatus()).rejects.toMatchObject({
      statusCode: 403,
      code: 'Forbidden'
    })
  })
})

describe('keys', () => {
  const created = Date.UTC(2026, 0, 1) / 1000
  const modulus = (bytes: number[]) => Buffer.from(bytes).toString('base64url')

  it('reads a key without version, type or operations, and counts its size without leading zeros', async () => {
    scripted.answer(request =>
      request.path.startsWith('/keys/zeros')
        ? {
            status: 200,
            body: {
              key: { kid: `${scriptedUri}/keys/zeros/v1`, kty: 'RSA', n: modulus([0, 0, 0]) }
            }
          }
        : {
            status: 200,
            body: {
              key: { kid: `${scriptedUri}/keys/bare`, n: modulus([0, ...Array(256).fill(0xa5)]) },
              attributes: { enabled: false, created }
            }
          }
    )
    expect(await scriptedPlane().keys.get('bare')).toEqual({
      id: `${scriptedUri}/keys/bare`,
      name: 'bare',
      version: '',
      kty: '',
      keySize: 2048,
      keyOps: [],
      enabled: false,
      notBefore: undefined,
      expiresOn: undefined,
      createdOn: new Date(created * 1000)
    })
    expect((await scriptedPlane().keys.get('zeros'))?.keySize).toBe(8)
  })

  it('creates an HSM-protected RSA key of the size, operations and tags asked for', async () => {
    scripted.answer(() => ({
      status: 200,
      body: { key: { kid: `${scriptedUri}/keys/made/v1`, kty: 'RSA-HSM' } }
    }))
    await scriptedPlane().keys.createRsa('made', 3072, ['wrapKey', 'unwrapKey'], { team: 'tests' })
    expect(scripted.requests.map(r => [r.method, r.path, r.body])).toEqual([
      [
        'POST',
        '/keys/made/create',
        expect.objectContaining({
          kty: 'RSA-HSM',
          key_size: 3072,
          key_ops: ['wrapKey', 'unwrapKey'],
          tags: { team: 'tests' }
        })
      ]
    ])
  })

  it("reads a policy's rotate action among others, whatever the case of its name", async () => {
    scripted.answer(() => ({
      status: 200,
      body: {
        lifetimeActions: [
          { trigger: { timeBeforeExpiry: 'P30D' }, action: { type: 'Notify' } },
          { trigger: { timeAfterCreate: 'P90D' }, action: { type: 'rotate' } }
        ],
        attributes: { expiryTime: 'P1Y' }
      }
    }))
    expect(await scriptedPlane().keys.getRotationPolicy('k')).toEqual({
      rotateAfter: 'P90D',
      rotateBeforeExpiry: undefined,
      expireAfter: 'P1Y'
    })
  })

  it('lists versions oldest first, one without a creation time before all', async () => {
    const item = (version: string, createdAt?: number, enabled = true) => ({
      kid: `${scriptedUri}/keys/k${version ? `/${version}` : ''}`,
      attributes: { enabled, ...(createdAt ? { created: createdAt } : {}) }
    })
    scripted.answer(() => ({
      status: 200,
      body: {
        value: [
          item('v2', created + 20, false),
          item('v1', created + 10),
          item('v3', created + 30)
        ].concat([item('')])
      }
    }))
    const versions = await scriptedPlane().keys.versions('k')
    expect(versions.map(v => [v.version, v.enabled])).toEqual([
      ['', true],
      ['v1', true],
      ['v2', false],
      ['v3', true]
    ])
    expect(versions[1]).toEqual({
      id: `${scriptedUri}/keys/k/v1`,
      name: 'k',
      version: 'v1',
      kty: '',
      keyOps: [],
      enabled: true,
      notBefore: undefined,
      expiresOn: undefined,
      createdOn: new Date((created + 10) * 1000)
    })
  })

  it("reads a key's versions from the HSM with no type or operations", async () => {
    await grantKeys()
    const key = await plane().keys.createRsa('listed-key', 2048, ['wrapKey', 'unwrapKey'], {})
    expect(key.kty).toBe('RSA-HSM')
    expect(await plane().keys.versions('listed-key')).toEqual([
      {
        id: key.id,
        name: 'listed-key',
        version: key.version,
        kty: '',
        keyOps: [],
        enabled: true,
        notBefore: undefined,
        expiresOn: undefined,
        createdOn: key.createdOn
      }
    ])
  })

  it('stops a read when its own signal aborts', async () => {
    await expect(plane().keys.get('any-key', { signal: aborted() })).rejects.toMatchObject(
      abortError
    )
  })

  // getRotationPolicy is left out: @azure/keyvault-keys drops the options of that read.
  it("stops the key requests when the run's signal has aborted", async () => {
    const { keys } = createHsmDataPlane({
      hsmUri,
      credential: local.credential,
      transport: quickTransport,
      signal: aborted()
    })
    const policy = { rotateAfter: 'P90D', expireAfter: 'P2Y' }
    await expect(keys.setRotationPolicy('absent-key', policy)).rejects.toMatchObject(abortError)
    await expect(keys.rotate('absent-key')).rejects.toMatchObject(abortError)
    await expect(keys.versions('absent-key')).rejects.toMatchObject(abortError)
    expect(hsmRequests()).toEqual([])
  })
})
