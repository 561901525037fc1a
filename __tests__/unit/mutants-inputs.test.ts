/** Input rules beyond the table of broken values: rotation, lists, tags, teardown, mode conflicts. */
import { describe, expect, it } from '@jest/globals'
import { durationDays } from '../../src/inputs/parse.js'
import { ids } from './fakes.js'
import { inputParser } from './helpers.js'

const { parse, problems } = inputParser()

describe('durationDays', () => {
  it('counts years, months, weeks and days, in any case', () => {
    expect(durationDays('P1Y')).toBe(365)
    expect(durationDays('p2m')).toBe(60)
    expect(durationDays('P3W')).toBe(21)
    expect(durationDays('P1Y1M1W1D')).toBe(365 + 30 + 7 + 1)
  })

  it('refuses what is no such duration', () => {
    for (const value of ['P', 'PT1H', 'P1H', '90D', 'P1D1Y', '', 'P-1D']) {
      expect(durationDays(value)).toBeUndefined()
    }
  })
})

describe('the rotation policy inputs', () => {
  it('take a rotation and an expiry, upper-cased', () => {
    expect(parse({ 'key-rotate-after': 'p90d', 'key-expire-after': 'p1y' }).key.rotation).toEqual({
      rotateAfter: 'P90D',
      expireAfter: 'P1Y'
    })
    expect(parse({ 'key-rotate-after': 'P28D' }).key.rotation).toEqual({ rotateAfter: 'P28D' })
    expect(parse().key.rotation).toBeUndefined()
  })

  it('need a rotation with an expiry', () => {
    expect(problems({ 'key-expire-after': 'P1Y' })).toEqual([
      "Input 'key-rotate-after' is required with 'key-expire-after'."
    ])
  })

  it("keep to Managed HSM's minimum, and an expiry well after the rotation", () => {
    expect(problems({ 'key-rotate-after': 'P27D' })).toEqual([
      "Input 'key-rotate-after' is 'P27D': must be at least P28D (Managed HSM's minimum)."
    ])
    expect(problems({ 'key-rotate-after': 'P90D', 'key-expire-after': 'P117D' })).toEqual([
      "Input 'key-expire-after' is 'P117D': must be at least 28 days longer than key-rotate-after (P90D), so that a new version exists well before the old one expires and Azure Cosmos DB (up to 24 hours) has moved to it."
    ])
    expect(problems({ 'key-rotate-after': 'P90D', 'key-expire-after': 'P118D' })).toEqual([])
  })

  it('refuse what is no duration, each in its own words', () => {
    expect(problems({ 'key-rotate-after': '90 days', 'key-expire-after': 'soon' })).toEqual([
      "Input 'key-rotate-after' is '90 days': must be an ISO 8601 duration like P90D, P3M or P1Y.",
      "Input 'key-expire-after' is 'soon': must be an ISO 8601 duration like P2Y or P365D."
    ])
  })
})

describe('list inputs', () => {
  it('take regions by display name, separated by commas or new lines, and refuse one twice', () => {
    expect(parse({ 'account-locations': 'West Europe,\nnorth europe' }).account.locations).toEqual([
      'westeurope',
      'northeurope'
    ])
    expect(problems({ 'account-locations': 'westeurope, West Europe' })).toEqual([
      "Input 'account-locations' is 'West Europe': lists westeurope twice."
    ])
  })

  it('take the account region from location when account-locations is not given', () => {
    expect(parse({ location: 'North Europe' }).account.locations).toEqual(['northeurope'])
    expect(parse({ location: '' }).account.locations).toEqual([])
  })

  it('lower-case and de-duplicate HSM administrators', () => {
    const upper = ids.signedIn.toUpperCase()
    const admins = parse({
      'create-hsm': 'true',
      'hsm-administrators': `${upper}\n${ids.signedIn}`
    })
    expect(admins.hsm.administrators).toEqual([ids.signedIn])
    expect(problems({ 'create-hsm': 'true', 'hsm-administrators': 'me' })).toEqual([
      "Input 'hsm-administrators' is 'me': every entry must be a GUID like 00000000-0000-0000-0000-000000000000 (object ids, separated by commas or new lines)."
    ])
  })
})

describe('tags', () => {
  it('are read as key=value with spaces trimmed, a value may be empty', () => {
    expect(parse({ tags: ' team = data , empty= ' }).tags).toEqual({ team: 'data', empty: '' })
  })

  it('refuse an empty key, forbidden characters, and names or values too long', () => {
    const rule =
      'every entry must be key=value (key up to 512 characters without <>%&\\?/, value up to 256)'
    for (const entry of ['=v', 'a/b=v', 'a%b=v', `${'k'.repeat(513)}=v`, `k=${'v'.repeat(257)}`]) {
      expect(problems({ tags: entry })).toEqual([`Input 'tags' is '${entry}': ${rule}.`])
    }
    expect(problems({ tags: `${'k'.repeat(512)}=${'v'.repeat(256)}` })).toEqual([])
  })

  it('allow 47 of them, not 48', () => {
    const tags = (n: number) => Array.from({ length: n }, (_, i) => `t${i}=v`).join(',')
    expect(problems({ tags: tags(47) })).toEqual([])
    expect(problems({ tags: tags(48) })).toEqual([
      "Input 'tags' lists 48 tags: Azure allows 50 per resource and the action adds up to 3 of its own (created-by, github-repository, github-run-url), so at most 47."
    ])
  })

  it('set protected-tags for teardown, with its default', () => {
    expect(parse().teardown.protectedTags).toEqual({ environment: 'production' })
    expect(parse({ 'protected-tags': 'tier=gold' }).teardown.protectedTags).toEqual({
      tier: 'gold'
    })
  })
})

