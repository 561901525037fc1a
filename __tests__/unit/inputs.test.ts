import { describe, expect, it } from '@jest/globals'
import { fileURLToPath } from 'node:url'
import { parseInputs } from '../../src/inputs/parse.js'
import { InputError, nodeFiles, type InputFiles } from '../../src/inputs/reader.js'
import { inputDefaults } from '../../src/inputs/settings.js'
import { baseInputs } from './fakes.js'

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url))
const files: InputFiles = { ...nodeFiles, cwd: () => fixtures }

const valid: Record<string, string> = {
  'client-id': '33333333-3333-3333-3333-333333333333',
  'tenant-id': '11111111-1111-1111-1111-111111111111',
  'subscription-id': '22222222-2222-2222-2222-222222222222',
  'resource-group': 'rg-cmk',
  location: 'westeurope',
  'hsm-name': 'hsm-cmk',
  'key-name': 'cosmos-key',
  'account-name': 'cosmos-cmk'
}

function parse(overrides: Record<string, string> = {}) {
  const values = { ...valid, ...overrides }
  return parseInputs({ getInput: name => values[name] ?? '' }, files)
}

function problems(overrides: Record<string, string>): string[] {
  try {
    parse(overrides)
  } catch (error) {
    if (error instanceof InputError) return error.problems
    throw error
  }
  throw new Error('expected an InputError')
}

describe('parseInputs: defaults', () => {
  it('applies every default', () => {
    const inputs = parse()
    // The fixture every provisioning test starts from is exactly what the defaults produce.
    expect(inputs).toEqual(baseInputs())
    expect(inputs.securityDomain).toBeUndefined()
  })

  it('normalises locations and lower-cases GUIDs', () => {
    const inputs = parse({
      location: 'West Europe',
      'account-locations': 'westeurope\nNorth Europe',
      'client-id': '33333333-3333-3333-3333-33333333AAAA'
    })
    expect(inputs.location).toBe('westeurope')
    expect(inputs.account.locations).toEqual(['westeurope', 'northeurope'])
    expect(inputs.auth.clientId).toBe('33333333-3333-3333-3333-33333333aaaa')
  })

  it('parses tags, administrators and enums case-insensitively', () => {
    const inputs = parse({
      tags: 'env=prod, team = data',
      'create-hsm': 'true',
      'hsm-administrators':
        '44444444-4444-4444-4444-444444444444,\n55555555-5555-5555-5555-555555555555',
      api: 'MongoDB',
      mode: 'Plan'
    })
    expect(inputs.tags).toEqual({ env: 'prod', team: 'data' })
    expect(inputs.hsm.administrators).toHaveLength(2)
    expect(inputs.account.api).toBe('mongodb')
    expect(inputs.mode).toBe('plan')
  })
})

