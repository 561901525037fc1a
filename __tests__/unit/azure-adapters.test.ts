/**
 * src/azure's adapters, on the Azure SDKs and the pipeline's own GitHub OIDC sign-in, against the
 * local Azure in this process: what each answers for what exists, for what does not, and what a
 * write leaves behind.
 */
import { describe, expect, it } from '@jest/globals'
import { RestError } from '@azure/core-rest-pipeline'
import type { HsmDataPlane } from '../../src/azure/api.js'
import { allows } from '../../src/azure/permissions.js'
import { hsmRoles, roleAssignmentName, roleDefinitionId } from '../../src/roles.js'
import { defaultNames, KEY_NAME } from '../../testkit/index.js'
import { useLocalAzure } from './local-azure.js'

const local = useLocalAzure()
const rg = defaultNames.resourceGroup
const hsmName = defaultNames.hsmName
const hsmUri = `https://${hsmName}.managedhsm.azure.net`
const me = defaultNames.clientObjectId

const plane = (): HsmDataPlane => local.apis.hsm(hsmUri)

/** Lets the pipeline use keys (Crypto User at /keys), as the admin grant step does. */
async function grantKeys(): Promise<void> {
  const name = roleAssignmentName(hsmName, '/keys', hsmRoles.cryptoUser.id, me)
  if (!(await plane().rbac.get('/keys', name))) {
    await plane().rbac.create('/keys', name, roleDefinitionId(hsmRoles.cryptoUser), me)
  }
}

/** Grants `principal` the key (Crypto Service Encryption User at /keys/<key>), as the grant steps do. */
async function grantKeyTo(principal: string): Promise<void> {
  const scope = `/keys/${KEY_NAME}`
  const role = hsmRoles.cryptoServiceEncryptionUser
  await plane().rbac.create(
    scope,
    roleAssignmentName(hsmName, scope, role.id, principal),
    roleDefinitionId(role),
    principal
  )
}

/** What creating an account needs: the key, `principal`'s grant on it, the DocumentDB namespace. */
async function readyForAccount(principal: string): Promise<void> {
  await grantKeys()
  if (!(await plane().keys.get(KEY_NAME))) {
    await plane().keys.createRsa(KEY_NAME, 3072, ['wrapKey', 'unwrapKey'], {})
  }
  await grantKeyTo(principal)
  await local.apis.providers.register('Microsoft.DocumentDB')
}

describe('resource providers', () => {
  it('reads the registration state and the regions by lower-case resource type', async () => {
    const provider = await local.apis.providers.get('Microsoft.KeyVault')
    expect(provider.namespace).toBe('Microsoft.KeyVault')
    expect(provider.registrationState).toBe('Registered')
    expect(provider.locations?.managedhsms).toContain(defaultNames.location)
    for (const regions of Object.values(provider.locations ?? {})) {
      for (const region of regions) expect(region).toMatch(/^[a-z0-9]+$/)
    }
  })

  it('registers a namespace', async () => {
    expect((await local.apis.providers.get('Microsoft.DocumentDB')).registrationState).toBe(
      'NotRegistered'
    )
    const answer = await local.apis.providers.register('Microsoft.DocumentDB')
    expect(answer.namespace).toBe('Microsoft.DocumentDB')
    expect(answer.registrationState).toMatch(/^Register(ing|ed)$/)
  })
})

