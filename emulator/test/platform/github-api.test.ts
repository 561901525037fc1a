import { beforeEach, describe, expect, it } from '@jest/globals'
import { validateScenario, type Scenario } from '../../src/index.js'
import { admin, defaultScenario, rawRequest, useTestEmulator, type RawResponse } from './helpers.js'

const API = 'https://api.github.com'
const REPO = `${API}/repos/contoso/cosmos-cmk`
const USER_TOKEN = 'ghp_octocatOctocatOctocatOctocat0123'
const FORK_SHA = 'f'.repeat(40)

function githubScenario(): Scenario {
  const scenario = defaultScenario()
  scenario.github = {
    ...scenario.github!,
    pullRequests: [
      { number: 12, title: 'Per-PR environment' },
      { number: 13, headRepository: 'mallory/cosmos-cmk', headRef: 'feature', headSha: FORK_SHA },
      { number: 14, state: 'closed' }
    ],
    comments: Array.from({ length: 150 }, (_, i) => ({
      issue: 12,
      body: `comment ${i + 1}`,
      login: i % 2 ? 'octocat' : undefined
    })),
    userTokens: [{ token: USER_TOKEN, login: 'octocat' }]
  }
  return scenario
}

const t = useTestEmulator(() => ({ scenario: githubScenario() }))

beforeEach(() => t.emulator.reset())

function call(
  url: string,
  o: { method?: 'GET' | 'POST' | 'PATCH'; body?: unknown; token?: string | null } = {}
): Promise<RawResponse> {
  const token = o.token === undefined ? t.emulator.env.GITHUB_TOKEN! : o.token
  return rawRequest(url, {
    method: o.method,
    headers: {
      accept: 'application/vnd.github+json',
      ...(token !== null ? { authorization: `token ${token}` } : {})
    },
    body: o.body === undefined ? undefined : JSON.stringify(o.body)
  })
}

/** The URL of each relation in a Link header. */
function links(res: RawResponse): Record<string, string> {
  return Object.fromEntries(
    [...(res.headers.link ?? '').matchAll(/<([^>]+)>; rel="(\w+)"/g)].map(m => [m[2], m[1]])
  )
}

