/** The small helpers every step leans on: error kinds, key URIs, JWT claims, outputs. */
import { describe, expect, it } from '@jest/globals'
import { RestError } from '@azure/core-rest-pipeline'
import { decodeJwtClaims, stringClaim } from '../../src/auth/jwt.js'
import {
  ActionError,
  codeOf,
  describeError,
  isConflict,
  isKeyAccessPending,
  isOperationInProgress,
  isOutcomeUnknown,
  isPrincipalNotFound,
  isRbacDenied,
  isRefusal,
  messageOf,
  statusOf,
  unlessAbsent
} from '../../src/errors.js'
import {
  hsmBaseUri,
  isVersioned,
  keyUriFor,
  sameKey,
  versionlessKeyUri
} from '../../src/key-uri.js'
import { getCloud } from '../../src/cloud.js'
import { buildOutputs, keyStatusCode } from '../../src/outputs.js'
import { fakeJwt, restError } from './fakes.js'

/** An SDK error whose code sits only in the response body, as some clients leave it. */
function bodyError(status: number, body: unknown): RestError {
  const error = new RestError('see the body', { statusCode: status })
  Object.assign(error, { response: { status, bodyAsText: JSON.stringify(body) } })
  return error
}

describe('error kinds', () => {
  it('read the status from statusCode, status or the response, in that order', () => {
    expect(statusOf({ statusCode: 404, status: 500 })).toBe(404)
    expect(statusOf({ status: 409 })).toBe(409)
    expect(statusOf({ response: { status: 412 } })).toBe(412)
    expect(statusOf({ statusCode: '404' })).toBeUndefined()
    expect(statusOf('boom')).toBeUndefined()
    expect(statusOf(null)).toBeUndefined()
  })

  it("read the code from the error, else from the response body's error", () => {
    expect(codeOf(restError(400, 'BadRequest'))).toBe('BadRequest')
    expect(codeOf(bodyError(400, { error: { code: 'PrincipalNotFound' } }))).toBe(
      'PrincipalNotFound'
    )
    expect(codeOf(bodyError(400, { error: { code: 7 } }))).toBeUndefined()
    expect(
      codeOf(Object.assign(new Error('x'), { response: { bodyAsText: 'not json' } }))
    ).toBeUndefined()
    expect(codeOf(Object.assign(new Error('x'), { response: { bodyAsText: '' } }))).toBeUndefined()
  })

  it('tell an HSM RBAC refusal by status and code, inner code or message', () => {
    expect(isRbacDenied(restError(403, 'Forbidden'))).toBe(true)
    expect(isRbacDenied(restError(400, 'Other', 'x', 'ForbiddenByRbac'))).toBe(true)
    expect(isRbacDenied(restError(400, 'AccessDenied'))).toBe(true)
    expect(isRbacDenied(restError(403, 'Other', 'Caller is NOT AUTHORIZED to do it'))).toBe(true)
    expect(
      isRbacDenied(
        bodyError(403, { error: { code: 'Other', innererror: { code: 'ForbiddenByRbac' } } })
      )
    ).toBe(true)
    expect(
      isRbacDenied(
        bodyError(403, { error: { code: 'Other', innerError: { code: 'AccessDenied' } } })
      )
    ).toBe(true)
    expect(isRbacDenied(restError(401, 'Forbidden'))).toBe(false)
    expect(isRbacDenied(restError(403, 'QuotaExceeded', 'too many'))).toBe(false)
  })

  it('tell the other kinds apart', () => {
    expect(
      isKeyAccessPending(restError(400, 'BadRequest', 'a keyvaultauthenticationfailure'))
    ).toBe(true)
    expect(isKeyAccessPending(restError(400, 'BadRequest', 'another failure'))).toBe(false)
    expect(isOperationInProgress(restError(412, 'PreconditionFailed'))).toBe(true)
    expect(isOperationInProgress(restError(409, 'Conflict', 'An Operation In Progress'))).toBe(true)
    expect(isOperationInProgress(restError(409, 'Conflict', 'exists'))).toBe(false)
    expect(isRefusal(restError(400, 'x'))).toBe(true)
    expect(isRefusal(restError(499, 'x'))).toBe(true)
    expect(isRefusal(restError(500, 'x'))).toBe(false)
    expect(isRefusal(restError(399, 'x'))).toBe(false)
    expect(isRefusal(new Error('no status'))).toBe(false)
    expect(isPrincipalNotFound(restError(400, 'BadRequest', 'PrincipalNotFound: who?'))).toBe(true)
    expect(isPrincipalNotFound(restError(404, 'PrincipalNotFound'))).toBe(false)
    expect(isConflict(restError(409, 'Conflict'))).toBe(true)
    expect(isConflict(restError(400, 'RoleAssignmentExists'))).toBe(true)
    expect(isConflict(restError(400, 'BadRequest'))).toBe(false)
    expect(isOutcomeUnknown(restError(0, 'OutcomeUnknown'))).toBe(true)
    expect(isOutcomeUnknown(restError(0, 'ECONNRESET'))).toBe(false)
  })

  it('describe an error in one line, code and status first, never a token', () => {
    const token = fakeJwt({ oid: 'x' })
    expect(describeError(restError(403, 'Forbidden', `denied for ${token}`))).toBe(
      'Forbidden (HTTP 403): denied for [redacted token]'
    )
    expect(describeError(restError(409, 'Conflict', 'Conflict: already there'))).toBe(
      'Conflict: already there (HTTP 409)'
    )
    expect(describeError(new RestError('timed out', { code: 'ETIMEDOUT' }))).toBe(
      'ETIMEDOUT: timed out'
    )
    expect(describeError(Object.assign(new Error('gone'), { statusCode: 404 }))).toBe(
      'HTTP 404: gone'
    )
    expect(describeError(new ActionError(`as it is ${token}`))).toBe('as it is [redacted token]')
    expect(describeError('plain')).toBe('plain')
    expect(messageOf({ message: 42 })).toBe('[object Object]')
  })

  it('treat only what `absent` says as absent', async () => {
    await expect(
      unlessAbsent(() => Promise.reject(restError(404, 'NotFound')))
    ).resolves.toBeUndefined()
    await expect(unlessAbsent(() => Promise.resolve('there'))).resolves.toBe('there')
    const forbidden = restError(403, 'Forbidden')
    await expect(unlessAbsent(() => Promise.reject(forbidden))).rejects.toBe(forbidden)
    await expect(
      unlessAbsent(
        () => Promise.reject(forbidden),
        () => true
      )
    ).resolves.toBeUndefined()
  })
})

