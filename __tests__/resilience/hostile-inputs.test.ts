/**
 * Bad, careless and hostile inputs against the local Azure, each labelled with what must happen:
 * rejected before any request, refused before any write, or accepted. The action runs in this
 * process (through the GitHub runner, with INPUT_* variables, as on a runner) and the local Azure's
 * request log tells which requests it made.
 */
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { run } from '../../src/main.js'
import { githubRunner } from '../../src/runner/github.js'
import {
  Lab,
  defaultNames,
  preparedScenario,
  trustEmulatorCa,
  withReadableKey,
  writes,
  writeSecurityDomainCertificates
} from '../../testkit/index.js'

type Label = 'reject-before-any-request' | 'refuse-before-any-write' | 'accept'

interface InputCase {
  label: Label
  /** What the case tries. */
  name: string
  inputs: Record<string, string>
  /** A pattern the failure (or, accepted, nothing) must show. */
  says?: RegExp
}

const reject = (name: string, inputs: Record<string, string>, says: RegExp): InputCase => ({
  label: 'reject-before-any-request',
  name,
  inputs,
  says
})
const refuse = (name: string, inputs: Record<string, string>, says: RegExp): InputCase => ({
  label: 'refuse-before-any-write',
  name,
  inputs,
  says
})
const accept = (name: string, inputs: Record<string, string>): InputCase => ({
  label: 'accept',
  name,
  inputs: { mode: 'plan', ...inputs }
})

/** Bad values of one input, each rejected naming the input, the value and the rule. */
function badValues(input: string, values: string[]): InputCase[] {
  return values.map(value =>
    reject(
      `${input} = ${JSON.stringify(value)}`,
      { [input]: value },
      new RegExp(`Input '${input}'`)
    )
  )
}

const guidLike = [
  'not-a-guid',
  '1234',
  '{11111111-1111-1111-1111-111111111111}',
  'g1111111-1111-1111-1111-111111111111'
]
const hostile = [
  'x\n::warning::injected',
  '<img src=x onerror=alert(1)>',
  '%0A::error::x',
  '**bold** [l](http://e)'
]
let dir: string
let files: { certs: string[]; existing: string; link: string }

