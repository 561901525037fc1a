/**
 * Who is signed in, read from the claims of an ARM access token (a fake credential answers with a
 * token whose claims the test chooses): the scope asked for, the abort signal passed on, and each
 * token that does not say who.
 */
import { describe, expect, it } from '@jest/globals'
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth'
import { signedInPrincipal } from '../../src/auth/principal.js'
import { startSignIn } from '../../src/auth/sign-in.js'
import { getCloud } from '../../src/cloud.js'
import { ActionError } from '../../src/errors.js'
import { FakeRunner, baseInputs } from './fakes.js'

const jwt = (claims: object) =>
  `eyJhbGciOiJub25lIn0.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`

function credentialAnswering(token: AccessToken | null) {
  const asked: { scopes: string | string[]; options?: GetTokenOptions }[] = []
  const credential: TokenCredential = {
    getToken: async (scopes, options) => {
      asked.push({ scopes, options })
      return token
    }
  }
  return { credential, asked }
}

const expiresOnTimestamp = Date.now() + 3_600_000

describe('signedInPrincipal', () => {
  it("answers the token's object and tenant ids, in lower case, for the cloud's ARM scope", async () => {
    const { credential, asked } = credentialAnswering({
      token: jwt({ oid: 'AAAA-Object', tid: 'BBBB-Tenant' }),
      expiresOnTimestamp
    })
    const signal = new AbortController().signal
    await expect(
      signedInPrincipal(credential, getCloud('AzureUSGovernment'), signal)
    ).resolves.toEqual({ objectId: 'aaaa-object', tenantId: 'bbbb-tenant' })
    expect(asked).toEqual([
      { scopes: 'https://management.usgovcloudapi.net/.default', options: { abortSignal: signal } }
    ])
  })

  it.each([[null], [{ token: '', expiresOnTimestamp }]])(
    'refuses a sign-in that gave no token (%j)',
    async token => {
      const { credential } = credentialAnswering(token)
      const failure = signedInPrincipal(credential, getCloud('AzureCloud'))
      await expect(failure).rejects.toThrow(ActionError)
      await expect(failure).rejects.toThrow('Signing in to Azure returned no access token.')
    }
  )

  it.each([
    ['no oid', { tid: 't' }],
    ['no tid', { oid: 'o' }],
    ['an oid that is not a string', { oid: 7, tid: 't' }],
    ['an empty tid', { oid: 'o', tid: '' }]
  ])('refuses a token with %s', async (_, claims) => {
    const { credential } = credentialAnswering({ token: jwt(claims), expiresOnTimestamp })
    const failure = signedInPrincipal(credential, getCloud('AzureCloud'))
    await expect(failure).rejects.toThrow(ActionError)
    await expect(failure).rejects.toThrow(
      'The access token has no oid/tid claim, so the signed-in principal is unknown.'
    )
  })
})

describe('startSignIn: whether the sign-in is under way', () => {
  const inputs = baseInputs()
  const runner = new FakeRunner()

  it.each([
    ['its first ID token came', Promise.resolve('id-token'), true],
    ['its first ID token failed', Promise.reject(new Error('no ID token')), false]
  ])('with an ID token asked for early: %s', async (_, firstIdToken, underway) => {
    const { credential } = credentialAnswering(null)
    const signIn = startSignIn({ inputs, runner, credential, firstIdToken })
    await expect(signIn.underway).resolves.toBe(underway)
  })

  it('without one, once ARM answered with a token that says who', async () => {
    const token = jwt({ oid: 'o', tid: 't' })
    const { credential } = credentialAnswering({ token, expiresOnTimestamp })
    const signIn = startSignIn({ inputs, runner, credential })
    await expect(signIn.underway).resolves.toBe(true)
    await expect(signIn.principal).resolves.toEqual({ objectId: 'o', tenantId: 't' })
  })

  it('without one, once ARM answered no token', async () => {
    const { credential } = credentialAnswering(null)
    const signIn = startSignIn({ inputs, runner, credential })
    await expect(signIn.underway).resolves.toBe(false)
    await expect(signIn.principal).rejects.toThrow(ActionError)
  })
})
