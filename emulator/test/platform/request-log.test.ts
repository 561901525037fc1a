import { describe, expect, it } from '@jest/globals'
import { bodyFieldPaths } from '../../src/core/request-log.js'

describe("the request log's body fields", () => {
  it('are the paths of the JSON fields, never their values', () => {
    const body = {
      properties: { keyVaultKeyUri: 'https://hsm.managedhsm.azure.net/keys/k', cors: {} },
      locations: [{ locationName: 'westeurope' }],
      tags: { environment: 'production' }
    }
    const fields = bodyFieldPaths(Buffer.from(JSON.stringify(body)))
    expect(fields).toEqual([
      'properties.keyVaultKeyUri',
      'properties.cors',
      'locations',
      'tags.environment'
    ])
    expect(JSON.stringify(fields)).not.toMatch(/managedhsm|westeurope|production/)
  })

  it('are absent for an empty, form-encoded or non-object body', () => {
    for (const raw of [
      '',
      'grant_type=client_credentials&client_assertion=x',
      '[1]',
      '"a"',
      'null'
    ]) {
      expect(bodyFieldPaths(Buffer.from(raw))).toBeUndefined()
    }
  })
})
