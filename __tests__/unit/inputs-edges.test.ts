/**
 * Input rules at their edges: the modes a fleet is for, mode prepare's inputs, the limits (10
 * certificates, 200 accounts, 47 tags) exactly met and passed, the audience's whole shape, values
 * read trimmed, the case of ids, and what InputError says.
 */
import { describe, expect, it } from '@jest/globals'
import { tmpdir } from 'node:os'
import { fileURLToPath } from 'node:url'
import { durationDays } from '../../src/inputs/parse.js'
import { InputError, nodeFiles, type InputFiles } from '../../src/inputs/reader.js'
import { accountNames } from '../../src/inputs/settings.js'
import { baseInputs } from './fakes.js'
import { inputParser } from './helpers.js'

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url))
const files: InputFiles = { ...nodeFiles, cwd: () => fixtures }

const { parse, problems } = inputParser(files)

const about = (input: string, found: string[]) => found.filter(p => p.includes(`'${input}'`))

describe('a fleet', () => {
  it.each(['apply', 'plan', 'verify'])('is taken in mode %s', mode => {
    expect(about('account-name', problems({ mode, 'account-name': 'acct-a, acct-b' }))).toEqual([])
  })

  it.each(['teardown', 'plan-teardown'])('is refused in mode %s, which takes one account', mode => {
    expect(about('account-name', problems({ mode, 'account-name': 'acct-a, acct-b' }))).toEqual([
      `Input 'account-name' is 'acct-a, acct-b': lists 2 accounts: mode '${mode}' takes one account ` +
        '(several are for apply, plan and verify).'
    ])
  })

  it('takes 200 accounts in one run, and refuses 201', () => {
    const names = (n: number) => Array.from({ length: n }, (_, i) => `acct-${i}`).join(',')
    expect(parse({ 'account-name': names(200) }).account.others).toHaveLength(199)
    expect(problems({ 'account-name': names(201) })).toEqual([
      "Input 'account-name' is 'acct-0, acct-1, acct-2, ...': lists 201 accounts: one run takes at " +
        'most 200; split them over a matrix of jobs.'
    ])
  })
})

describe('mode prepare', () => {
  it('works on no account', () => {
    const inputs = parse({ mode: 'prepare', 'account-name': '' })
    expect(inputs.account.name).toBe('')
    expect(inputs.account.others).toEqual([])
    expect(accountNames(inputs)).toEqual([])
  })

  it('refuses an account name, which is for the accounts’ jobs', () => {
    expect(problems({ mode: 'prepare', 'account-name': 'acct-a' })).toEqual([
      "Input 'account-name' is 'acct-a': is for the accounts' jobs: mode 'prepare' makes the HSM, " +
        'the key and the shared grants, no account.'
    ])
  })

  it.each(['enable-on-existing', 'key-switch', 'remove-bootstrap-assignment'])(
    'refuses %s, which is about accounts',
    name => {
      expect(
        problems({
          mode: 'prepare',
          'account-name': '',
          'identity-mode': 'system-assigned',
          [name]: 'true'
        })
      ).toEqual([
        `Input '${name}' is about accounts, which mode 'prepare' never touches: set it on the accounts' jobs.`
      ])
    }
  )
})

describe('the audience', () => {
  it.each([['api://AzureADTokenExchange'], ['urn:example:aud'], ['A+b.c-d:x']])(
    '%s is a URI',
    audience => {
      expect(about('audience', problems({ audience }))).toEqual([])
    }
  )

  it.each([['9api://x'], ['-api://x'], ['api://a b'], ['api:'], ['plain']])(
    '%s is no URI',
    audience => {
      expect(about('audience', problems({ audience }))).toEqual([
        `Input 'audience' is '${audience}': must be the audience of the federated credential, a URI like 'api://AzureADTokenExchange'.`
      ])
    }
  )

  it('counts an audience of spaces as not given', () => {
    expect(problems({ 'auth-type': 'azure-cli', audience: '   ' })).toEqual([])
    expect(problems({ 'auth-type': 'azure-cli', audience: 'api://x' })).toEqual([
      "Input 'audience' is 'api://x': is used only with auth-type 'oidc'."
    ])
  })
})

describe('values as the runner gives them', () => {
  it('are read without the spaces around them', () => {
    const inputs = parse({ 'hsm-name': '  hsm-cmk\t', mode: ' plan ', 'create-hsm': ' false ' })
    expect(inputs.hsm.name).toBe('hsm-cmk')
    expect(inputs.mode).toBe('plan')
    expect(inputs.hsm.create).toBe(false)
  })

  it.each([['xtrue'], ['truex'], ['TRUE!'], ['yes'], ['nofalse'], ['falsey']])(
    'take %j for no boolean',
    value => {
      expect(problems({ 'create-hsm': value })).toEqual([
        `Input 'create-hsm' is '${value}': must be true or false.`
      ])
    }
  )

  it('read object ids in lower case, each once whatever its case', () => {
    const inputs = parse({
      'create-hsm': 'true',
      'hsm-administrators':
        'AAAAAAAA-4444-4444-4444-44444444444A, aaaaaaaa-4444-4444-4444-44444444444a\nBBBBBBBB-5555-5555-5555-555555555555'
    })
    expect(inputs.hsm.administrators).toEqual([
      'aaaaaaaa-4444-4444-4444-44444444444a',
      'bbbbbbbb-5555-5555-5555-555555555555'
    ])
  })

  it("read a user-assigned identity's subscription in lower case", () => {
    const id =
      '/subscriptions/ABCDEF00-0000-4000-8000-00000000000A/resourceGroups/rg-id/providers/' +
      'Microsoft.ManagedIdentity/userAssignedIdentities/id-cmk'
    const identity = parse({ 'identity-mode': 'user-assigned', 'user-assigned-identity': id })
      .identity.userAssignedIdentity!
    expect(identity.subscriptionId).toBe('abcdef00-0000-4000-8000-00000000000a')
    expect(identity.id).toBe(
      '/subscriptions/abcdef00-0000-4000-8000-00000000000a/resourceGroups/rg-id/providers/' +
        'Microsoft.ManagedIdentity/userAssignedIdentities/id-cmk'
    )
  })
})