describe('Managed HSM through ARM', () => {
  it('reads an HSM with its state, and nothing for one that does not exist', async () => {
    const hsm = await local.apis.managedHsms.get(rg, hsmName)
    expect(hsm).toMatchObject({
      name: hsmName,
      location: defaultNames.location,
      provisioningState: 'Succeeded',
      activationStatus: 'Active',
      enableSoftDelete: true,
      enablePurgeProtection: true
    })
    expect(hsm?.id).toMatch(new RegExp(`/managedHSMs/${hsmName}$`, 'i'))
    expect(hsm?.hsmUri.replace(/\/$/, '')).toBe(hsmUri)
    expect(hsm?.initialAdminObjectIds).toContain(me)
    expect(await local.apis.managedHsms.get(rg, 'hsm-none-here')).toBeUndefined()
  })

  it('merges tags into the HSM and removes them again, leaving the others', async () => {
    const { id } = (await local.apis.managedHsms.get(rg, hsmName))!
    await local.apis.managedHsms.mergeTags(id, { first: 'one', second: 'two' })
    await local.apis.managedHsms.mergeTags(id, { second: 'deux' })
    expect((await local.apis.managedHsms.get(rg, hsmName))?.tags).toMatchObject({
      first: 'one',
      second: 'deux'
    })
    await local.apis.managedHsms.deleteTags(id, { second: 'deux' })
    const tags = (await local.apis.managedHsms.get(rg, hsmName))?.tags ?? {}
    expect(tags.first).toBe('one')
    expect(tags).not.toHaveProperty('second')
  })

  it('turns purge protection on', async () => {
    const hsm = await local.apis.managedHsms.enablePurgeProtection(rg, hsmName)
    expect(hsm.enablePurgeProtection).toBe(true)
    expect(hsm.name).toBe(hsmName)
  })

  it('creates a key once through ARM, and reads it back with the data plane version', async () => {
    await grantKeys()
    await plane().settings.update('AllowKeyManagementOperationsThroughARM', 'true')
    expect(await local.apis.managedHsms.getKey(rg, hsmName, 'arm-made')).toBeUndefined()
    const spec = {
      kty: 'RSA-HSM' as const,
      keySize: 2048,
      keyOps: ['wrapKey', 'unwrapKey'],
      tags: {}
    }
    const created = await local.apis.managedHsms.createKeyIfNotExist(rg, hsmName, 'arm-made', spec)
    expect(created.name).toBe('arm-made')
    expect(created.id).toBe(`${hsmUri}/keys/arm-made/${created.version}`)
    expect(created.version).toMatch(/^[0-9a-f]{32}$/)
    expect(created).toMatchObject({ kty: 'RSA-HSM', keySize: 2048, enabled: true })
    expect([...created.keyOps].sort()).toEqual(['unwrapKey', 'wrapKey'])
    const again = await local.apis.managedHsms.createKeyIfNotExist(rg, hsmName, 'arm-made', spec)
    expect(again.version).toBe(created.version)
    expect((await local.apis.managedHsms.getKey(rg, hsmName, 'arm-made'))?.id).toBe(created.id)
    expect(await plane().keys.versions('arm-made')).toHaveLength(1)
  })

  it('creates an HSM and waits for the operation to end', async () => {
    const hsm = await local.apis.managedHsms.create(rg, 'hsm-made-here', {
      location: defaultNames.location,
      skuName: 'Standard_B1',
      tenantId: defaultNames.tenantId,
      initialAdminObjectIds: [me],
      softDeleteRetentionInDays: 7,
      tags: { 'created-by': 'a test' }
    })
    expect(hsm).toMatchObject({
      name: 'hsm-made-here',
      provisioningState: 'Succeeded',
      enableSoftDelete: true,
      enablePurgeProtection: true,
      softDeleteRetentionInDays: 7,
      initialAdminObjectIds: [me],
      tags: { 'created-by': 'a test' }
    })
    expect(hsm.activationStatus).not.toBe('Active')
  })
})

describe('user-assigned identities', () => {
  it('reads one by subscription, group and name, and nothing for an unknown name', async () => {
    const identity = await local.apis.identities.getUserAssigned(
      defaultNames.subscriptionId,
      rg,
      defaultNames.userAssignedIdentity
    )
    expect(identity).toEqual({
      id: expect.stringMatching(
        new RegExp(`/userAssignedIdentities/${defaultNames.userAssignedIdentity}$`, 'i')
      ),
      name: defaultNames.userAssignedIdentity,
      principalId: defaultNames.userAssignedIdentityPrincipalId,
      clientId: defaultNames.userAssignedIdentityClientId
    })
    expect(
      await local.apis.identities.getUserAssigned(defaultNames.subscriptionId, rg, 'id-none-here')
    ).toBeUndefined()
  })
})

