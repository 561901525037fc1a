import { beforeAll, describe, expect, it } from '@jest/globals'
import {
  CosmosDBManagementClient,
  type DatabaseAccountCreateUpdateParameters
} from '@azure/arm-cosmosdb'
import { ResourceManagementClient } from '@azure/arm-resources'
import {
  FAST_TIMING,
  LOCATION,
  POLL,
  RG,
  HSM_ROLES,
  SEEDED_HSM,
  SUB,
  TENANT,
  UAI_ID,
  UAI_PRINCIPAL,
  hsmDataPlane,
  rejection,
  sdkScenario,
  useSdkEmulator,
  waitUntil
} from './helpers.js'

const ACCOUNT = 'cosmos-sdk-cmk'
const ACCOUNT_ID = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.DocumentDB/databaseAccounts/${ACCOUNT}`
const KEY_URI = `https://${SEEDED_HSM}.managedhsm.azure.net/keys/cmk`
const RBAC_PROPAGATION = FAST_TIMING.rbacPropagation as number
const REPLICATION = FAST_TIMING.principalReplication as number

const s = useSdkEmulator(() => {
  const scenario = sdkScenario()
  const hsm = scenario.subscriptions[0]!.resourceGroups![0]!.managedHsms![0]!
  hsm.keys = [{ name: 'cmk', size: 2048, ops: ['wrapKey', 'unwrapKey'] }]
  return scenario
})
let cosmos: CosmosDBManagementClient
let keyVersionUri: string
let systemPrincipal: string

function createParameters(
  o: Partial<DatabaseAccountCreateUpdateParameters> = {}
): DatabaseAccountCreateUpdateParameters {
  return {
    location: LOCATION,
    kind: 'GlobalDocumentDB',
    identity: { type: 'UserAssigned', userAssignedIdentities: { [UAI_ID]: {} } },
    locations: [{ locationName: LOCATION, failoverPriority: 0, isZoneRedundant: false }],
    databaseAccountOfferType: 'Standard',
    keyVaultKeyUri: KEY_URI,
    defaultIdentity: `UserAssignedIdentity=${UAI_ID}`,
    ...o
  }
}

/** The first line of a Cosmos DB error message (the service appends the activity id). */
function firstLine(message: string): string {
  return message.split('\r\n')[0]!
}

/** Creates the account with the default parameters, polling the LRO to its end. */
function createAccount() {
  return cosmos.databaseAccounts.beginCreateOrUpdateAndWait(RG, ACCOUNT, createParameters(), POLL)
}

/** PUT of a Crypto Service Encryption User assignment on the account's key. */
function grantKeyAccess(name: string, principalId: string) {
  const plane = hsmDataPlane(SEEDED_HSM, s.credential)
  return plane.assignRole('/keys/cmk', name, HSM_ROLES.serviceEncryptionUser, principalId)
}

beforeAll(async () => {
  cosmos = new CosmosDBManagementClient(s.credential, SUB)
  const version = s.emulator.store.world.hsmDataPlanes[SEEDED_HSM]!.keys.cmk!.versions[0]!.version
  keyVersionUri = `${KEY_URI}/${version}`
})

