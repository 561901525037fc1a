/**
 * The edges of sign-in: when an ID token is fetched again (its reuse window and half-life), how a
 * failed ID token and Entra ID's refusals read in full, the access-token cache's keys, expiry
 * margin and home tenant, which tokens are warmed at sign-in, and what counts as a JWT.
 */
import { describe, expect, it } from '@jest/globals'
import type { AccessToken, GetTokenOptions } from '@azure/core-auth'
import { FederatedAssertion, MaskingCredential } from '../../src/auth/credential.js'
import { decodeJwtClaims } from '../../src/auth/jwt.js'
import { warmTokens } from '../../src/auth/token-warmup.js'
import { getCloud } from '../../src/cloud.js'
import { ActionError } from '../../src/errors.js'
import type { Inputs } from '../../src/inputs/settings.js'
import { FakeRunner, baseInputs, fakeJwt } from './fakes.js'

const AUDIENCE = 'api://AzureADTokenExchange'
const T0 = 1_800_000_000_000

/** A runner whose ID tokens expire `lifeMs` after they are issued at the test's `now`. */
function issuing(clock: { now: number }, lifeMs: number) {
  const runner = new FakeRunner()
  runner.getIdToken = async () => {
    runner.idTokens++
    return fakeJwt({ n: runner.idTokens, exp: (clock.now + lifeMs) / 1000 })
  }
  return runner
}

describe('FederatedAssertion: when the last ID token serves again', () => {
  /** Two fetches `afterMs` apart, of tokens that live `lifeMs`. */
  async function fetchedTwice(lifeMs: number, afterMs: number) {
    const clock = { now: T0 }
    const runner = issuing(clock, lifeMs)
    const assertion = new FederatedAssertion(runner, AUDIENCE, () => clock.now)
    const first = await assertion.fetch()
    clock.now += afterMs
    const second = await assertion.fetch()
    return { first, second, fetched: runner.idTokens }
  }

  it('serves a long-lived token again within the reuse window', async () => {
    const { first, second, fetched } = await fetchedTwice(600_000, 1_999)
    expect(second).toBe(first)
    expect(fetched).toBe(1)
  })

  it('fetches again once the reuse window has passed, to the millisecond', async () => {
    const { first, second, fetched } = await fetchedTwice(600_000, 2_000)
    expect(second).not.toBe(first)
    expect(fetched).toBe(2)
  })

  it.each([
    [1_400, 1],
    [1_500, 2],
    [1_600, 2]
  ])(
    'a token living 3 s, asked for again after %i ms: %i fetched (reused only in its first half)',
    async (after, fetched) => {
      expect((await fetchedTwice(3_000, after)).fetched).toBe(fetched)
    }
  )
})

describe('FederatedAssertion: failures', () => {
  it("passes on a runner's own explanation as it is", async () => {
    const runner = new FakeRunner()
    const explained = new ActionError('Azure DevOps refused the ID-token request (HTTP 404).')
    runner.getIdToken = async () => Promise.reject(explained)
    await expect(new FederatedAssertion(runner, AUDIENCE).fetch()).rejects.toBe(explained)
  })

  it('names the missing permission after what the runner said', async () => {
    const runner = new FakeRunner()
    runner.getIdToken = async () => Promise.reject(new Error('socket hang up'))
    await expect(new FederatedAssertion(runner, AUDIENCE).fetch()).rejects.toThrow(
      new ActionError(
        'Could not get an OIDC ID token from the runner: socket hang up. ' +
          'The workflow (or job) needs `permissions: id-token: write`.'
      )
    )
  })

  /** Entra ID's refusal explained after an ID token with `claims` was presented. */
  async function refusal(claims: Record<string, unknown>, said: string): Promise<string> {
    const runner = new FakeRunner()
    runner.getIdToken = async () => fakeJwt(claims)
    const assertion = new FederatedAssertion(runner, AUDIENCE)
    await assertion.fetch()
    return assertion.explain(new Error(said), 'app-1')?.message ?? ''
  }

  const github = { iss: 'https://token.actions.githubusercontent.com', aud: AUDIENCE }

  it.each([
    [
      'AADSTS700213',
      'No federated credential of application app-1 matches. Add one with exactly that issuer, ' +
        'subject and audience (the subject comparison is case-sensitive).'
    ],
    [
      'AADSTS700211',
      'The issuer is not configured on any federated credential of application app-1.'
    ],
    [
      'AADSTS700016',
      'Application app-1 was not found in the tenant: check client-id and tenant-id.'
    ]
  ])('explains %s with what was presented, a subject it lacked as ?', async (code, advice) => {
    expect(await refusal(github, `${code}: refused.`)).toBe(
      `Microsoft Entra ID refused the sign-in (${code}). The ID token presented issuer ` +
        `'https://token.actions.githubusercontent.com', subject '?' and audience '${AUDIENCE}'. ` +
        `${advice}\n${code}: refused.`
    )
  })

  it.each([
    [{}, "issuer '?', subject '?' and audience '?'"],
    [{ iss: 7, sub: ['x'], aud: 5 }, "issuer '?', subject '?' and audience '?'"],
    [{ iss: 'i', sub: 's', aud: ['a1', 'a2'] }, "issuer 'i', subject 's' and audience 'a1, a2'"]
  ])('shows the claims %j as %s', async (claims, shown) => {
    expect(await refusal(claims, 'AADSTS700024: expired')).toBe(
      `Microsoft Entra ID refused the sign-in (AADSTS700024). The ID token presented ${shown}. ` +
        'The ID token was outside its validity period; re-run the job.\nAADSTS700024: expired'
    )
  })

  it('explains a refusal before any ID token was fetched without claims', () => {
    const assertion = new FederatedAssertion(new FakeRunner(), AUDIENCE)
    expect(assertion.explain(new Error('AADSTS70021: no match'), 'app-1')?.message).toBe(
      'Microsoft Entra ID refused the sign-in (AADSTS70021). No federated credential of ' +
        'application app-1 matches the presented assertion.\nAADSTS70021: no match'
    )
  })

  it('gives no advice it does not have, and no trailing space or line', async () => {
    expect(
      await refusal({ ...github, sub: 'repo:c/a:ref:refs/heads/main' }, 'AADSTS50000 \n')
    ).toBe(
      'Microsoft Entra ID refused the sign-in (AADSTS50000). The ID token presented issuer ' +
        `'https://token.actions.githubusercontent.com', subject 'repo:c/a:ref:refs/heads/main' and ` +
        `audience '${AUDIENCE}'. \nAADSTS50000`
    )
  })
})