describe('parseInputs: one message per broken rule, naming input, value and rule', () => {
  it.each([
    [
      'hsm-name',
      'My_HSM',
      'must be 3-24 characters, letters, digits and hyphens, starting with a letter and not ending with a hyphen.'
    ],
    ['hsm-name', '1hsm', 'must be 3-24 characters'],
    ['hsm-name', 'hsm-', 'must be 3-24 characters'],
    ['hsm-name', 'hs', 'must be 3-24 characters'],
    ['hsm-name', 'hsm--cmk', 'must not contain two hyphens in a row.'],
    ['account-name', 'Cosmos', 'must be 3-44 characters: lowercase letters, digits and hyphens'],
    ['key-name', 'key_1', 'must be 1-127 characters: letters, digits and hyphens.'],
    ['client-id', 'not-a-guid', 'must be a GUID'],
    ['tenant-id', '1234', 'must be a GUID'],
    ['subscription-id', 'x', 'must be a GUID'],
    ['cosmos-principal-id', 'nope', 'must be a GUID'],
    ['hsm-sku', 'Premium', 'must be one of Standard_B1'],
    ['hsm-retention-days', '6', 'must be a whole number from 7 to 90.'],
    ['timeout-minutes', '0', 'must be a whole number from 1 to 360.'],
    ['create-hsm', 'yes', 'must be true or false.'],
    ['enable-purge-protection', '1', 'must be true or false.'],
    ['resource-group', 'rg/bad', 'must be 1-90 characters'],
    ['resource-group', 'rg.', 'must not end with a period.'],
    ['location', 'west-europe!', 'must be an Azure region name'],
    ['tags', 'novalue', 'every entry must be key=value']
  ])('%s = %s', (name, value, rule) => {
    const found = problems({ [name]: value })
    expect(found.some(p => p.includes(`Input '${name}' is '${value}': ${rule}`))).toBe(true)
  })

  it.each([
    ['auth-type', 'secret', ['oidc', 'azure-cli', 'credential-chain']],
    ['environment', 'AzureGermanCloud', ['AzureCloud', 'AzureUSGovernment', 'AzureChinaCloud']],
    ['key-size', '1024', ['2048', '3072', '4096']],
    ['api', 'sql', ['nosql', 'mongodb', 'cassandra', 'gremlin', 'table']],
    ['identity-mode', 'managed', ['first-party', 'user-assigned', 'system-assigned']],
    ['role-scope', '/', ['key', 'keys']],
    ['mode', 'dry-run', ['apply', 'plan', 'prepare', 'verify', 'teardown', 'plan-teardown']]
  ])('%s = %s: the whole message names every value the input takes', (name, value, allowed) => {
    expect(problems({ [name]: value })).toContain(
      `Input '${name}' is '${value}': must be one of ${allowed.join(', ')}.`
    )
  })

  // Rows that expect only part of the message.
  it.each([
    ['hsm-name', 'a'.repeat(25), 'must be 3-24 characters'],
    ['account-name', '-cosmos', "Input 'account-name' is '-cosmos'"],
    ['account-name', 'a'.repeat(45), 'must be 3-44 characters'],
    ['key-name', 'k'.repeat(128), 'must be 1-127 characters'],
    ['hsm-retention-days', '91', 'must be a whole number from 7 to 90'],
    ['hsm-retention-days', 'ten', 'must be a whole number from 7 to 90']
  ])('%s = %s, in part', (name, value, message) => {
    const found = problems({ [name]: value })
    expect(found.some(p => p.includes(message))).toBe(true)
  })

  it('requires what is required', () => {
    const found = problems({
      'subscription-id': '',
      'resource-group': '',
      'hsm-name': '',
      'key-name': '',
      'account-name': ''
    })
    expect(found).toEqual([
      "Input 'subscription-id' is required.",
      "Input 'resource-group' is required.",
      "Input 'hsm-name' is required.",
      "Input 'key-name' is required.",
      "Input 'account-name' is required."
    ])
  })

  it('collects every problem into one error', () => {
    try {
      parse({ 'hsm-name': 'My_HSM', 'key-size': '1', mode: 'x' })
      throw new Error('no error')
    } catch (error) {
      expect(error).toBeInstanceOf(InputError)
      expect((error as Error).message).toMatch(/^3 inputs are invalid:\n- Input 'hsm-name'/)
    }
  })
})