describe('Cosmos DB accounts', () => {
  const keyUri = `${hsmUri}/keys/${KEY_NAME}`

  it('creates accounts as specified, lists, updates and deletes them', async () => {
    const { cosmos } = local.apis
    expect(await cosmos.get(rg, 'acct-adapter')).toBeUndefined()
    await readyForAccount(defaultNames.cosmosObjectId)

    const accepted: { systemPrincipalId?: string }[] = []
    const created = await cosmos.create(
      rg,
      'acct-adapter',
      {
        location: defaultNames.location,
        kind: 'MongoDB',
        capabilities: [],
        locations: [defaultNames.location],
        keyVaultKeyUri: keyUri,
        defaultIdentity: 'FirstPartyIdentity',
        systemAssigned: true,
        tags: { team: 'tests' }
      },
      answer => accepted.push(answer)
    )
    expect(created).toMatchObject({
      name: 'acct-adapter',
      kind: 'MongoDB',
      keyVaultKeyUri: keyUri,
      defaultIdentity: 'FirstPartyIdentity',
      tags: { team: 'tests' }
    })
    expect(created.identity.type).toBe('SystemAssigned')
    expect(created.identity.principalId).toMatch(/^[0-9a-f-]{36}$/)
    expect(accepted).toEqual([{ systemPrincipalId: created.identity.principalId }])
    expect((await cosmos.get(rg, 'acct-adapter'))?.id).toBe(created.id)

    const listed = await cosmos.list()
    expect(listed.map(a => a.name)).toContain('acct-adapter')

    const uai = defaultNames.userAssignedIdentityId
    const withUai = await cosmos.update(rg, 'acct-adapter', {
      identity: { type: 'SystemAssigned,UserAssigned', userAssignedIdentityIds: [uai] }
    })
    expect(withUai.identity.type).toBe('SystemAssigned,UserAssigned')
    expect(
      Object.keys(withUai.identity.userAssignedIdentities).map(id => id.toLowerCase())
    ).toEqual([uai.toLowerCase()])
    const system = created.identity.principalId!
    await grantKeyTo(system)
    const switched = await cosmos.update(rg, 'acct-adapter', {
      defaultIdentity: 'SystemAssignedIdentity'
    })
    expect(switched.defaultIdentity).toBe('SystemAssignedIdentity')
    const onlySystem = await cosmos.update(rg, 'acct-adapter', {
      identity: { type: 'SystemAssigned', userAssignedIdentityIds: [] }
    })
    expect(onlySystem.identity.userAssignedIdentities).toEqual({})

    await cosmos.delete(rg, 'acct-adapter')
    expect(await cosmos.get(rg, 'acct-adapter')).toBeUndefined()
  })

  it('creates an account with a user-assigned identity only', async () => {
    const uai = defaultNames.userAssignedIdentityId
    await readyForAccount(defaultNames.userAssignedIdentityPrincipalId)
    const accepted: { systemPrincipalId?: string }[] = []
    const created = await local.apis.cosmos.create(
      rg,
      'acct-uai',
      {
        location: defaultNames.location,
        kind: 'GlobalDocumentDB',
        capabilities: ['EnableTable'],
        locations: [defaultNames.location],
        keyVaultKeyUri: keyUri,
        defaultIdentity: `UserAssignedIdentity=${uai}`,
        userAssignedIdentityId: uai,
        tags: {}
      },
      answer => accepted.push(answer)
    )
    expect(created.identity.type).toBe('UserAssigned')
    expect(created.identity.principalId).toBeUndefined()
    expect(created.capabilities).toEqual(['EnableTable'])
    expect(created.kind).toBe('GlobalDocumentDB')
    expect(accepted).toEqual([{ systemPrincipalId: undefined }])
    await local.apis.cosmos.delete(rg, 'acct-uai')
  })
})

describe('Managed HSM local RBAC', () => {
  it('creates, finds, lists and deletes an assignment; deleting it twice is no error', async () => {
    const { rbac } = plane()
    const principal = defaultNames.userAssignedIdentityPrincipalId
    const scope = '/keys/rbac-test'
    const name = roleAssignmentName(hsmName, scope, hsmRoles.cryptoUser.id, principal)
    expect(await rbac.get(scope, name)).toBeUndefined()
    const created = await rbac.create(scope, name, roleDefinitionId(hsmRoles.cryptoUser), principal)
    expect(created).toMatchObject({ name, scope, principalId: principal })
    expect(created.roleDefinitionId.toLowerCase()).toContain(hsmRoles.cryptoUser.id)
    expect(created.id).toBe(`${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`)
    expect(await rbac.get(scope, name)).toEqual(created)

    const seen = await rbac.listForPrincipal(scope, principal.toUpperCase())
    expect(seen.map(a => a.name)).toContain(name)
    expect(new Set(seen.map(a => a.principalId))).toEqual(new Set([principal]))
    expect(await rbac.listForPrincipal(scope, me)).not.toContainEqual(
      expect.objectContaining({ name })
    )

    await rbac.delete(scope, name)
    expect(await rbac.get(scope, name)).toBeUndefined()
    await expect(rbac.delete(scope, name)).resolves.toBeUndefined()
  })

  it('lists role definitions and reads one by name', async () => {
    const { rbac } = plane()
    const definitions = await rbac.listRoleDefinitions('/')
    const cryptoUser = definitions.find(d => d.name === hsmRoles.cryptoUser.id)
    expect(cryptoUser?.roleName).toBe(hsmRoles.cryptoUser.name)
    expect(await rbac.getRoleDefinition('/', hsmRoles.cryptoUser.id)).toEqual(cryptoUser)
    expect(
      await rbac.getRoleDefinition('/', '00000000-0000-4000-8000-000000000000')
    ).toBeUndefined()
  })

  it('refuses a principal the directory does not know with a 400 that says so', async () => {
    const unknown = '12345678-1234-4234-8234-123456789abc'
    const name = roleAssignmentName(hsmName, '/keys', hsmRoles.cryptoUser.id, unknown)
    const refused = plane().rbac.create(
      '/keys',
      name,
      roleDefinitionId(hsmRoles.cryptoUser),
      unknown
    )
    await expect(refused).rejects.toBeInstanceOf(RestError)
    await expect(refused).rejects.toMatchObject({ statusCode: 400 })
  })
})

