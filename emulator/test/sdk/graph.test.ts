import { describe, expect, it } from '@jest/globals'
import type { TokenCredential } from '@azure/core-auth'
import {
  bearerTokenAuthenticationPolicy,
  createDefaultHttpClient,
  createPipelineFromOptions,
  createPipelineRequest
} from '@azure/core-rest-pipeline'
import {
  COSMOS_APP,
  DEPLOYER_SP,
  READER_SP,
  asReader,
  federatedCredential,
  useSdkEmulator,
  type JsonResponse
} from './helpers.js'
import { COSMOS_SP_ENTITY } from '../platform/helpers.js'

const GRAPH = 'https://graph.microsoft.com/v1.0'

const s = useSdkEmulator()

/** A plain GET with core-rest-pipeline's default pipeline and a Graph bearer token. */
async function graphGet(credential: TokenCredential, path: string): Promise<JsonResponse> {
  const pipeline = createPipelineFromOptions({})
  pipeline.addPolicy(
    bearerTokenAuthenticationPolicy({
      credential,
      scopes: 'https://graph.microsoft.com/.default'
    })
  )
  const response = await pipeline.sendRequest(
    createDefaultHttpClient(),
    createPipelineRequest({ url: `${GRAPH}${path}` })
  )
  return {
    status: response.status,
    headers: response.headers.toJSON(),
    json: JSON.parse(response.bodyAsText ?? '')
  }
}

describe('Microsoft Graph through a plain core-rest-pipeline request', () => {
  it('finds the Azure Cosmos DB first-party service principal by appId', async () => {
    const res = await graphGet(federatedCredential(), `/servicePrincipals(appId='${COSMOS_APP}')`)
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toMatch(/^application\/json/)
    expect(res.json).toMatchObject(COSMOS_SP_ENTITY)
    const entry = s.emulator.requests().findLast(e => e.host === 'graph.microsoft.com')
    expect(entry).toMatchObject({ status: 200, principal: DEPLOYER_SP })
  })

  it('answers 404 Request_ResourceNotFound for an unknown appId', async () => {
    const res = await graphGet(
      federatedCredential(),
      "/servicePrincipals(appId='00000000-0000-4000-8000-000000000000')"
    )
    expect(res.status).toBe(404)
    expect(res.json.error.code).toBe('Request_ResourceNotFound')
  })

  it('denies an app without directory read permission: 403 Authorization_RequestDenied', async () => {
    const res = await asReader(s.emulator, reader =>
      graphGet(reader, `/servicePrincipals(appId='${COSMOS_APP}')`)
    )
    expect(res.status).toBe(403)
    expect(res.json.error).toMatchObject({
      code: 'Authorization_RequestDenied',
      message: 'Insufficient privileges to complete the operation.'
    })
    expect(res.json.error.innerError['request-id']).toMatch(/^[0-9a-f-]{36}$/)
    const entry = s.emulator.requests().findLast(e => e.host === 'graph.microsoft.com')
    expect(entry).toMatchObject({ status: 403, principal: READER_SP })
  })
})