describe('parseInputs: combinations', () => {
  it('accepts every action.yml default passed explicitly, as GitHub does', () => {
    const withDefaults = { ...inputDefaults, ...valid }
    const inputs = parseInputs(
      { getInput: name => withDefaults[name as keyof typeof withDefaults] ?? '' },
      files
    )
    expect(inputs.identity.mode).toBe('first-party')
    const azureCli = { ...withDefaults, 'auth-type': 'azure-cli', 'client-id': '', 'tenant-id': '' }
    expect(
      parseInputs({ getInput: name => azureCli[name as keyof typeof azureCli] ?? '' }, files).auth
        .type
    ).toBe('azure-cli')
  })

  it("needs client-id and tenant-id for auth-type 'oidc' only", () => {
    expect(problems({ 'client-id': '', 'tenant-id': '' })).toEqual([
      "Input 'client-id' is required when auth-type is 'oidc'.",
      "Input 'tenant-id' is required when auth-type is 'oidc'."
    ])
    expect(parse({ 'auth-type': 'azure-cli', 'client-id': '', 'tenant-id': '' }).auth.type).toBe(
      'azure-cli'
    )
  })

  it('refuses audience without oidc', () => {
    expect(problems({ 'auth-type': 'azure-cli', audience: 'api://x' })[0]).toMatch(
      /audience.*only with auth-type 'oidc'/
    )
  })

  it('needs user-assigned-identity for identity-mode user-assigned', () => {
    expect(problems({ 'identity-mode': 'user-assigned' })).toEqual([
      "Input 'user-assigned-identity' is required when identity-mode is 'user-assigned'."
    ])
  })

  it('needs an identity for bootstrap-identity user-assigned', () => {
    expect(
      problems({ 'identity-mode': 'system-assigned', 'bootstrap-identity': 'user-assigned' })
    ).toEqual([
      "Input 'user-assigned-identity' is required when bootstrap-identity is 'user-assigned'."
    ])
  })

  it('refuses bootstrap-identity and remove-bootstrap-assignment outside system-assigned', () => {
    const found = problems({
      'bootstrap-identity': 'user-assigned',
      'remove-bootstrap-assignment': 'true'
    })
    expect(found).toEqual([
      "Input 'bootstrap-identity' applies only with identity-mode 'system-assigned'.",
      "Input 'remove-bootstrap-assignment' applies only with identity-mode 'system-assigned'."
    ])
  })

  it('refuses a user-assigned identity the mode does not use, and cosmos-principal-id without first-party', () => {
    expect(problems({ 'user-assigned-identity': 'id-cmk' })[0]).toMatch(
      /user-assigned-identity' applies only/
    )
    expect(
      problems({
        'identity-mode': 'user-assigned',
        'user-assigned-identity': 'id-cmk',
        'cosmos-principal-id': '55555555-5555-5555-5555-555555555555'
      })[0]
    ).toMatch(
      /cosmos-principal-id' applies only when the Azure Cosmos DB first-party identity is used/
    )
  })

  it('resolves a user-assigned identity name in resource-group, or takes a full resource id', () => {
    const byName = parse({ 'identity-mode': 'user-assigned', 'user-assigned-identity': 'id-cmk' })
    expect(byName.identity.userAssignedIdentity?.id).toBe(
      '/subscriptions/22222222-2222-2222-2222-222222222222/resourceGroups/rg-cmk/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-cmk'
    )
    const id =
      '/subscriptions/99999999-9999-9999-9999-999999999999/resourceGroups/rg-ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/shared'
    const byId = parse({ 'identity-mode': 'user-assigned', 'user-assigned-identity': id })
    expect(byId.identity.userAssignedIdentity).toMatchObject({
      subscriptionId: '99999999-9999-9999-9999-999999999999',
      resourceGroup: 'rg-ids',
      name: 'shared'
    })
    expect(
      problems({
        'identity-mode': 'user-assigned',
        'user-assigned-identity': '/subscriptions/x/other'
      })[0]
    ).toMatch(/must be \/subscriptions\/<id>\/resourceGroups/)
  })

  it('allows create-hsm with mode plan, and hsm-administrators only with create-hsm', () => {
    expect(parse({ 'create-hsm': 'true', mode: 'plan' }).hsm.create).toBe(true)
    expect(problems({ 'hsm-administrators': '44444444-4444-4444-4444-444444444444' })[0]).toMatch(
      /hsm-administrators' is used only when create-hsm is true/
    )
    expect(problems({ 'create-hsm': 'true', 'hsm-administrators': 'bob' })[0]).toMatch(
      /Input 'hsm-administrators' is 'bob': every entry must be a GUID/
    )
  })

  it('refuses hsm-sku and hsm-retention-days without create-hsm, as it does hsm-administrators', () => {
    expect(problems({ 'hsm-sku': 'Custom_B32' })).toEqual([
      "Input 'hsm-sku' is used only when create-hsm is true (it sets up the new HSM)."
    ])
    expect(problems({ 'hsm-retention-days': '30' })).toEqual([
      "Input 'hsm-retention-days' is used only when create-hsm is true (it sets up the new HSM)."
    ])
    expect(parse({ 'create-hsm': 'true', 'hsm-sku': 'Custom_B32' }).hsm.sku).toBe('Custom_B32')
  })

  it('refuses the Azure Cosmos DB application id as cosmos-principal-id, saying how to get the object id', () => {
    for (const appId of [
      'a232010e-820c-4083-83bb-3ace5fc29d0b',
      '57506A73-E302-42A9-B869-6F12D9EC29E9'
    ]) {
      const [problem] = problems({ 'cosmos-principal-id': appId })
      expect(problem).toContain(
        `Input 'cosmos-principal-id' is '${appId}': is the Azure Cosmos DB application id, not the object id`
      )
      expect(problem).toContain(`az ad sp show --id ${appId.toLowerCase()} --query id -o tsv`)
    }
  })

  it("takes the cloud's ID-token audience unless audience is given", () => {
    expect(parse().auth.audience).toBe('api://AzureADTokenExchange')
    expect(parse({ environment: 'AzureUSGovernment' }).auth.audience).toBe(
      'api://AzureADTokenExchangeUSGov'
    )
    expect(
      parse({ environment: 'AzureUSGovernment', audience: 'api://AzureADTokenExchange' }).auth
        .audience
    ).toBe('api://AzureADTokenExchange')
  })

  it('defaults to a user-assigned identity in AzureChinaCloud, and takes first-party when asked', () => {
    expect(problems({ environment: 'AzureChinaCloud' })).toEqual([
      "Input 'user-assigned-identity' is required in AzureChinaCloud, where this action uses a user-assigned identity unless identity-mode says otherwise (the Azure Cosmos DB application id there is not confirmed)."
    ])
    expect(
      parse({ environment: 'AzureChinaCloud', 'user-assigned-identity': 'id-cmk' }).identity.mode
    ).toBe('user-assigned')
    expect(problems({ environment: 'AzureChinaCloud', 'identity-mode': 'first-party' })).toEqual([
      "Input 'cosmos-principal-id' is required with the first-party identity in AzureChinaCloud, where the Azure Cosmos DB application id is not confirmed, so its principal cannot be looked up: give its object id in your tenant."
    ])
    expect(
      parse({
        environment: 'AzureChinaCloud',
        'identity-mode': 'first-party',
        'cosmos-principal-id': '55555555-5555-5555-5555-555555555555'
      }).identity.mode
    ).toBe('first-party')
  })

  it('refuses an audience that is not a URI', () => {
    expect(problems({ audience: 'my audience' })).toEqual([
      "Input 'audience' is 'my audience': must be the audience of the federated credential, a URI like 'api://AzureADTokenExchange'."
    ])
    expect(parse({ audience: 'api://AzureADTokenExchangeUSGov' }).auth.audience).toBe(
      'api://AzureADTokenExchangeUSGov'
    )
  })

  it('refuses a tag set twice, whatever its case, and more tags than Azure allows', () => {
    expect(problems({ tags: 'env=dev\nEnv=prod' })).toEqual([
      "Input 'tags' is 'Env=prod': sets tag 'env' twice (tag names are not case-sensitive)."
    ])
    const many = Array.from({ length: 48 }, (_, i) => `t${i}=v`).join(',')
    expect(problems({ tags: many })).toEqual([
      "Input 'tags' lists 48 tags: Azure allows 50 per resource and the action adds up to 3 of its own (created-by, github-repository, github-run-url), so at most 47."
    ])
    expect(Object.keys(parse({ tags: many.split(',').slice(0, 47).join(',') }).tags)).toHaveLength(
      47
    )
  })

  it('defaults hsm-resource-group to resource-group', () => {
    expect(parse({ 'hsm-resource-group': 'rg-hsm' }).hsm.resourceGroup).toBe('rg-hsm')
  })
})