describe('GitHub REST API: tokens', () => {
  it('puts the REST API and a workflow token in the env', () => {
    expect(t.emulator.env.GITHUB_API_URL).toBe(API)
    expect(t.emulator.env.GITHUB_TOKEN).toMatch(/^ghs_[A-Za-z0-9]{36}$/)
  })

  it('answers 401 in GitHub’s shape without a token or with an unknown one', async () => {
    const none = await call(`${REPO}/issues/12/comments`, { token: null })
    expect(none.status).toBe(401)
    expect(none.json).toEqual({
      message: 'Requires authentication',
      documentation_url: 'https://docs.github.com/rest',
      status: '401'
    })
    expect(none.headers['x-ratelimit-limit']).toBe('60')
    const wrong = await call(`${REPO}/issues/12/comments`, { token: 'ghs_' + 'x'.repeat(36) })
    expect(wrong.status).toBe(401)
    expect(wrong.json.message).toBe('Bad credentials')
  })

  it('takes the token as `Bearer` too', async () => {
    const res = await rawRequest(`${REPO}/pulls/12`, { token: t.emulator.env.GITHUB_TOKEN })
    expect(res.status).toBe(200)
    expect(res.json.number).toBe(12)
  })

  it('has no user for GITHUB_TOKEN, and the user of a personal token', async () => {
    const installation = await call(`${API}/user`)
    expect(installation.status).toBe(403)
    expect(installation.json.message).toBe('Resource not accessible by integration')
    const user = await call(`${API}/user`, { token: USER_TOKEN })
    expect(user.status).toBe(200)
    expect(user.json).toMatchObject({ login: 'octocat', type: 'User' })
  })

  it('answers 404 for another repository', async () => {
    const res = await call(`${API}/repos/contoso/other/issues/12/comments`)
    expect(res.status).toBe(404)
    expect(res.json).toMatchObject({ message: 'Not Found', status: '404' })
    expect(res.json.documentation_url).toMatch(/^https:\/\/docs\.github\.com\/rest\//)
  })
})

describe('GitHub REST API: issue comments', () => {
  it('lists oldest first, 30 a page by default, with Link headers GitHub style', async () => {
    const first = await call(`${REPO}/issues/12/comments`)
    expect(first.status).toBe(200)
    expect(first.json).toHaveLength(30)
    expect(first.json[0].body).toBe('comment 1')
    const repositoryId = t.emulator.github().repositoryId
    expect(links(first).next).toBe(`${API}/repositories/${repositoryId}/issues/12/comments?page=2`)
    expect(links(first).last).toContain('page=5')
    expect(links(first).prev).toBeUndefined()
  })

  it('follows per_page (at most 100) through the Link pages to the end', async () => {
    const bodies: string[] = []
    let url: string | undefined = `${REPO}/issues/12/comments?per_page=100`
    const pages: RawResponse[] = []
    while (url) {
      const res = await call(url)
      expect(res.status).toBe(200)
      pages.push(res)
      bodies.push(...res.json.map((c: { body: string }) => c.body))
      url = links(res).next
    }
    expect(pages.map(p => p.json.length)).toEqual([100, 50])
    expect(bodies).toEqual(Array.from({ length: 150 }, (_, i) => `comment ${i + 1}`))
    expect(links(pages[1]!)).toMatchObject({
      prev: expect.stringContaining('page=1'),
      first: expect.stringContaining('per_page=100')
    })
    const capped = await call(`${REPO}/issues/12/comments?per_page=500`)
    expect(capped.json).toHaveLength(100)
  })

  it('creates a comment as github-actions[bot], then updates it in place', async () => {
    const created = await call(`${REPO}/issues/12/comments`, {
      method: 'POST',
      body: { body: 'first' }
    })
    expect(created.status).toBe(201)
    expect(created.json).toMatchObject({
      body: 'first',
      user: { login: 'github-actions[bot]', type: 'Bot', id: 41898282 },
      performed_via_github_app: { slug: 'github-actions' },
      html_url: expect.stringMatching(
        /^https:\/\/github\.com\/contoso\/cosmos-cmk\/pull\/12#issuecomment-\d+$/
      )
    })
    const id = created.json.id as number
    t.emulator.advanceClock(5_000)
    const updated = await call(`${REPO}/issues/comments/${id}`, {
      method: 'PATCH',
      body: { body: 'second' }
    })
    expect(updated.status).toBe(200)
    expect(updated.json.body).toBe('second')
    expect(Date.parse(updated.json.updated_at)).toBeGreaterThan(Date.parse(created.json.created_at))
    const read = await call(`${REPO}/issues/comments/${id}`)
    expect(read.json.body).toBe('second')
    const world = t.emulator.store.world.github!
    expect(world.comments.filter(c => c.issueNumber === 12)).toHaveLength(151)
  })

  it('serves comments on pull requests only, and refuses a missing or oversized body', async () => {
    expect((await call(`${REPO}/issues/99/comments`)).status).toBe(404)
    expect(
      (await call(`${REPO}/issues/comments/1`, { method: 'PATCH', body: { body: 'x' } })).status
    ).toBe(404)
    const missing = await call(`${REPO}/issues/12/comments`, { method: 'POST', body: {} })
    expect(missing.status).toBe(422)
    expect(missing.json.message).toContain('"body" wasn\'t supplied')
    const long = await call(`${REPO}/issues/12/comments`, {
      method: 'POST',
      body: { body: 'x'.repeat(65_537) }
    })
    expect(long.status).toBe(422)
    expect(long.json.errors[0].message).toContain('65536')
  })

  it('lets a read-only GITHUB_TOKEN read but not write, and one without permission neither', async () => {
    const existing = t.emulator.store.world.github!.comments[0]!.id
    t.emulator.github({ tokenPermission: 'read' })
    expect((await call(`${REPO}/issues/12/comments`)).status).toBe(200)
    for (const res of [
      await call(`${REPO}/issues/12/comments`, { method: 'POST', body: { body: 'x' } }),
      await call(`${REPO}/issues/comments/${existing}`, { method: 'PATCH', body: { body: 'x' } })
    ]) {
      expect(res.status).toBe(403)
      expect(res.json).toMatchObject({
        message: 'Resource not accessible by integration',
        status: '403'
      })
    }
    t.emulator.github({ tokenPermission: 'none' })
    expect((await call(`${REPO}/issues/12/comments`)).status).toBe(403)
    expect((await call(`${REPO}/pulls/12`)).status).toBe(403)
  })
})

describe('GitHub REST API: pull requests', () => {
  it('finds a pull request from a fork by head owner and branch', async () => {
    const res = await call(`${REPO}/pulls?state=open&head=mallory:feature`)
    expect(res.status).toBe(200)
    expect(res.json.map((p: { number: number }) => p.number)).toEqual([13])
    expect(res.json[0].head).toMatchObject({
      label: 'mallory:feature',
      sha: FORK_SHA,
      repo: { full_name: 'mallory/cosmos-cmk', fork: true }
    })
    expect(res.json[0].base.repo).toMatchObject({ full_name: 'contoso/cosmos-cmk', fork: false })
  })

  it('lists open pull requests newest first by default, closed ones when asked', async () => {
    const open = await call(`${REPO}/pulls`)
    expect(open.json.map((p: { number: number }) => p.number)).toEqual([13, 12])
    const all = await call(`${REPO}/pulls?state=all`)
    expect(all.json.map((p: { number: number }) => p.number)).toEqual([14, 13, 12])
    expect((await call(`${REPO}/pulls/14`)).json.state).toBe('closed')
    expect((await call(`${REPO}/pulls/99`)).status).toBe(404)
  })
})

describe('GitHub REST API: rate limits', () => {
  it('puts the x-ratelimit headers on every answer and counts down', async () => {
    const before = t.emulator.now()
    const a = await call(`${REPO}/pulls/12`)
    const after = t.emulator.now()
    const b = await call(`${REPO}/pulls/99`)
    expect(a.headers['x-ratelimit-limit']).toBe('1000')
    expect(Number(a.headers['x-ratelimit-remaining'])).toBe(999)
    expect(Number(b.headers['x-ratelimit-remaining'])).toBe(998)
    expect(b.headers['x-ratelimit-used']).toBe('2')
    const reset = Number(a.headers['x-ratelimit-reset'])
    expect(reset).toBeGreaterThanOrEqual(Math.ceil(before / 1000 + 3600))
    expect(reset).toBeLessThanOrEqual(Math.ceil(after / 1000 + 3600))
    const limits = await call(`${API}/rate_limit`)
    expect(limits.json.resources.core).toMatchObject({ limit: 1000, used: 2, remaining: 998 })
  })

  it('answers 403 with remaining 0 once the window is used up, until it resets', async () => {
    t.emulator.github({ remaining: 1 })
    expect((await call(`${REPO}/pulls/12`)).headers['x-ratelimit-remaining']).toBe('0')
    const limited = await call(`${REPO}/issues/12/comments`)
    expect(limited.status).toBe(403)
    expect(limited.json.message).toMatch(/^API rate limit exceeded for installation ID \d+\.$/)
    expect(limited.headers['x-ratelimit-remaining']).toBe('0')
    const reset = Number(limited.headers['x-ratelimit-reset']) * 1000
    expect(reset).toBeGreaterThan(t.emulator.now())
    t.emulator.advanceClock(reset - t.emulator.now() + 1)
    const again = await call(`${REPO}/issues/12/comments`)
    expect(again.status).toBe(200)
    expect(again.headers['x-ratelimit-remaining']).toBe('999')
  })

  it('answers the secondary limit with Retry-After for as long as the admin API says', async () => {
    const put = await admin(t.emulator, '/github', {
      method: 'PUT',
      body: { secondaryLimitSeconds: 3, rateLimit: { status: 429 } }
    })
    expect(put.status).toBe(200)
    const held = await call(`${REPO}/pulls/12`)
    expect(held.status).toBe(429)
    expect(held.headers['retry-after']).toBe('3')
    expect(held.json.message).toContain('secondary rate limit')
    t.emulator.advanceClock(3_000)
    expect((await call(`${REPO}/pulls/12`)).status).toBe(200)
  })

  it('trips the secondary limit on too many comments in a minute', async () => {
    t.emulator.github({ rateLimit: { writesPerMinute: 2, secondaryRetryAfterSeconds: 30 } })
    const post = () => call(`${REPO}/issues/12/comments`, { method: 'POST', body: { body: 'x' } })
    expect((await post()).status).toBe(201)
    expect((await post()).status).toBe(201)
    const third = await post()
    expect(third.status).toBe(403)
    // not before the minute of the first two has passed, though the setting says 30 s
    expect(Number(third.headers['retry-after'])).toBeGreaterThanOrEqual(59)
    // reads are held back as well while the limit holds
    expect((await call(`${REPO}/pulls/12`)).status).toBe(403)
    t.emulator.advanceClock(Number(third.headers['retry-after']) * 1000)
    expect((await post()).status).toBe(201)
  })

  it('counts each token apart', async () => {
    t.emulator.github({ remaining: 0 })
    expect((await call(`${REPO}/pulls/12`)).status).toBe(403)
    expect((await call(`${REPO}/pulls/12`, { token: USER_TOKEN })).status).toBe(200)
  })
})

describe('GitHub REST API: knobs', () => {
  it('checks admin changes and applies none of them when one is wrong', async () => {
    const bad = await admin(t.emulator, '/github', {
      method: 'PUT',
      body: { tokenPermission: 'admin', remaining: -1, colour: 'blue' }
    })
    expect(bad.status).toBe(400)
    expect(bad.json.error.problems).toEqual([
      expect.stringContaining("unknown field 'colour'"),
      'tokenPermission must be one of write, read, none',
      'remaining must be an integer >= 0'
    ])
    expect((await admin(t.emulator, '/github')).json.tokenPermission).toBe('write')
  })

  it('opens pull requests through the admin API, and a reset puts the scenario back', async () => {
    await admin(t.emulator, '/github', {
      method: 'PUT',
      body: { pullRequests: [{ number: 40 }], tokenPermission: 'read' }
    })
    expect((await call(`${REPO}/pulls/40`)).status).toBe(200)
    await admin(t.emulator, '/reset', { method: 'POST' })
    const view = (await admin(t.emulator, '/github')).json
    expect(view.tokenPermission).toBe('write')
    expect(view.pullRequests.map((p: { number: number }) => p.number)).toEqual([12, 13, 14])
    expect(view.comments).toBe(150)
  })

  it('validates the github section of a scenario', () => {
    const scenario = defaultScenario()
    scenario.github = {
      subject: scenario.github!.subject,
      tokenPermission: 'admin' as never,
      pullRequests: [{ number: 0 }],
      comments: [{ issue: 5, body: 'x' }],
      rateLimit: { limit: -1, status: 500 as never }
    }
    expect(() => validateScenario(scenario)).toThrow(
      /tokenPermission must be one of.*pullRequests\[0\]\.number.*comments\[0\].*rateLimit: limit must be.*status must be 403 or 429/
    )
  })
})