const cases: InputCase[] = [
  ...badValues('client-id', guidLike),
  ...badValues('tenant-id', guidLike),
  ...badValues('subscription-id', guidLike),
  ...badValues('auth-type', ['OIDC2', 'service-principal', 'password']),
  ...badValues('environment', ['AzurePublic', 'AzureGermanCloud', 'usgov', 'Azure']),
  ...badValues('audience', ['my audience', 'AzureADTokenExchange', 'api:// x']),
  ...badValues('resource-group', ['rg/bad', 'rg.', 'a'.repeat(91), 'rg#1', ...hostile]),
  ...badValues('location', ['west-europe!', '1westeurope', 'we', ...hostile]),
  ...badValues('hsm-name', [
    'My_HSM',
    'h',
    '1hsm',
    'hsm-',
    'hsm--name',
    'a'.repeat(25),
    ...hostile
  ]),
  ...badValues('hsm-resource-group', ['rg/x', 'rg.']),
  ...badValues('create-hsm', ['yes', '1', 'on']),
  ...badValues('hsm-sku', ['Premium', 'B1']),
  ...badValues('hsm-retention-days', ['6', '91', 'ten', '-1']),
  ...badValues('enable-purge-protection', ['yes', '0']),
  ...badValues('allow-arm-key-management', ['sure']),
  ...badValues('key-name', ['key_name', 'key name', 'k'.repeat(128), ...hostile]),
  ...badValues('key-size', ['1024', '2049', '8192', 'big']),
  ...badValues('account-name', [
    'Cosmos',
    'ab',
    '-cosmos',
    'cosmos-',
    'cosmos_1',
    'c'.repeat(45),
    ...hostile
  ]),
  ...badValues('api', ['sql', 'mongo', 'postgres']),
  ...badValues('account-locations', ['westeurope,westeurope', 'mars!', ...hostile]),
  ...badValues('identity-mode', ['managed', 'system', 'none']),
  ...badValues('user-assigned-identity', [
    '/subscriptions/x/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id',
    '/subscriptions/nope',
    'a',
    ...hostile
  ]).map(c => ({ ...c, inputs: { ...c.inputs, 'identity-mode': 'user-assigned' } })),
  ...badValues('cosmos-principal-id', [
    'x',
    'a232010e-820c-4083-83bb-3ace5fc29d0b',
    '57506a73-e302-42a9-b869-6f12d9ec29e9'
  ]),
  ...badValues('bootstrap-identity', ['second-party']),
  ...badValues('remove-bootstrap-assignment', ['maybe']),
  ...badValues('role-scope', ['/', 'all']),
  ...badValues('mode', ['dry-run', 'destroy', 'Apply!']),
  ...badValues('timeout-minutes', ['0', '361', '1.5', 'forever']),
  ...badValues('tags', [
    'novalue',
    '=x',
    'a<b=1',
    'env=dev\nEnv=prod',
    `k=${'v'.repeat(257)}`,
    ...hostile
  ]),
  ...badValues('key-rotate-after', ['P27D', 'P1D', '90 days', 'PT1H']),
  ...badValues('key-expire-after', ['P2X', 'P100D']).map(c => ({
    ...c,
    inputs: { ...c.inputs, 'key-rotate-after': 'P90D' }
  })),
  ...badValues('enable-on-existing', ['y']),
  ...badValues('key-switch', ['n']),
  ...badValues('rotate-key', ['now']),
  ...badValues('comment-on-pr', ['please']),
  ...badValues('protected-tags', ['novalue']),
  ...badValues('security-domain-quorum', ['1', '4', 'two']).map(c => ({
    ...c,
    inputs: {
      ...c.inputs,
      'security-domain-certificates': '@certs',
      'security-domain-file': '@fresh'
    }
  })),
  reject(
    'inputs that apply only to another identity mode',
    { 'bootstrap-identity': 'user-assigned' },
    /applies only with identity-mode 'system-assigned'/
  ),
  reject(
    'hsm-sku without create-hsm',
    { 'hsm-sku': 'Custom_B32' },
    /used only when create-hsm is true/
  ),
  reject(
    'hsm-administrators without create-hsm',
    { 'hsm-administrators': defaultNames.clientObjectId },
    /used only when create-hsm is true/
  ),
  reject(
    'confirm-teardown outside teardown',
    { 'confirm-teardown': 'x' },
    /applies only with mode 'teardown'/
  ),
  reject(
    'teardown without confirmation',
    { mode: 'teardown' },
    /Input 'confirm-teardown' is required/
  ),
  reject(
    'teardown confirming another account',
    { mode: 'teardown', 'confirm-teardown': 'other' },
    /must be the account name/
  ),
  reject(
    'verify asked to rotate',
    { mode: 'verify', 'rotate-key': 'true' },
    /asks for a change, which mode 'verify' never makes/
  ),
  reject(
    'security-domain-file that is a link',
    {
      'security-domain-certificates': '@certs',
      'security-domain-quorum': '2',
      'security-domain-file': '@link'
    },
    /is a symbolic link/
  ),
  reject(
    'security-domain-file in a missing folder',
    {
      'security-domain-certificates': '@certs',
      'security-domain-quorum': '2',
      'security-domain-file': '/nonexistent/sd.json'
    },
    /its folder does not exist/
  ),
  reject(
    'too few security-domain certificates',
    {
      'security-domain-certificates': '@one',
      'security-domain-quorum': '2',
      'security-domain-file': '@fresh'
    },
    /must list 3 to 10/
  ),
  reject(
    'a security-domain certificate that does not exist',
    {
      'security-domain-certificates': '@missing',
      'security-domain-quorum': '2',
      'security-domain-file': '@fresh'
    },
    /the file does not exist/
  ),
  refuse(
    'an HSM that does not exist',
    { 'hsm-name': 'hsm-nowhere' },
    /does not exist in resource group/
  ),
  refuse(
    'a region Azure Cosmos DB is not offered in',
    { location: 'marsnorth' },
    /Input 'location' is 'marsnorth': Azure Cosmos DB is not offered/
  ),
  refuse(
    'a cosmos-principal-id that is no principal',
    { 'cosmos-principal-id': '99999999-9999-9999-9999-999999999999' },
    /no service principal has that object id/
  ),
  refuse(
    'a cosmos-principal-id of another application',
    { 'cosmos-principal-id': defaultNames.clientObjectId },
    /not of Azure Cosmos DB/
  ),
  refuse(
    'a user-assigned identity that does not exist',
    { 'identity-mode': 'user-assigned', 'user-assigned-identity': 'id-nowhere' },
    /was not found/
  ),
  refuse(
    'an existing security-domain-file with create-hsm',
    {
      'hsm-name': 'hsm-brand-new',
      'create-hsm': 'true',
      'security-domain-certificates': '@certs',
      'security-domain-quorum': '2',
      'security-domain-file': '@existing'
    },
    /already exists/
  ),
  refuse(
    'rotate-key on a key without a rotation policy',
    { 'rotate-key': 'true' },
    /has no rotation policy/
  ),
  accept('upper-case GUIDs', { 'client-id': '@CLIENT', 'tenant-id': '@TENANT' }),
  accept('a region by display name', { location: 'West Europe' }),
  accept('tags with spaces and unicode', { tags: 'team = data platform, owner=zoë' }),
  accept('the longest account name', { 'account-name': `c${'x'.repeat(42)}1` }),
  accept('every action.yml default given explicitly', {
    'auth-type': 'oidc',
    environment: 'AzureCloud',
    'key-size': '3072',
    api: 'nosql',
    'identity-mode': 'first-party',
    'role-scope': 'key',
    mode: 'plan',
    'timeout-minutes': '60'
  }),
  accept('a user-assigned identity by resource id', {
    'identity-mode': 'user-assigned',
    'user-assigned-identity': defaultNames.userAssignedIdentityId
  }),
  accept('a rotation policy', { 'key-rotate-after': 'P90D', 'key-expire-after': 'P2Y' }),
  refuse(
    'verify of an account that does not exist',
    { mode: 'verify' },
    /Verify found \d+ problem/
  ),
  accept('mode plan-teardown', { mode: 'plan-teardown' }),
  accept('an api in another case of letters', { api: 'MongoDB' })
]

