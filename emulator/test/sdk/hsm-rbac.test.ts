import { beforeAll, describe, expect, it } from '@jest/globals'
import { ManagedServiceIdentityClient } from '@azure/arm-msi'
import {
  DEPLOYER_SP,
  FAST_TIMING,
  LOCATION,
  READER_SP,
  RG,
  HSM_ROLES,
  SEEDED_HSM,
  SUB,
  TENANT,
  UAI_PRINCIPAL,
  asReader,
  hsmDataPlane,
  roleDefinitionId,
  useSdkEmulator
} from './helpers.js'
import { BUILT_IN_ROLE_NAMES, roleNamesOf } from '../resources/hsm-fixtures.js'

const HOST = `${SEEDED_HSM}.managedhsm.azure.net`
const ASSIGNMENTS = '/providers/Microsoft.Authorization/roleAssignments'
const DEFINITIONS = '/providers/Microsoft.Authorization/roleDefinitions'
const NAME = '0b7a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d'
const OTHER_NAME = '1c8b2d3e-4f5a-4b6c-9d7e-8f9a0b1c2d3e'

/** PUT of a Crypto Service Encryption User assignment at `/keys`. */
const assignEncryptionUser = (name: string, principalId: string) =>
  plane.assignRole('/keys', name, HSM_ROLES.serviceEncryptionUser, principalId)

const s = useSdkEmulator()
let plane: ReturnType<typeof hsmDataPlane>

beforeAll(async () => {
  plane = hsmDataPlane(SEEDED_HSM, s.credential)
})