describe('key URIs', () => {
  it('drop the version, a trailing slash and the port, in lower-case host', () => {
    expect(versionlessKeyUri('https://HSM.managedhsm.azure.net:443/keys/k/0123/')).toBe(
      'https://hsm.managedhsm.azure.net/keys/k'
    )
    expect(() => versionlessKeyUri('https://hsm.managedhsm.azure.net/secrets/k')).toThrow(
      'Not a key URI: https://hsm.managedhsm.azure.net/secrets/k'
    )
    expect(() => versionlessKeyUri('https://hsm.managedhsm.azure.net/keys/')).toThrow(
      /Not a key URI/
    )
  })

  it('tell a versioned URI, and nothing for what is no URI', () => {
    expect(isVersioned('https://h/keys/k/v')).toBe(true)
    expect(isVersioned('https://h/keys/k')).toBe(false)
    expect(isVersioned('https://h/keys/k/')).toBe(false)
    expect(isVersioned('no uri')).toBe(false)
  })

  it('compare keys without case, version or trailing slash, and never match what is no key', () => {
    expect(sameKey('https://H/keys/K/1', 'https://h/keys/k/')).toBe(true)
    expect(sameKey('https://h/keys/k', 'https://h/keys/other')).toBe(false)
    expect(sameKey('https://h/keys/k', 'https://other/keys/k')).toBe(false)
    expect(sameKey('no uri', 'no uri')).toBe(false)
  })

  it("build from the HSM's own URI when ARM gave one, else from its name and the cloud", () => {
    const cloud = getCloud('AzureUSGovernment')
    expect(hsmBaseUri(cloud, 'My-Hsm')).toBe('https://my-hsm.managedhsm.usgovcloudapi.net')
    expect(hsmBaseUri(cloud, 'x', 'https://given.example/')).toBe('https://given.example')
    expect(keyUriFor('https://h///', 'k')).toBe('https://h/keys/k')
  })
})

describe('JWT claims', () => {
  it('are read from the payload, and only strings count as string claims', () => {
    const claims = decodeJwtClaims(fakeJwt({ oid: 'o', n: 1 }))
    expect(claims).toMatchObject({ oid: 'o', n: 1 })
    expect(stringClaim(claims, 'oid')).toBe('o')
    expect(stringClaim(claims, 'n')).toBeUndefined()
  })

  it('refuse what is no JWT, or a payload that is no JSON object', () => {
    expect(() => decodeJwtClaims('abc')).toThrow('The access token is not a JWT.')
    const part = (value: string) => Buffer.from(value).toString('base64url')
    expect(() => decodeJwtClaims(`h.${part('not json')}.s`)).toThrow(
      'The access token payload could not be decoded.'
    )
    expect(() => decodeJwtClaims(`h.${part('null')}.s`)).toThrow(
      'The access token payload could not be decoded.'
    )
    expect(() => decodeJwtClaims(`h.${part('"text"')}.s`)).toThrow(
      'The access token payload could not be decoded.'
    )
  })
})

describe('outputs', () => {
  it('read the revocation code of a key status, and none of a healthy one', () => {
    expect(keyStatusCode('Access revoked (4002).')).toBe('4002')
    expect(keyStatusCode('Access confirmed (2000).')).toBeUndefined()
    expect(keyStatusCode(undefined)).toBeUndefined()
  })

  it('leave what is unknown empty and say the verdict only in mode verify', () => {
    const base = {
      hsmUri: 'h',
      keyUri: 'k',
      adminPrincipalId: 'a',
      assignments: [],
      changed: false
    }
    const outputs = buildOutputs(base)
    expect(outputs['key-id']).toBeUndefined()
    expect(outputs.healthy).toBeUndefined()
    expect(outputs.findings).toBeUndefined()
    expect(outputs['role-assignment-ids']).toBe('[]')
    expect(outputs.changed).toBe('false')
    const verified = buildOutputs({
      ...base,
      verdict: { healthy: false, findings: [{ check: 'x' }] }
    })
    expect(verified.healthy).toBe('false')
    expect(verified.findings).toBe('[{"check":"x"}]')
  })
})