describe('parseInputs: security domain', () => {
  const sd = {
    'security-domain-certificates': 'sd0.pem, sd1.pem\nsd2.pem',
    'security-domain-quorum': '2',
    'security-domain-file': 'out.json'
  }

  it('reads 3-10 PEM certificates into JWKs with x5c', () => {
    const inputs = parse(sd)
    expect(inputs.securityDomain?.certificates).toHaveLength(3)
    expect(inputs.securityDomain?.quorum).toBe(2)
    expect(inputs.securityDomain?.file).toBe(`${fixtures}out.json`)
    const jwk = inputs.securityDomain!.certificates[0].jwk
    expect(jwk).toMatchObject({ kty: 'RSA', alg: 'RSA-OAEP-256', e: 'AQAB' })
    expect(jwk.x5c[0]).toMatch(/^MII/)
    expect(Buffer.from(jwk.n, 'base64url')).toHaveLength(256)
  })

  it('needs 3 to 10 certificates', () => {
    expect(problems({ ...sd, 'security-domain-certificates': 'sd0.pem,sd1.pem' })[0]).toMatch(
      /must list 3 to 10 PEM certificate files \(it lists 2\)/
    )
  })

  it('checks that each file exists, is a PEM certificate with an RSA key, and is not listed twice', () => {
    const found = problems({
      ...sd,
      'security-domain-certificates': 'sd0.pem, missing.pem, ec.pem, sd0.pem, ../inputs.test.ts'
    })
    expect(found).toEqual(
      expect.arrayContaining([
        "Input 'security-domain-certificates' lists 'missing.pem': the file does not exist.",
        "Input 'security-domain-certificates' lists 'ec.pem': its public key is ec; the security domain needs RSA keys.",
        "Input 'security-domain-certificates' lists 'sd0.pem': it is the same certificate as 'sd0.pem'.",
        "Input 'security-domain-certificates' lists '../inputs.test.ts': it is not a PEM certificate (no BEGIN CERTIFICATE block)."
      ])
    )
  })

  it('refuses a file of several certificates, an expired one, and a key under 2048 bits', () => {
    const found = problems({
      ...sd,
      'security-domain-certificates': 'sd0.pem, two-certificates.pem, expired.pem, rsa1024.pem'
    })
    expect(found).toEqual([
      "Input 'security-domain-certificates' lists 'two-certificates.pem': it holds 2 certificates; give each certificate in a file of its own, so that each counts once.",
      "Input 'security-domain-certificates' lists 'expired.pem': it expired on 2021-01-01T00:00:00.000Z.",
      "Input 'security-domain-certificates' lists 'rsa1024.pem': its RSA key has 1024 bits; the security domain needs at least 2048."
    ])
  })

  it('keeps the quorum within 2..number of certificates', () => {
    expect(problems({ ...sd, 'security-domain-quorum': '4' })).toEqual([
      "Input 'security-domain-quorum' is '4': must be a whole number from 2 to 3 (the number of certificates)."
    ])
    expect(problems({ ...sd, 'security-domain-quorum': '1' })[0]).toMatch(/from 2 to 3/)
  })

  it('needs a quorum and a file with certificates, and certificates with a quorum or file', () => {
    expect(problems({ ...sd, 'security-domain-quorum': '', 'security-domain-file': '' })).toEqual([
      "Input 'security-domain-quorum' is required with 'security-domain-certificates'.",
      "Input 'security-domain-file' is required with 'security-domain-certificates' (the encrypted security domain is written there)."
    ])
    expect(problems({ 'security-domain-quorum': '2' })[0]).toMatch(
      /apply only with 'security-domain-certificates'/
    )
  })

  it('refuses a security-domain-file that is a link, even a dangling one', async () => {
    const { mkdtempSync, rmSync, symlinkSync } = await import('node:fs')
    const { tmpdir } = await import('node:os')
    const { join } = await import('node:path')
    const dir = mkdtempSync(join(tmpdir(), 'sd-link-'))
    try {
      const link = join(dir, 'sd.json')
      symlinkSync(join(dir, 'nowhere.json'), link)
      expect(problems({ ...sd, 'security-domain-file': link })).toEqual([
        `Input 'security-domain-file' is '${link}': is a symbolic link; the security domain is written to a new regular file only.`
      ])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('refuses a security-domain-file in a folder the job may not write to', () => {
    const readOnly: InputFiles = { ...files, isWritableFolder: () => false }
    const values: Record<string, string> = { ...valid, ...sd }
    expect(() => parseInputs({ getInput: name => values[name] ?? '' }, readOnly)).toThrow(
      "Input 'security-domain-file' is 'out.json': its folder is not writable by this job."
    )
  })

  it('needs the folder of security-domain-file to exist', () => {
    expect(problems({ ...sd, 'security-domain-file': 'no/such/dir/sd.json' })[0]).toMatch(
      /its folder does not exist/
    )
  })
})

describe('parseInputs: a fleet of accounts', () => {
  it('reads several names, separated by commas or new lines, in their order', () => {
    const inputs = parse({
      'account-name': 'fleet-a, fleet-b\nfleet-c',
      'account-concurrency': '3'
    })
    expect(inputs.account.name).toBe('fleet-a')
    expect(inputs.account.others).toEqual(['fleet-b', 'fleet-c'])
    expect(inputs.account.concurrency).toBe(3)
  })

  it('names each bad or repeated entry, and every other problem with it', () => {
    expect(
      problems({ 'account-name': 'fleet-a,Fleet-B,fleet-a', 'account-concurrency': '0' })
    ).toEqual([
      "Input 'account-name' is 'Fleet-B': every name must be 3-44 characters: lowercase letters, digits and hyphens, not starting or ending with a hyphen.",
      "Input 'account-name' is 'fleet-a': lists fleet-a twice.",
      "Input 'account-concurrency' is '0': must be a whole number from 1 to 50."
    ])
  })

  it('refuses more accounts than one run takes', () => {
    const names = Array.from({ length: 201 }, (_, i) => `fleet-${i}`).join(',')
    expect(problems({ 'account-name': names })).toEqual([
      "Input 'account-name' is 'fleet-0, fleet-1, fleet-2, ...': lists 201 accounts: one run takes at most 200; split them over a matrix of jobs."
    ])
  })

  it.each(['teardown', 'plan-teardown'])('refuses several accounts in mode %s', mode => {
    const found = problems({
      'account-name': 'fleet-a,fleet-b',
      mode,
      'confirm-teardown': mode === 'teardown' ? 'fleet-a' : ''
    })
    expect(found).toContain(
      `Input 'account-name' is 'fleet-a,fleet-b': lists 2 accounts: mode '${mode}' takes one account (several are for apply, plan and verify).`
    )
  })
})
