import { beforeAll, describe, expect, it } from '@jest/globals'
import {
  COSMOS_APP,
  COSMOS_SP,
  COSMOS_SP_ENTITY,
  federatedCredential,
  rawRequest,
  useTestEmulatorWithApp
} from './helpers.js'

const GRAPH = 'https://graph.microsoft.com/v1.0'
/** An application that may not read the directory. */
const noGraph = { appId: '22222222-3333-4444-8555-666666666666', displayName: 'no-graph' }

const t = useTestEmulatorWithApp({ ...noGraph, canReadDirectory: false })
let token: string

beforeAll(async () => {
  const credential = federatedCredential(t.emulator.env.AZURE_CLIENT_ID!)
  token = (await credential.getToken('https://graph.microsoft.com/.default')).token
})

describe('Microsoft Graph service principal lookups', () => {
  it('finds the Azure Cosmos DB first-party principal by appId', async () => {
    const res = await rawRequest(`${GRAPH}/servicePrincipals(appId='${COSMOS_APP}')`, { token })
    expect(res.status).toBe(200)
    expect(res.json).toMatchObject(COSMOS_SP_ENTITY)
  })

  it('filters by appId (with the SDK-style encoded $filter) and honours $select', async () => {
    const filter = encodeURIComponent(`appId eq '${COSMOS_APP}'`)
    const res = await rawRequest(
      `${GRAPH}/servicePrincipals?%24filter=${filter}&%24select=id,appId`,
      { token }
    )
    expect(res.status).toBe(200)
    expect(res.json.value).toEqual([{ id: COSMOS_SP, appId: COSMOS_APP }])
  })

  it('gets a principal by object id and through directoryObjects/getByIds', async () => {
    const byId = await rawRequest(`${GRAPH}/servicePrincipals/${COSMOS_SP}`, { token })
    expect(byId.json.appId).toBe(COSMOS_APP)
    const res = await rawRequest(`${GRAPH}/directoryObjects/getByIds`, {
      method: 'POST',
      token,
      body: JSON.stringify({
        ids: [COSMOS_SP, '00000000-0000-4000-8000-000000000000'],
        types: ['servicePrincipal']
      })
    })
    expect(res.status).toBe(200)
    expect(res.json.value).toHaveLength(1)
    expect(res.json.value[0]).toMatchObject({
      '@odata.type': '#microsoft.graph.servicePrincipal',
      id: COSMOS_SP
    })
  })

  it('answers 404 Request_ResourceNotFound for an unknown appId', async () => {
    const res = await rawRequest(
      `${GRAPH}/servicePrincipals(appId='00000000-0000-4000-8000-000000000000')`,
      { token }
    )
    expect(res.status).toBe(404)
    expect(res.json.error.code).toBe('Request_ResourceNotFound')
    expect(res.json.error.innerError['request-id']).toBeDefined()
  })

  it('hides a principal until it has replicated', async () => {
    const sp = t.emulator.store.world.servicePrincipals[COSMOS_SP]!
    const before = sp.replicatedAt
    sp.replicatedAt = t.emulator.now() + 60_000
    try {
      const res = await rawRequest(`${GRAPH}/servicePrincipals/${COSMOS_SP}`, { token })
      expect(res.status).toBe(404)
    } finally {
      sp.replicatedAt = before
    }
  })

  it('denies an application without directory read permission', async () => {
    const weak = t.emulator.tokens.accessToken({
      appId: noGraph.appId,
      audience: 'https://graph.microsoft.com'
    })
    const res = await rawRequest(`${GRAPH}/servicePrincipals(appId='${COSMOS_APP}')`, {
      token: weak
    })
    expect(res.status).toBe(403)
    expect(res.json.error).toMatchObject({
      code: 'Authorization_RequestDenied',
      message: 'Insufficient privileges to complete the operation.'
    })
  })

  it('denies a managed identity unless the scenario lists it as a directory reader', async () => {
    const miToken = t.emulator.tokens.accessToken({
      objectId: '5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a',
      appId: '7e6d5c4b-3a2f-4e1d-9c0b-8a7f6e5d4c3b',
      audience: 'https://graph.microsoft.com'
    })
    const denied = await rawRequest(`${GRAPH}/servicePrincipals/${COSMOS_SP}`, { token: miToken })
    expect(denied.status).toBe(403)
    t.emulator.store.world.directoryReaders = ['5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a']
    try {
      const allowed = await rawRequest(`${GRAPH}/servicePrincipals/${COSMOS_SP}`, {
        token: miToken
      })
      expect(allowed.status).toBe(200)
    } finally {
      delete t.emulator.store.world.directoryReaders
    }
  })
})