describe('@azure/arm-cosmosdb with a customer-managed key over HTTPS through the proxy', () => {
  it('needs Microsoft.DocumentDB registered first: 409 MissingSubscriptionRegistration', async () => {
    const err = await rejection(createAccount())
    expect(err.statusCode).toBe(409)
    expect(err.code).toBe('MissingSubscriptionRegistration')
    expect(err.message).toContain("namespace 'Microsoft.DocumentDB'")

    const resources = new ResourceManagementClient(s.credential, SUB)
    await resources.providers.register('Microsoft.DocumentDB')
    await waitUntil(
      async () =>
        (await resources.providers.get('Microsoft.DocumentDB')).registrationState === 'Registered'
    )
  })

  it('refuses a versioned key URI (400)', async () => {
    const err = await rejection(
      cosmos.databaseAccounts.beginCreateOrUpdateAndWait(
        RG,
        ACCOUNT,
        createParameters({ keyVaultKeyUri: keyVersionUri }),
        POLL
      )
    )
    expect(err.statusCode).toBe(400)
    expect(err.code).toBe('BadRequest')
    expect(firstLine(err.message)).toBe(
      'Please provide KeyVault Key Uri without version. We will use latest version of the key'
    )
    expect(err.message).toMatch(/\r\nActivityId: [0-9a-f-]{36}, Microsoft\.Azure\.Documents/)
  })

  it('refuses a malformed default identity (400, exact message)', async () => {
    const err = await rejection(
      cosmos.databaseAccounts.beginCreateOrUpdateAndWait(
        RG,
        ACCOUNT,
        createParameters({ defaultIdentity: `UserAssignedIdentity:${UAI_ID}` }),
        POLL
      )
    )
    expect(err.statusCode).toBe(400)
    expect(err.code).toBe('BadRequest')
    expect(firstLine(err.message)).toBe(
      `The given default identity for ${ACCOUNT} is not valid. The format for the default identity ` +
        "is not valid, please use 'FirstPartyIdentity'/'SystemAssignedIdentity'/'UserAssignedIdentity=<UA_resource_id>'"
    )
  })

  it('refuses a default identity without a role on the key: 400 KeyVaultAuthenticationFailure', async () => {
    const err = await rejection(createAccount())
    expect(err.statusCode).toBe(400)
    expect(err.code).toBe('BadRequest')
    expect(err.message).toContain('KeyVaultAuthenticationFailure')
    expect(err.message).toContain(UAI_PRINCIPAL)
    expect(
      s.emulator.requests().filter(e => e.method === 'PUT' && e.path === ACCOUNT_ID)
    ).toHaveLength(4)
    await expect(cosmos.databaseAccounts.get(RG, ACCOUNT)).rejects.toMatchObject({
      statusCode: 404,
      code: 'ResourceNotFound'
    })
  })

  it('creates the account once the role has propagated (Azure-AsyncOperation LRO)', async () => {
    const grant = await grantKeyAccess('4a1b2c3d-0000-4e5f-8a9b-0c1d2e3f4a5b', UAI_PRINCIPAL)
    expect(grant.status).toBe(201)
    const tooSoon = await rejection(createAccount())
    expect(tooSoon.message).toContain('KeyVaultAuthenticationFailure')

    s.emulator.advanceClock(RBAC_PROPAGATION)
    const since = s.emulator.requests().at(-1)?.seq ?? 0
    const account = await cosmos.databaseAccounts.beginCreateOrUpdateAndWait(
      RG,
      ACCOUNT,
      createParameters(),
      POLL
    )
    expect(account).toMatchObject({
      id: ACCOUNT_ID,
      name: ACCOUNT,
      kind: 'GlobalDocumentDB',
      provisioningState: 'Succeeded',
      keyVaultKeyUri: KEY_URI,
      keyVaultKeyUriVersion: keyVersionUri.split('/').pop(),
      defaultIdentity: `UserAssignedIdentity=${UAI_ID}`,
      documentEndpoint: `https://${ACCOUNT}.documents.azure.com:443/`
    })
    expect(account.identity?.type).toBe('UserAssigned')
    expect(account.identity?.userAssignedIdentities?.[UAI_ID]?.principalId).toBe(UAI_PRINCIPAL)

    const log = s.emulator.requests(since).filter(e => e.host === 'management.azure.com')
    expect(log[0]).toMatchObject({ method: 'PUT', path: ACCOUNT_ID, status: 200 })
    const polls = log.filter(e => e.path.includes('/operationsStatus/'))
    expect(polls.length).toBeGreaterThanOrEqual(2)
    expect(polls.every(e => e.kind === 'poll' && e.status === 200)).toBe(true)
    // after the operation succeeded, the SDK read the account itself
    expect(log.at(-1)).toMatchObject({ method: 'GET', path: ACCOUNT_ID, status: 200 })
  })

  it('gets the account', async () => {
    const account = await cosmos.databaseAccounts.get(RG, ACCOUNT)
    expect(account.provisioningState).toBe('Succeeded')
    expect(account.keyVaultKeyUri).toBe(KEY_URI)
    expect(account.defaultIdentity).toBe(`UserAssignedIdentity=${UAI_ID}`)
    expect(account.customerManagedKeyStatus).toBe(
      'Access to the configured customer managed key confirmed.'
    )
  })

  it('enables the system-assigned identity: a new principal, default identity unchanged', async () => {
    const updated = await cosmos.databaseAccounts.beginUpdateAndWait(
      RG,
      ACCOUNT,
      {
        identity: {
          type: 'SystemAssigned,UserAssigned',
          userAssignedIdentities: { [UAI_ID]: {} }
        }
      },
      POLL
    )
    expect(updated.provisioningState).toBe('Succeeded')
    expect(updated.identity?.type).toBe('SystemAssigned,UserAssigned')
    expect(updated.identity?.tenantId).toBe(TENANT)
    systemPrincipal = updated.identity!.principalId!
    expect(systemPrincipal).toMatch(/^[0-9a-f-]{36}$/)
    expect(systemPrincipal).not.toBe(UAI_PRINCIPAL)
    expect(updated.defaultIdentity).toBe(`UserAssignedIdentity=${UAI_ID}`)
    expect(s.emulator.store.world.servicePrincipals[systemPrincipal]?.servicePrincipalType).toBe(
      'ManagedIdentity'
    )
  })

  it('switches the default identity to the system-assigned one after its role propagated', async () => {
    const name = '5b2c3d4e-1111-4f6a-9b0c-1d2e3f4a5b6c'
    const unknown = await grantKeyAccess(name, systemPrincipal)
    expect(unknown.status).toBe(400)
    expect(unknown.json.error.code).toBe('PrincipalNotFound')
    s.emulator.advanceClock(REPLICATION)
    const grant = await grantKeyAccess(name, systemPrincipal)
    expect(grant.status).toBe(201)

    const tooSoon = await rejection(
      cosmos.databaseAccounts.beginUpdateAndWait(
        RG,
        ACCOUNT,
        { defaultIdentity: 'SystemAssignedIdentity' },
        POLL
      )
    )
    expect(tooSoon.statusCode).toBe(400)
    expect(tooSoon.message).toContain('KeyVaultAuthenticationFailure')
    expect(tooSoon.message).toContain(systemPrincipal)
    expect((await cosmos.databaseAccounts.get(RG, ACCOUNT)).defaultIdentity).toBe(
      `UserAssignedIdentity=${UAI_ID}`
    )

    s.emulator.advanceClock(RBAC_PROPAGATION)
    const switched = await cosmos.databaseAccounts.beginUpdateAndWait(
      RG,
      ACCOUNT,
      { defaultIdentity: 'SystemAssignedIdentity' },
      POLL
    )
    expect(switched.provisioningState).toBe('Succeeded')
    expect(switched.defaultIdentity).toBe('SystemAssignedIdentity')
    expect(switched.identity?.principalId).toBe(systemPrincipal)
    expect((await cosmos.databaseAccounts.get(RG, ACCOUNT)).defaultIdentity).toBe(
      'SystemAssignedIdentity'
    )
  })
})