describe('Managed HSM keys', () => {
  it('reads nothing for an absent key, creates an RSA key of the size asked for', async () => {
    await grantKeys()
    const { keys } = plane()
    expect(await keys.get('data-plane-key')).toBeUndefined()
    const created = await keys.createRsa('data-plane-key', 4096, ['wrapKey', 'unwrapKey'], {
      purpose: 'test'
    })
    expect(created).toMatchObject({
      name: 'data-plane-key',
      kty: 'RSA-HSM',
      keySize: 4096,
      enabled: true
    })
    expect(created.id).toBe(`${hsmUri}/keys/data-plane-key/${created.version}`)
    expect([...created.keyOps].sort()).toEqual(['unwrapKey', 'wrapKey'])
    expect(created.createdOn).toBeInstanceOf(Date)
    expect(await keys.get('data-plane-key')).toEqual(created)
  })

  it('sets and reads a rotation policy, rotates, and lists versions oldest first', async () => {
    await grantKeys()
    const { keys } = plane()
    await keys.createRsa('rotating-key', 3072, ['wrapKey', 'unwrapKey'], {})
    const set = await keys.setRotationPolicy('rotating-key', {
      rotateAfter: 'P90D',
      expireAfter: 'P2Y'
    })
    expect(set).toEqual({ rotateAfter: 'P90D', rotateBeforeExpiry: undefined, expireAfter: 'P2Y' })
    expect(await keys.getRotationPolicy('rotating-key')).toEqual(set)
    const beforeExpiry = await keys.setRotationPolicy('rotating-key', {
      rotateBeforeExpiry: 'P30D',
      expireAfter: 'P1Y'
    })
    expect(beforeExpiry).toEqual({
      rotateAfter: undefined,
      rotateBeforeExpiry: 'P30D',
      expireAfter: 'P1Y'
    })
    const first = await keys.get('rotating-key')
    const rotated = await keys.rotate('rotating-key')
    expect(rotated.version).not.toBe(first?.version)
    expect((await keys.get('rotating-key'))?.version).toBe(rotated.version)
    const versions = await keys.versions('rotating-key')
    expect(versions.map(v => v.version)).toEqual([first?.version, rotated.version])
    expect(versions.every(v => v.enabled && v.name === 'rotating-key')).toBe(true)
  })

  // The service answers a key without a policy with an empty one (no id, no lifetime actions):
  // read as none, so that preflight refuses rotate-key before any write.
  it('reads a key without a rotation policy as having none', async () => {
    await grantKeys()
    const { keys } = plane()
    await keys.createRsa('policy-less', 3072, ['wrapKey', 'unwrapKey'], {})
    expect(await keys.getRotationPolicy('policy-less')).toBeUndefined()
  })

  it('reads and changes an HSM setting', async () => {
    const { settings } = plane()
    await settings.update('AllowKeyManagementOperationsThroughARM', 'false')
    expect(await settings.get('AllowKeyManagementOperationsThroughARM')).toBe('false')
    await settings.update('AllowKeyManagementOperationsThroughARM', 'true')
    expect(await settings.get('AllowKeyManagementOperationsThroughARM')).toBe('true')
  })
})

describe('Microsoft Graph', () => {
  it('finds the Azure Cosmos DB service principal by app id and by object id', async () => {
    const { graph } = local.apis
    const id = await graph.servicePrincipalIdByAppId(defaultNames.cosmosAppId.toUpperCase())
    expect(id).toBe(defaultNames.cosmosObjectId)
    expect(await graph.servicePrincipal(defaultNames.cosmosObjectId.toUpperCase())).toEqual({
      id: defaultNames.cosmosObjectId,
      appId: defaultNames.cosmosAppId,
      displayName: 'Azure Cosmos DB'
    })
  })

  it('answers nothing for an app or an object the tenant does not have', async () => {
    const { graph } = local.apis
    const none = '00000000-0000-4000-8000-00000000abcd'
    expect(await graph.servicePrincipalIdByAppId(none)).toBeUndefined()
    expect(await graph.servicePrincipal(none)).toBeUndefined()
  })
})

describe('ARM permissions', () => {
  it("reads the caller's permissions at a scope, which allow what its roles grant", async () => {
    const subscription = `/subscriptions/${defaultNames.subscriptionId}`
    const permissions = await local.apis.permissions.at(`${subscription}/`)
    expect(permissions.length).toBeGreaterThan(0)
    for (const p of permissions) {
      expect(Array.isArray(p.actions)).toBe(true)
      expect(Array.isArray(p.notActions)).toBe(true)
    }
    expect(allows(permissions, 'Microsoft.DocumentDB/databaseAccounts/write')).toBe(true)
  })
})