describe('teardown inputs', () => {
  it('need the account name typed again for teardown, and only then', () => {
    expect(problems({ mode: 'teardown' })).toEqual([
      "Input 'confirm-teardown' is required with mode 'teardown' (the account name, to confirm)."
    ])
    expect(problems({ mode: 'teardown', 'confirm-teardown': 'cosmos-other' })).toEqual([
      "Input 'confirm-teardown' is 'cosmos-other': must be the account name 'cosmos-cmk' to confirm its deletion."
    ])
    expect(parse({ mode: 'teardown', 'confirm-teardown': 'cosmos-cmk' }).teardown.confirm).toBe(
      'cosmos-cmk'
    )
    expect(problems({ 'confirm-teardown': 'cosmos-cmk' })).toEqual([
      "Input 'confirm-teardown' applies only with mode 'teardown'."
    ])
  })

  it('let plan-teardown go without a confirmation, but not with a wrong one', () => {
    expect(problems({ mode: 'plan-teardown' })).toEqual([])
    expect(problems({ mode: 'plan-teardown', 'confirm-teardown': 'x-y-z' })).toEqual([
      "Input 'confirm-teardown' is 'x-y-z': must be the account name 'cosmos-cmk' to confirm its deletion."
    ])
  })
})

describe('inputs that ask for a write in a mode that makes none', () => {
  const hsmWrites = ['create-hsm', 'enable-purge-protection', 'allow-arm-key-management']
  const keyAndAccountWrites = ['rotate-key', 'enable-on-existing', 'key-switch']

  it.each([...hsmWrites, ...keyAndAccountWrites])(
    '%s is refused in verify and in teardown, saying why',
    name => {
      expect(problems({ mode: 'verify', [name]: 'true' })).toContain(
        `Input '${name}' asks for a change, which mode 'verify' never makes (it reads and writes nothing).`
      )
      expect(
        problems({ mode: 'teardown', 'confirm-teardown': 'cosmos-cmk', [name]: 'true' })
      ).toContain(
        `Input '${name}' asks for a change, which mode 'teardown' never makes (teardown only deletes).`
      )
      expect(problems({ mode: 'plan', [name]: 'true' }).join('\n')).not.toMatch(/asks for a change/)
    }
  )
})

describe('the user-assigned identity input', () => {
  it('refuses a resource id of a subscription that is no GUID, or of another form', () => {
    const byId = (value: string) =>
      problems({ 'identity-mode': 'user-assigned', 'user-assigned-identity': value })
    expect(
      byId(
        '/subscriptions/abc/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id'
      )
    ).toEqual([
      "Input 'user-assigned-identity' is '/subscriptions/abc/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id': must be an identity name or a resource id with a GUID subscription."
    ])
    expect(byId('/subscriptions/x/identity')[0]).toMatch(
      /: must be \/subscriptions\/<id>\/resourceGroups\/<group>\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/<name>, or a name\.$/
    )
    expect(byId('-id')).toEqual([
      "Input 'user-assigned-identity' is '-id': must be 3-128 characters: letters, digits, hyphens and underscores, starting with a letter or digit."
    ])
  })

  it('takes an upper-case subscription of a resource id in lower case', () => {
    const sub = ids.subscription.toUpperCase()
    const identity = parse({
      'identity-mode': 'user-assigned',
      'user-assigned-identity': `/subscriptions/${sub}/resourceGroups/rg-x/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-x`
    }).identity.userAssignedIdentity
    expect(identity).toEqual({
      subscriptionId: ids.subscription,
      resourceGroup: 'rg-x',
      name: 'id-x',
      id: `/subscriptions/${ids.subscription}/resourceGroups/rg-x/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-x`
    })
  })
})

describe('booleans and numbers', () => {
  it('take true and false in three spellings each, nothing else', () => {
    for (const yes of ['true', 'True', 'TRUE'])
      expect(parse({ 'key-switch': yes }).account.keySwitch).toBe(true)
    for (const no of ['false', 'False', 'FALSE'])
      expect(parse({ 'key-switch': no }).account.keySwitch).toBe(false)
    expect(problems({ 'key-switch': 'tRUE' })).toEqual([
      "Input 'key-switch' is 'tRUE': must be true or false."
    ])
  })

  it('take whole numbers within bounds, both ends included', () => {
    expect(parse({ 'timeout-minutes': '1' }).timeoutMinutes).toBe(1)
    expect(parse({ 'timeout-minutes': '360' }).timeoutMinutes).toBe(360)
    expect(parse().timeoutMinutes).toBe(60)
    expect(problems({ 'timeout-minutes': '361' })).toHaveLength(1)
    expect(problems({ 'timeout-minutes': '1.5' })).toHaveLength(1)
  })
})