describe('Managed HSM local RBAC through a plain pipeline with the challenge policy', () => {
  it('lists the built-in role definitions', async () => {
    const since = s.emulator.requests().at(-1)?.seq ?? 0
    const res = await plane.send('GET', DEFINITIONS)
    expect(res.status).toBe(200)
    expect(roleNamesOf(res.json)).toEqual(expect.arrayContaining(BUILT_IN_ROLE_NAMES))
    const encryptionUser = res.json.value.find(
      (d: { name: string }) => d.name === HSM_ROLES.serviceEncryptionUser
    )
    expect(encryptionUser).toMatchObject({
      id: roleDefinitionId(HSM_ROLES.serviceEncryptionUser),
      type: 'Microsoft.Authorization/roleDefinitions',
      properties: { type: 'AKVBuiltInRole', assignableScopes: ['/'] }
    })
    expect(encryptionUser.properties.permissions[0].dataActions).toEqual(
      expect.arrayContaining([
        'Microsoft.KeyVault/managedHsm/keys/wrap/action',
        'Microsoft.KeyVault/managedHsm/keys/unwrap/action'
      ])
    )
    // the first request of the pipeline ran the challenge
    const calls = s.emulator.requests(since).filter(e => e.host === HOST)
    expect(calls.map(e => e.status)).toEqual([401, 200])

    const filtered = await plane.send('GET', DEFINITIONS, {
      query: { $filter: "roleName eq 'Managed HSM Crypto Service Encryption User'" }
    })
    expect(filtered.json.value.map((d: { name: string }) => d.name)).toEqual([
      HSM_ROLES.serviceEncryptionUser
    ])
  })

  it('creates a role assignment (201) and reads it back', async () => {
    const res = await assignEncryptionUser(NAME, UAI_PRINCIPAL)
    expect(res.status).toBe(201)
    const expected = {
      id: `/keys${ASSIGNMENTS}/${NAME}`,
      name: NAME,
      type: 'Microsoft.Authorization/roleAssignments',
      properties: {
        scope: '/keys',
        roleDefinitionId: roleDefinitionId(HSM_ROLES.serviceEncryptionUser),
        principalId: UAI_PRINCIPAL
      }
    }
    expect(res.json).toEqual(expected)
    const got = await plane.send('GET', `/keys${ASSIGNMENTS}/${NAME}`)
    expect(got.status).toBe(200)
    expect(got.json).toEqual(expected)
    // the same PUT again is idempotent
    const again = await assignEncryptionUser(NAME, UAI_PRINCIPAL)
    expect(again.status).toBe(201)
  })

  it('answers 409 RoleAssignmentExists for the same assignment under another name', async () => {
    const res = await assignEncryptionUser(OTHER_NAME, UAI_PRINCIPAL)
    expect(res.status).toBe(409)
    expect(res.json.error).toEqual({
      code: 'RoleAssignmentExists',
      message: `The role assignment already exists. The ID of the existing role assignment is ${NAME.replace(/-/g, '')}.`
    })
  })

  it('answers 400 PrincipalNotFound for a principal the directory does not know', async () => {
    const unknown = '00000000-1111-4222-8333-444444444444'
    const res = await assignEncryptionUser(OTHER_NAME, unknown)
    expect(res.status).toBe(400)
    expect(res.json.error.code).toBe('PrincipalNotFound')
    expect(res.json.error.message).toMatch(
      new RegExp(`^Principal ${unknown} does not exist in the directory ${TENANT}\\.`)
    )
  })

  it('assigns a just-created identity only once its principal has replicated', async () => {
    const msi = new ManagedServiceIdentityClient(s.credential, SUB)
    const uai = await msi.userAssignedIdentities.createOrUpdate(RG, 'id-rbac-new', {
      location: LOCATION
    })
    const early = await assignEncryptionUser(OTHER_NAME, uai.principalId!)
    expect(early.status).toBe(400)
    expect(early.json.error.code).toBe('PrincipalNotFound')
    s.emulator.advanceClock(FAST_TIMING.principalReplication as number)
    const late = await assignEncryptionUser(OTHER_NAME, uai.principalId!)
    expect(late.status).toBe(201)
    expect(late.json.properties.principalId).toBe(uai.principalId)
  })

  it('lists assignments with $filter', async () => {
    const byPrincipal = await plane.send('GET', ASSIGNMENTS, {
      query: { $filter: `principalId eq '${UAI_PRINCIPAL}'` }
    })
    expect(byPrincipal.status).toBe(200)
    expect(byPrincipal.json.value.map((a: { name: string }) => a.name)).toEqual([NAME])
    // `$filter` went out percent-encoded (`%24filter`); the HSM decoded the name
    expect(s.emulator.requests().at(-1)!.query).toMatchObject({
      $filter: `principalId eq '${UAI_PRINCIPAL}'`,
      'api-version': '7.6'
    })

    const atKeys = await plane.send('GET', `/keys${ASSIGNMENTS}`, {
      query: { $filter: 'atScope()' }
    })
    expect(atKeys.status).toBe(200)
    const rows = atKeys.json.value.map(
      (a: { properties: { scope: string; principalId: string } }) =>
        `${a.properties.scope} ${a.properties.principalId}`
    )
    // every initial administrator at '/', and the two grants of this file at '/keys'
    const admins =
      s.emulator.scenario.subscriptions[0]!.resourceGroups![0]!.managedHsms![0]!
        .initialAdminObjectIds!
    expect(admins).toContain(DEPLOYER_SP)
    expect(rows.filter((r: string) => r.startsWith('/ ')).sort()).toEqual(
      admins.map(id => `/ ${id}`).sort()
    )
    expect(rows).toEqual(expect.arrayContaining([`/keys ${UAI_PRINCIPAL}`]))
    expect(rows.filter((r: string) => r.startsWith('/keys '))).toHaveLength(2)

    const bad = await plane.send('GET', ASSIGNMENTS, { query: { $filter: "roleName eq 'x'" } })
    expect(bad.status).toBe(400)
    expect(bad.json.error.code).toBe('BadParameter')
  })

  it('denies a caller without a local role: 403 AccessDenied', async () => {
    const res = await asReader(s.emulator, reader =>
      hsmDataPlane(SEEDED_HSM, reader).assignRole(
        '/keys',
        '2d9c3e4f-5a6b-4c7d-8e8f-9a0b1c2d3e4f',
        HSM_ROLES.cryptoUser,
        READER_SP
      )
    )
    expect(res.status).toBe(403)
    expect(res.json.error.code).toBe('AccessDenied')
    expect(res.json.error.message).toMatch(
      /^Not authorized to access Microsoft\.KeyVault\/managedHsm\/roleAssignments\/write\/action on \/keys/
    )
    expect(s.emulator.requests().at(-1)!.principal).toBe(READER_SP)
  })

  it('deletes an assignment; reading it then answers RoleAssignmentNotFound', async () => {
    const deleted = await plane.send('DELETE', `/keys${ASSIGNMENTS}/${OTHER_NAME}`)
    expect(deleted.status).toBe(200)
    expect(deleted.json.name).toBe(OTHER_NAME)
    const gone = await plane.send('GET', `/keys${ASSIGNMENTS}/${OTHER_NAME}`)
    expect(gone.status).toBe(404)
    expect(gone.json.error.code).toBe('RoleAssignmentNotFound')
  })
})
