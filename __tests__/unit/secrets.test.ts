import { describe, expect, it } from '@jest/globals'
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FederatedAssertion, MaskingCredential } from '../../src/auth/credential.js'
import { decodeJwtClaims } from '../../src/auth/jwt.js'
import { signedInPrincipal } from '../../src/auth/principal.js'
import { getCloud } from '../../src/cloud.js'
import { describeError } from '../../src/errors.js'
import { sanitize } from '../../src/sanitize.js'
import { nodeSecretFiles } from '../../src/secret-file.js'
import { FakeRunner, fakeJwt, restError } from './fakes.js'
import { fakeCredential } from './helpers.js'

const jwt = fakeJwt({ oid: 'o', tid: 't' })

describe('sanitize', () => {
  it('removes JWTs, bearer tokens and secret fields', () => {
    const text = `token ${jwt}; Authorization: Bearer abc.def-ghi_jkl; client_assertion=xyz123&x=1; {"access_token":"s3cr3t"}`
    const clean = sanitize(text)
    expect(clean).not.toContain(jwt)
    expect(clean).not.toContain('abc.def-ghi_jkl')
    expect(clean).not.toContain('xyz123')
    expect(clean).not.toContain('s3cr3t')
    expect(clean).toContain('[redacted token]')
  })

  it('keeps ordinary text', () => {
    expect(sanitize("Key 'k' on HSM 'h' is 2048 bits")).toBe("Key 'k' on HSM 'h' is 2048 bits")
  })

  it('is applied to every error description', () => {
    const error = restError(401, 'InvalidAuthenticationToken', `The token ${jwt} is expired`)
    const text = describeError(error)
    expect(text).toBe(
      'InvalidAuthenticationToken (HTTP 401): The token [redacted token] is expired'
    )
  })
})

describe('JWT claims', () => {
  it('decodes the payload without verifying it', () => {
    expect(decodeJwtClaims(jwt)).toEqual({ oid: 'o', tid: 't' })
    expect(() => decodeJwtClaims('nope')).toThrow('not a JWT')
  })

  it('gives the signed-in principal from the ARM token, not from Graph /me', async () => {
    const credential = fakeCredential('ABCDEF00-0000-0000-0000-000000000000')
    const principal = await signedInPrincipal(credential, getCloud('AzureCloud'))
    expect(principal.objectId).toBe('abcdef00-0000-0000-0000-000000000000')
    expect(principal.tenantId).toBe('11111111-1111-1111-1111-111111111111')
  })
})

describe('MaskingCredential', () => {
  it('masks every token it hands out', async () => {
    const runner = new FakeRunner()
    const inner = fakeCredential()
    const credential = new MaskingCredential(inner, runner)
    await credential.getToken('https://management.azure.com/.default')
    await credential.getToken('https://managedhsm.azure.net/.default')
    expect(runner.secrets).toEqual(inner.issued)
    expect(inner.issued).toHaveLength(2)
  })

  it('keeps one token per scope until it nears expiry, also for parallel callers', async () => {
    const runner = new FakeRunner()
    let now = 0
    let issued = 0
    const inner = {
      getToken: async () => ({
        token: fakeJwt({ n: ++issued }),
        expiresOnTimestamp: now + 3_600_000
      })
    }
    const credential = new MaskingCredential(inner, runner, undefined, () => now)
    const arm = 'https://management.azure.com/.default'
    const [a, b] = await Promise.all([credential.getToken(arm), credential.getToken(arm)])
    expect(a).toBe(b)
    expect(issued).toBe(1)
    now += 50 * 60_000
    await credential.getToken(arm)
    expect(issued).toBe(1)
    now += 6 * 60_000 // less than 5 minutes left: a new token
    await credential.getToken(arm)
    expect(issued).toBe(2)
    expect(runner.secrets).toHaveLength(2)
  })

  it("serves a challenge that names its own tenant from the kept token; another tenant's goes to the inner credential", async () => {
    const runner = new FakeRunner()
    const asked: (string | undefined)[] = []
    const inner = {
      getToken: async (_: string | string[], options?: { tenantId?: string }) => {
        asked.push(options?.tenantId)
        return { token: fakeJwt({ n: asked.length }), expiresOnTimestamp: Date.now() + 3_600_000 }
      }
    }
    const home = '11111111-1111-1111-1111-111111111111'
    const credential = new MaskingCredential(inner, runner, undefined, Date.now, undefined, home)
    const hsm = 'https://managedhsm.azure.net/.default'
    const warmed = await credential.getToken(hsm)
    expect(await credential.getToken(hsm, { tenantId: home.toUpperCase() })).toBe(warmed)
    expect(asked).toEqual([undefined])
    const other = '22222222-2222-2222-2222-222222222222'
    const foreign = await credential.getToken(hsm, { tenantId: other })
    expect(foreign).not.toBe(warmed)
    expect(asked).toEqual([undefined, other])
  })

  it('rewrites sign-in errors through explain()', async () => {
    const runner = new FakeRunner()
    const failing = { getToken: async () => Promise.reject(new Error('AADSTS700213: no match')) }
    const credential = new MaskingCredential(failing, runner, () => new Error('explained'))
    await expect(credential.getToken('s')).rejects.toThrow('explained')
  })
})