describe('MaskingCredential: the access tokens it keeps', () => {
  function counting(now: () => number) {
    const asked: { scopes: string | string[]; options?: GetTokenOptions }[] = []
    const inner = {
      async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken> {
        asked.push({ scopes, options })
        return { token: fakeJwt({ n: asked.length }), expiresOnTimestamp: now() + 3_600_000 }
      }
    }
    return { inner, asked }
  }

  it('keeps tokens apart for scopes that would run together without a space', async () => {
    const { inner, asked } = counting(Date.now)
    const credential = new MaskingCredential(inner, new FakeRunner())
    await credential.getToken(['https://a/x', '.default'])
    await credential.getToken('https://a/x.default')
    expect(asked).toHaveLength(2)
    await credential.getToken(['https://a/x', '.default'])
    expect(asked).toHaveLength(2)
  })

  it('asks again when exactly the refresh margin is left', async () => {
    let now = T0
    const { inner, asked } = counting(() => now)
    const credential = new MaskingCredential(inner, new FakeRunner(), undefined, () => now, 60_000)
    await credential.getToken('s')
    now += 3_600_000 - 60_001
    await credential.getToken('s')
    expect(asked).toHaveLength(1)
    now += 1
    await credential.getToken('s')
    expect(asked).toHaveLength(2)
  })

  it('takes a challenge naming its home tenant in any case as its own', async () => {
    const { inner, asked } = counting(Date.now)
    const home = 'abcdef00-aaaa-bbbb-cccc-ddddeeeeffff'
    const credential = new MaskingCredential(
      inner,
      new FakeRunner(),
      undefined,
      Date.now,
      undefined,
      home.toUpperCase()
    )
    const kept = await credential.getToken('s')
    expect(await credential.getToken('s', { tenantId: home })).toBe(kept)
    expect(asked).toHaveLength(1)
  })
})

describe('warmTokens', () => {
  const cloud = getCloud('AzureCloud')

  function warmed(identity: Partial<Inputs['identity']>): unknown[] {
    const asked: unknown[] = []
    const signal = new AbortController().signal
    const credential = {
      getToken: async (scope: string | string[], options?: GetTokenOptions) => {
        asked.push(scope)
        expect(options?.abortSignal).toBe(signal)
        throw new Error('refused: left to the read that needs it')
      }
    }
    const inputs = baseInputs()
    warmTokens(credential, cloud, { identity: { ...inputs.identity, ...identity } }, signal)
    return asked
  }

  const hsm = 'https://managedhsm.azure.net/.default'
  const graph = 'https://graph.microsoft.com/.default'

  it.each([
    [{ mode: 'first-party' as const }, [hsm, graph]],
    [{ mode: 'system-assigned' as const, bootstrap: 'first-party' as const }, [hsm, graph]],
    [{ mode: 'system-assigned' as const, bootstrap: 'user-assigned' as const }, [hsm]],
    [{ mode: 'user-assigned' as const, bootstrap: 'first-party' as const }, [hsm]]
  ])('%j: asks for %j, and a refusal is nobody’s failure here', async (identity, scopes) => {
    expect(warmed(identity)).toEqual(scopes)
    await new Promise(resolve => setImmediate(resolve))
  })
})

describe('decodeJwtClaims', () => {
  const payload = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

  it('decodes a token of two parts (no signature)', () => {
    expect(decodeJwtClaims(`eyJhbGciOiJub25lIn0.${payload({ sub: 'x' })}`)).toEqual({ sub: 'x' })
  })

  it.each([
    ['one part', 'abc', 'The access token is not a JWT.'],
    [
      'a payload that is not an object',
      `h.${payload(5)}`,
      'The access token payload could not be decoded.'
    ],
    ['a payload of null', `h.${payload(null)}`, 'The access token payload could not be decoded.']
  ])('refuses %s', (_, token, message) => {
    expect(() => decodeJwtClaims(token)).toThrow(new Error(message))
  })
})