/** Placeholders for paths made in the test's folder. */
function resolve(value: string): string {
  switch (value) {
    case '@certs':
      return files.certs.join('\n')
    case '@one':
      return files.certs[0]
    case '@missing':
      return [...files.certs.slice(0, 2), join(dir, 'missing.pem')].join('\n')
    case '@fresh':
      return join(dir, `sd-${Math.random().toString(36).slice(2)}.json`)
    case '@existing':
      return files.existing
    case '@link':
      return files.link
    case '@CLIENT':
      return defaultNames.clientId.toUpperCase()
    case '@TENANT':
      return defaultNames.tenantId.toUpperCase()
    default:
      return value
  }
}

let lab: Lab
const saved = { ...process.env }

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hostile-inputs-'))
  const certs = await writeSecurityDomainCertificates(dir, 3)
  const existing = join(dir, 'existing-sd.json')
  writeFileSync(existing, '{"another":"security domain"}')
  const link = join(dir, 'link-sd.json')
  const { symlinkSync } = await import('node:fs')
  symlinkSync(join(dir, 'nowhere.json'), link)
  files = { certs, existing, link }
  // The pipeline ran before: the key exists and it may read it, so key checks need no grant.
  lab = await Lab.start(preparedScenario(s => withReadableKey(s)))
  trustEmulatorCa(lab.emulator.caCertPem)
})

afterAll(async () => {
  process.env = { ...saved }
  await lab?.stop()
  rmSync(dir, { recursive: true, force: true })
})

/** Runs the action in this process as a runner would, and answers its failure and its requests. */
async function runInProcess(c: InputCase) {
  const summary = join(dir, 'summary.md')
  const output = join(dir, 'output.txt')
  writeFileSync(summary, '')
  writeFileSync(output, '')
  const inputs = lab.inputs('hostile-inputs', undefined, c.inputs)
  process.env = { ...saved, ...lab.env, GITHUB_STEP_SUMMARY: summary, GITHUB_OUTPUT: output }
  for (const [name, value] of Object.entries(inputs)) {
    process.env[`INPUT_${name.toUpperCase()}`] = resolve(value)
  }
  const since = lab.emulator.requests().length
  const written: string[] = []
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation(chunk => {
    written.push(String(chunk))
    return true
  })
  try {
    await run(githubRunner(), { transport: { readTimeoutMs: 2_000, writeTimeoutMs: 2_000 } })
  } finally {
    spy.mockRestore()
  }
  const failed = written
    .join('')
    .split('\n')
    .find(line => line.startsWith('::error::'))
  return {
    failure: failed ? decodeURIComponent(failed.slice('::error::'.length)) : undefined,
    requests: lab.emulator.requests().slice(since),
    summary: readFileSync(summary, 'utf8')
  }
}

describe('hostile inputs', () => {
  test('the suite holds at least 150 input cases, each labelled', () => {
    expect(cases.length).toBeGreaterThanOrEqual(150)
    const counts = Object.fromEntries(
      (['reject-before-any-request', 'refuse-before-any-write', 'accept'] as const).map(l => [
        l,
        cases.filter(c => c.label === l).length
      ])
    )
    expect(counts['refuse-before-any-write']).toBeGreaterThan(0)
    expect(counts.accept).toBeGreaterThan(0)
  })

  test.each(cases.map(c => [c.label, c.name, c] as const))('%s: %s', async (label, _name, c) => {
    const { failure, requests, summary } = await runInProcess(c)
    if (label === 'accept') {
      expect(failure).toBeUndefined()
      expect(writes(requests)).toEqual([])
      return
    }
    expect(failure).toMatch(c.says!)
    expect(summary).not.toBe('')
    if (label === 'reject-before-any-request') expect(requests).toEqual([])
    else expect(writes(requests)).toEqual([])
  })
})