describe('FederatedAssertion', () => {
  it('asks the runner for a fresh ID token for every new access token', async () => {
    const runner = new FakeRunner()
    let now = 0
    const assertion = new FederatedAssertion(runner, 'api://AzureADTokenExchange', () => now)
    const first = await assertion.fetch()
    // MSAL asks twice while acquiring one access token: the same fresh token serves both.
    expect(await assertion.fetch()).toBe(first)
    now += 10_000
    const second = await assertion.fetch()
    expect(second).not.toBe(first)
    expect(runner.idTokens).toBe(2)
    expect(runner.secrets).toEqual([first, second])
  })

  it('gives callers at the same moment one ID token, and one failure', async () => {
    const runner = new FakeRunner()
    const assertion = new FederatedAssertion(runner, 'api://AzureADTokenExchange')
    const tokens = await Promise.all([assertion.fetch(), assertion.fetch(), assertion.fetch()])
    expect(new Set(tokens).size).toBe(1)
    expect(runner.idTokens).toBe(1)

    let asked = 0
    const refusing = {
      setSecret: () => {},
      getIdToken: async () => {
        asked++
        throw new Error('Unable to get ACTIONS_ID_TOKEN_REQUEST_URL env variable')
      }
    }
    const failing = new FederatedAssertion(refusing, 'api://AzureADTokenExchange')
    const outcomes = await Promise.allSettled([failing.fetch(), failing.fetch()])
    expect(outcomes.map(o => o.status)).toEqual(['rejected', 'rejected'])
    expect(asked).toBe(1)
  })

  it('explains AADSTS700213 with the presented issuer, subject and audience, but never the token', async () => {
    const runner = new FakeRunner()
    const assertion = new FederatedAssertion(runner, 'api://AzureADTokenExchange')
    const token = await assertion.fetch()
    const explained = assertion.explain(
      new Error(
        `AADSTS700213: No matching federated identity record found for presented assertion subject. ${token}`
      ),
      'client-1'
    )
    expect(explained?.message).toContain("issuer 'https://token.actions.githubusercontent.com'")
    expect(explained?.message).toContain("subject 'repo:contoso/app:ref:refs/heads/main'")
    expect(explained?.message).toContain("audience 'api://AzureADTokenExchange'")
    expect(explained?.message).toContain('case-sensitive')
    expect(explained?.message).not.toContain(token)
    expect(assertion.explain(new Error('network down'), 'client-1')).toBeUndefined()
  })

  it('says which permission is missing when the runner cannot issue ID tokens', async () => {
    const runner = new FakeRunner()
    runner.getIdToken = async () => {
      throw new Error('Unable to get ACTIONS_ID_TOKEN_REQUEST_URL env variable')
    }
    await expect(new FederatedAssertion(runner, 'a').fetch()).rejects.toThrow(/id-token: write/)
  })
})

describe('nodeSecretFiles', () => {
  /** Runs `work` on the path `sd.json` in a fresh temporary folder, removed afterwards. */
  const withFolder = async (work: (folder: { dir: string; file: string }) => Promise<void>) => {
    const dir = mkdtempSync(join(tmpdir(), 'sd-'))
    try {
      await work({ dir, file: join(dir, 'sd.json') })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }

  it('reserves the file readable by its owner only before the content exists, then writes it', async () => {
    await withFolder(async ({ file }) => {
      expect(nodeSecretFiles.state(file)).toBe('absent')
      const reserved = await nodeSecretFiles.reserve(file)
      expect(nodeSecretFiles.state(file)).toBe('empty')
      expect(statSync(file).mode & 0o777).toBe(0o600)
      await reserved.write('{"EncData":1}')
      expect(nodeSecretFiles.state(file)).toBe('written')
      expect(readFileSync(file, 'utf8')).toBe('{"EncData":1}')
      await expect(nodeSecretFiles.reserve(file)).rejects.toMatchObject({ code: 'EEXIST' })
      expect(readFileSync(file, 'utf8')).toBe('{"EncData":1}')
    })
  })

  it('takes over an empty file an earlier run reserved', async () => {
    await withFolder(async ({ file }) => {
      writeFileSync(file, '', { mode: 0o644 })
      const reserved = await nodeSecretFiles.reserve(file)
      await reserved.write('x')
      expect(readFileSync(file, 'utf8')).toBe('x')
    })
  })

  it('puts the content in place whole, never over a file put there since the reservation', async () => {
    await withFolder(async ({ dir, file }) => {
      const reserved = await nodeSecretFiles.reserve(file)
      writeFileSync(join(dir, 'other.json'), 'another security domain')
      renameSync(join(dir, 'other.json'), file)
      await expect(reserved.write('{"EncData":1}')).rejects.toThrow(
        /was replaced or written to after it was reserved/
      )
      expect(readFileSync(file, 'utf8')).toBe('another security domain')
      // Nothing of the content is left beside it either.
      expect(readdirSync(dir)).toEqual(['sd.json'])
    })
  })

  it('says a folder is not a file, and passes on an error other than a missing path', async () => {
    await withFolder(async ({ dir, file }) => {
      expect(nodeSecretFiles.state(dir)).toBe('not-a-file')
      writeFileSync(file, 'x')
      expect(() => nodeSecretFiles.state(join(file, 'inside.json'))).toThrow(
        expect.objectContaining({ code: 'ENOTDIR' })
      )
    })
  })

  it('never writes through a link, dangling or not', async () => {
    await withFolder(async ({ dir, file: link }) => {
      const target = join(dir, 'elsewhere.json')
      symlinkSync(target, link)
      expect(nodeSecretFiles.state(link)).toBe('not-a-file')
      await expect(nodeSecretFiles.reserve(link)).rejects.toMatchObject({ code: 'EEXIST' })
      expect(existsSync(target)).toBe(false)
    })
  })
})
