import { describe, expect, it } from '@jest/globals'
import { ResourceManagementClient } from '@azure/arm-resources'
import { KeyVaultManagementClient } from '@azure/arm-keyvault'
import {
  bearerTokenAuthenticationPolicy,
  createDefaultHttpClient,
  createHttpHeaders,
  createPipelineFromOptions,
  createPipelineRequest
} from '@azure/core-rest-pipeline'
import { asReader, POLL, RG, SEEDED_HSM, SUB, rejection, useSdkEmulator } from './helpers.js'

const s = useSdkEmulator()
const HSM_ID = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.KeyVault/managedHSMs/${SEEDED_HSM}`

describe('@azure/arm-resources tags at scope over HTTPS through the proxy', () => {
  it('merges tags into the HSM as the action does, and the HSM shows them', async () => {
    const client = new ResourceManagementClient(s.credential, SUB)
    const started = await client.tagsOperations
      .updateAtScope(
        HSM_ID,
        { operation: 'Merge', properties: { tags: { 'cmk-security-domain': 'download started' } } },
        POLL
      )
      .pollUntilDone()
    expect(started).toEqual({
      id: `${HSM_ID}/providers/Microsoft.Resources/tags/default`,
      name: 'default',
      type: 'Microsoft.Resources/tags',
      properties: { tags: { 'cmk-security-domain': 'download started' } }
    })
    const saved = await client.tagsOperations
      .updateAtScope(
        HSM_ID,
        {
          operation: 'Merge',
          properties: { tags: { 'cmk-security-domain': 'saved', team: 'db' } }
        },
        POLL
      )
      .pollUntilDone()
    expect(saved.properties.tags).toEqual({ 'cmk-security-domain': 'saved', team: 'db' })
    const hsm = await new KeyVaultManagementClient(s.credential, SUB).managedHsms.get(
      RG,
      SEEDED_HSM
    )
    expect(hsm.tags).toEqual({ 'cmk-security-domain': 'saved', team: 'db' })
    expect((await client.tagsOperations.getAtScope(HSM_ID)).properties.tags).toEqual(hsm.tags)

    const replaced = await client.tagsOperations
      .createOrUpdateAtScope(HSM_ID, { properties: { tags: { only: 'this' } } }, POLL)
      .pollUntilDone()
    expect(replaced.properties.tags).toEqual({ only: 'this' })
    await client.tagsOperations.deleteAtScope(HSM_ID, POLL).pollUntilDone()
    expect((await client.tagsOperations.getAtScope(HSM_ID)).properties.tags).toEqual({})

    // one request a change: the writes answer 200 and need no polling
    const writes = s.emulator
      .requests()
      .filter(e => e.path.endsWith('/tags/default') && e.method !== 'GET')
    expect(writes.map(e => [e.method, e.status])).toEqual([
      ['PATCH', 200],
      ['PATCH', 200],
      ['PUT', 200],
      ['DELETE', 200]
    ])
  })

  it('surfaces Azure tag limits and authorization as RestErrors', async () => {
    const client = new ResourceManagementClient(s.credential, SUB)
    const bad = await rejection(
      client.tagsOperations
        .updateAtScope(HSM_ID, { operation: 'Merge', properties: { tags: { 'a%b': 'x' } } }, POLL)
        .pollUntilDone()
    )
    expect(bad.statusCode).toBe(400)
    expect(bad.code).toBe('InvalidTagNameCharacters')
    const denied = await asReader(s.emulator, credential =>
      rejection(
        new ResourceManagementClient(credential, SUB).tagsOperations
          .updateAtScope(HSM_ID, { operation: 'Merge', properties: { tags: { a: 'b' } } }, POLL)
          .pollUntilDone()
      )
    )
    expect(denied.statusCode).toBe(403)
    expect(denied.code).toBe('AuthorizationFailed')
  })

  it('reads the caller permissions at the resource group and at the HSM', async () => {
    // no SDK served here covers it: a plain pipeline, with the proxy and ARM's token, as the action's
    const pipeline = createPipelineFromOptions({})
    pipeline.addPolicy(
      bearerTokenAuthenticationPolicy({
        credential: s.credential,
        scopes: 'https://management.azure.com/.default'
      })
    )
    const permissions = async (scope: string) => {
      const response = await pipeline.sendRequest(
        createDefaultHttpClient(),
        createPipelineRequest({
          url: `https://management.azure.com${scope}/providers/Microsoft.Authorization/permissions?api-version=2022-04-01`,
          headers: createHttpHeaders({ accept: 'application/json' })
        })
      )
      expect(response.status).toBe(200)
      return JSON.parse(response.bodyAsText!).value as { actions: string[] }[]
    }
    const atGroup = await permissions(`/subscriptions/${SUB}/resourceGroups/${RG}`)
    expect(atGroup.map(p => p.actions[0]).sort()).toEqual([
      '*',
      'Microsoft.ManagedIdentity/userAssignedIdentities/*/read'
    ])
    expect(await permissions(HSM_ID)).toEqual(atGroup)
  })
})