describe('names and places', () => {
  it('refuses an HSM resource group that ends with a period, and takes one with a period inside', () => {
    expect(problems({ 'hsm-resource-group': 'rg-hsm.' })).toEqual([
      "Input 'hsm-resource-group' is 'rg-hsm.': must not end with a period."
    ])
    expect(parse({ 'hsm-resource-group': '.rg.hsm' }).hsm.resourceGroup).toBe('.rg.hsm')
  })

  it.each([['1westeurope'], ['we'], ['west_europe']])('refuses the account location %j', entry => {
    expect(problems({ 'account-locations': `westeurope, ${entry}` })).toEqual([
      `Input 'account-locations' is '${entry}': every entry must be an Azure region name like westeurope.`
    ])
  })
})

describe('the security domain', () => {
  const sd = { 'security-domain-quorum': '2', 'security-domain-file': 'out.json' }
  const listing = (n: number) => Array.from({ length: n }, (_, i) => `sd${i}.pem`).join(',')
  const countRule = (found: string[]) => found.filter(p => p.includes('must list 3 to 10'))

  it('takes 10 certificate files, and refuses 11', () => {
    expect(countRule(problems({ ...sd, 'security-domain-certificates': listing(10) }))).toEqual([])
    expect(countRule(problems({ ...sd, 'security-domain-certificates': listing(11) }))).toEqual([
      `Input 'security-domain-certificates' is '${Array.from({ length: 11 }, (_, i) => `sd${i}.pem`).join(', ')}': must list 3 to 10 PEM certificate files (it lists 11).`
    ])
  })

  it('refuses a folder for the security domain file', () => {
    const folder = tmpdir()
    const found = problems({
      ...sd,
      'security-domain-certificates': 'sd0.pem, sd1.pem, sd2.pem',
      'security-domain-file': folder
    })
    expect(found).toEqual([
      `Input 'security-domain-file' is '${folder}': must be a file path, not a directory.`
    ])
  })
})

describe('the first-party identity principal', () => {
  const principal = '55555555-5555-5555-5555-555555555555'
  const rule =
    "Input 'cosmos-principal-id' applies only when the Azure Cosmos DB first-party identity is used " +
    "(identity-mode 'first-party', or 'system-assigned' with bootstrap-identity 'first-party')."

  it.each([
    [{ 'identity-mode': 'first-party' }],
    [{ 'identity-mode': 'system-assigned', 'bootstrap-identity': 'first-party' }]
  ])('is taken where the first-party identity is used: %j', identity => {
    expect(problems({ ...identity, 'cosmos-principal-id': principal })).toEqual([])
  })

  it.each([
    [{ 'identity-mode': 'user-assigned', 'user-assigned-identity': 'id-cmk' }],
    [
      {
        'identity-mode': 'system-assigned',
        'bootstrap-identity': 'user-assigned',
        'user-assigned-identity': 'id-cmk'
      }
    ]
  ])('is refused where it is not: %j', identity => {
    expect(problems({ ...identity, 'cosmos-principal-id': principal })).toEqual([rule])
  })
})

describe('tags', () => {
  const entries = (n: number) => Array.from({ length: n }, (_, i) => `k${i}=v`).join(',')

  it('takes 47 tags, and refuses 48', () => {
    expect(Object.keys(parse({ tags: entries(47) }).tags)).toHaveLength(47)
    expect(problems({ tags: entries(48) })).toEqual([
      "Input 'tags' lists 48 tags: Azure allows 50 per resource and the action adds up to 3 of its " +
        'own (created-by, github-repository, github-run-url), so at most 47.'
    ])
  })

  it('takes more than 47 protected tags: they are only compared, never written', () => {
    const protectedTags = parse({
      mode: 'teardown',
      'confirm-teardown': 'cosmos-cmk',
      'protected-tags': entries(60)
    }).teardown.protectedTags
    expect(Object.keys(protectedTags)).toHaveLength(60)
  })
})

describe('durationDays', () => {
  it('counts numbers of several digits in every part', () => {
    expect(durationDays('P10Y')).toBe(3650)
    expect(durationDays('P12M')).toBe(360)
    expect(durationDays('P10W')).toBe(70)
    expect(durationDays('P1Y12M10W30D')).toBe(365 + 360 + 70 + 30)
  })

  it('takes nothing before the P', () => {
    expect(durationDays('xP30D')).toBeUndefined()
    expect(durationDays(' P30D')).toBeUndefined()
  })
})

describe('InputError', () => {
  it('says one problem as it is, and several as a list', () => {
    const one = new InputError(['first'])
    expect(one.message).toBe('first')
    expect(one.name).toBe('InputError')
    expect(new InputError(['first', 'second']).message).toBe(
      '2 inputs are invalid:\n- first\n- second'
    )
  })
})

it('answers no account for inputs without an account name', () => {
  const inputs = baseInputs()
  expect(accountNames({ account: { ...inputs.account, name: '' } })).toEqual([])
  expect(accountNames({ account: { ...inputs.account, name: 'a', others: ['b'] } })).toEqual([
    'a',
    'b'
  ])
})
