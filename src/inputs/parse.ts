import { dirname, resolve } from 'node:path'
import { parseSecurityDomainCertificate, type SecurityDomainCertificate } from '../certificates.js'
import { cloudNames, getCloud } from '../cloud.js'
import {
  GUID_RULE,
  guidPattern,
  InputError,
  InputReader,
  nodeFiles,
  type InputFiles,
  type InputSource
} from './reader.js'
import {
  apis,
  authTypes,
  bootstrapIdentities,
  hsmSkus,
  identityModes,
  keySizes,
  modes,
  roleScopes,
  userAssignedIdentityId,
  type Inputs,
  type ResourceRef
} from './settings.js'

const hsmNamePattern = /^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$/
const accountNamePattern = /^[a-z0-9][a-z0-9-]{1,42}[a-z0-9]$/
const ACCOUNT_NAME_RULE =
  'must be 3-44 characters: lowercase letters, digits and hyphens, not starting or ending with a hyphen'
const keyNamePattern = /^[a-zA-Z0-9-]{1,127}$/
const resourceGroupPattern = /^[-\w._()]{1,90}$/
const identityNamePattern = /^[a-zA-Z0-9][a-zA-Z0-9_-]{2,127}$/
const uaiIdPattern =
  /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/([^/]+)$/i
const RESOURCE_GROUP_RULE =
  'must be 1-90 characters: letters, digits, underscores, hyphens, periods and parentheses'

/**
 * Reads and validates every input before anything touches the network. All problems are
 * collected and reported together.
 */
export function parseInputs(source: InputSource, files: InputFiles = nodeFiles): Inputs {
  const r = new InputReader(source, files)
  const signIn = readSignIn(r)
  const where = readWhere(r)
  const hsm = readHsm(r, where.resourceGroup)
  const securityDomain = readSecurityDomain(r)
  const key = readKey(r)
  const mode = r.oneOf('mode', modes)
  const account = readAccount(r, where.location, mode)
  const identity = readIdentity(r, signIn, where.resourceGroup)
  const roleScope = r.oneOf('role-scope', roleScopes)
  const timeoutMinutes = r.integer('timeout-minutes', 1, 360) ?? 60
  const tags = readTags(r, 'tags')
  const teardown = readTeardown(r, mode, account.name)
  readModeConflicts(r, mode)
  if (account.others.length && !['apply', 'plan', 'verify'].includes(mode)) {
    r.fail(
      'account-name',
      `lists ${account.others.length + 1} accounts: mode '${mode}' takes one account (several are for apply, plan and verify)`
    )
  }
  const prComment = {
    enabled: r.bool('comment-on-pr'),
    token: r.raw('github-token') || undefined
  }
  if (r.problems.length) throw new InputError(r.problems)
  return {
    ...signIn,
    ...where,
    hsm,
    securityDomain,
    key,
    account,
    identity,
    roleScope,
    mode,
    timeoutMinutes,
    tags,
    teardown,
    prComment
  }
}

function readSignIn(r: InputReader): Pick<Inputs, 'auth' | 'environment' | 'subscriptionId'> {
  const type = r.oneOf('auth-type', authTypes)
  const environment = r.oneOf('environment', cloudNames)
  const oidc = type === 'oidc'
  const clientId = r.guid('client-id', oidc ? "when auth-type is 'oidc'" : undefined)
  const tenantId = r.guid('tenant-id', oidc ? "when auth-type is 'oidc'" : undefined)
  const subscriptionId = r.guid('subscription-id', '') ?? ''
  // The cloud's own audience unless one is given (GitHub passes '' for an unset input).
  const audience = r.raw('audience') || getCloud(environment).idTokenAudience
  if (r.given('audience') && !oidc) r.fail('audience', "is used only with auth-type 'oidc'")
  else if (!/^[a-z][a-z0-9+.-]*:[^\s]+$/i.test(audience)) {
    r.fail(
      'audience',
      "must be the audience of the federated credential, a URI like 'api://AzureADTokenExchange'"
    )
  }
  return { auth: { type, clientId, tenantId, audience }, environment, subscriptionId }
}

function readWhere(r: InputReader): Pick<Inputs, 'resourceGroup' | 'location'> {
  const resourceGroup = r.text('resource-group', resourceGroupPattern, RESOURCE_GROUP_RULE)
  if (resourceGroup.endsWith('.')) r.fail('resource-group', 'must not end with a period')
  const location = r.location(
    'location',
    r.raw('location'),
    'must be an Azure region name like westeurope'
  )
  return { resourceGroup, location }
}

function readHsm(r: InputReader, resourceGroup: string): Inputs['hsm'] {
  const name = r.text(
    'hsm-name',
    hsmNamePattern,
    'must be 3-24 characters, letters, digits and hyphens, starting with a letter and not ending with a hyphen'
  )
  if (name.includes('--')) r.fail('hsm-name', 'must not contain two hyphens in a row')
  const hsmResourceGroup = r.given('hsm-resource-group')
    ? r.text('hsm-resource-group', resourceGroupPattern, RESOURCE_GROUP_RULE)
    : resourceGroup
  if (r.given('hsm-resource-group') && hsmResourceGroup.endsWith('.')) {
    r.fail('hsm-resource-group', 'must not end with a period')
  }
  const create = r.bool('create-hsm')
  const administrators: string[] = []
  for (const id of r.list('hsm-administrators')) {
    if (!guidPattern.test(id)) {
      r.fail(
        'hsm-administrators',
        `every entry ${GUID_RULE} (object ids, separated by commas or new lines)`,
        id
      )
    } else if (!administrators.includes(id.toLowerCase())) {
      administrators.push(id.toLowerCase())
    }
  }
  if (administrators.length && !create) {
    r.problem(
      "Input 'hsm-administrators' is used only when create-hsm is true (it sets the new HSM's administrators)."
    )
  }
  for (const name of ['hsm-sku', 'hsm-retention-days'] as const) {
    if (r.given(name) && !create) {
      r.problem(`Input '${name}' is used only when create-hsm is true (it sets up the new HSM).`)
    }
  }
  return {
    name,
    resourceGroup: hsmResourceGroup,
    create,
    administrators,
    sku: r.oneOf('hsm-sku', hsmSkus),
    retentionDays: r.integer('hsm-retention-days', 7, 90) ?? 90,
    enablePurgeProtection: r.bool('enable-purge-protection'),
    allowArmKeyManagement: r.bool('allow-arm-key-management')
  }
}

function readSecurityDomain(r: InputReader): Inputs['securityDomain'] {
  const paths = r.list('security-domain-certificates')
  if (!paths.length) {
    if (r.given('security-domain-quorum') || r.given('security-domain-file')) {
      r.problem(
        "Inputs 'security-domain-quorum' and 'security-domain-file' apply only with 'security-domain-certificates'."
      )
    }
    return undefined
  }
  if (paths.length < 3 || paths.length > 10) {
    r.fail(
      'security-domain-certificates',
      `must list 3 to 10 PEM certificate files (it lists ${paths.length})`,
      paths.join(', ')
    )
  }
  const certificates = readCertificates(r, paths)
  let quorum = 0
  if (!r.given('security-domain-quorum')) {
    r.missing('security-domain-quorum', "with 'security-domain-certificates'")
  } else {
    quorum =
      r.integer(
        'security-domain-quorum',
        2,
        Math.max(2, paths.length),
        `must be a whole number from 2 to ${paths.length} (the number of certificates)`
      ) ?? 0
  }
  return { certificates, quorum, file: readSecurityDomainFile(r) }
}

function readCertificates(r: InputReader, paths: string[]): SecurityDomainCertificate[] {
  const certificates: SecurityDomainCertificate[] = []
  const listed = (path: string, what: string) =>
    r.problem(`Input 'security-domain-certificates' lists '${path}': ${what}.`)
  for (const path of paths) {
    const absolute = resolve(r.files.cwd(), path)
    if (!r.files.exists(absolute)) {
      listed(path, 'the file does not exist')
      continue
    }
    try {
      const cert = parseSecurityDomainCertificate(path, r.files.read(absolute))
      const twin = certificates.find(c => c.jwk['x5t#S256'] === cert.jwk['x5t#S256'])
      if (twin) listed(path, `it is the same certificate as '${twin.path}'`)
      else certificates.push(cert)
    } catch (error) {
      listed(path, (error as Error).message)
    }
  }
  return certificates
}

function readSecurityDomainFile(r: InputReader): string {
  if (!r.given('security-domain-file')) {
    r.missing(
      'security-domain-file',
      "with 'security-domain-certificates' (the encrypted security domain is written there)"
    )
    return ''
  }
  const file = resolve(r.files.cwd(), r.raw('security-domain-file'))
  if (r.files.isLink(file)) {
    r.fail(
      'security-domain-file',
      'is a symbolic link; the security domain is written to a new regular file only'
    )
  } else if (r.files.isDirectory(file)) {
    r.fail('security-domain-file', 'must be a file path, not a directory')
  } else if (!r.files.isDirectory(dirname(file))) {
    r.fail('security-domain-file', 'its folder does not exist')
  } else if (!r.files.isWritableFolder(dirname(file))) {
    r.fail('security-domain-file', 'its folder is not writable by this job')
  }
  return file
}

function readKey(r: InputReader): Inputs['key'] {
  return {
    name: r.text(
      'key-name',
      keyNamePattern,
      'must be 1-127 characters: letters, digits and hyphens'
    ),
    size: r.oneOf('key-size', keySizes),
    rotation: readRotation(r),
    rotateNow: r.bool('rotate-key')
  }
}

/** Managed HSM's rules: no rotation or expiry under 28 days, and a rotation that leaves margin. */
const MIN_POLICY_DAYS = 28

function readRotation(r: InputReader): Inputs['key']['rotation'] {
  const rotateAfter = r.raw('key-rotate-after')
  const expireAfter = r.raw('key-expire-after')
  if (!rotateAfter) {
    if (expireAfter) r.missing('key-rotate-after', "with 'key-expire-after'")
    return undefined
  }
  const rotateDays = durationDays(rotateAfter)
  if (rotateDays === undefined) {
    r.fail('key-rotate-after', 'must be an ISO 8601 duration like P90D, P3M or P1Y')
  } else if (rotateDays < MIN_POLICY_DAYS) {
    r.fail('key-rotate-after', `must be at least P${MIN_POLICY_DAYS}D (Managed HSM's minimum)`)
  }
  if (!expireAfter) return { rotateAfter: rotateAfter.toUpperCase() }
  const expireDays = durationDays(expireAfter)
  if (expireDays === undefined) {
    r.fail('key-expire-after', 'must be an ISO 8601 duration like P2Y or P365D')
  } else if (rotateDays !== undefined && expireDays - rotateDays < MIN_POLICY_DAYS) {
    r.fail(
      'key-expire-after',
      `must be at least ${MIN_POLICY_DAYS} days longer than key-rotate-after (${rotateAfter}), so that a new ` +
        'version exists well before the old one expires and Azure Cosmos DB (up to 24 hours) has moved to it'
    )
  }
  return { rotateAfter: rotateAfter.toUpperCase(), expireAfter: expireAfter.toUpperCase() }
}

/** The length of an ISO 8601 duration of years, months, weeks and days, in days (a month: 30). */
export function durationDays(value: string): number | undefined {
  const match = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$/i.exec(value)
  if (!match || value.length < 3) return undefined
  const [years, months, weeks, days] = match.slice(1).map(n => Number(n ?? 0))
  return years * 365 + months * 30 + weeks * 7 + days
}

/** Accounts one run works on at most; more belong to a matrix of jobs (README). */
export const MAX_ACCOUNTS = 200

function readAccountNames(r: InputReader, mode: Inputs['mode']): string[] {
  const entries = r.list('account-name')
  if (mode === 'prepare') {
    if (entries.length) {
      r.fail(
        'account-name',
        "is for the accounts' jobs: mode 'prepare' makes the HSM, the key and the shared grants, no account"
      )
    }
    return ['']
  }
  if (!entries.length) {
    r.missing('account-name')
    return ['']
  }
  if (entries.length === 1) {
    if (!accountNamePattern.test(entries[0])) r.fail('account-name', ACCOUNT_NAME_RULE)
    return entries
  }
  if (entries.length > MAX_ACCOUNTS) {
    r.fail(
      'account-name',
      `lists ${entries.length} accounts: one run takes at most ${MAX_ACCOUNTS}; split them over a matrix of jobs`,
      `${entries.slice(0, 3).join(', ')}, ...`
    )
  }
  const names: string[] = []
  for (const entry of entries) {
    if (!accountNamePattern.test(entry)) {
      r.fail('account-name', `every name ${ACCOUNT_NAME_RULE}`, entry)
    } else if (names.includes(entry)) r.fail('account-name', `lists ${entry} twice`, entry)
    else names.push(entry)
  }
  return names.length ? names : ['']
}

function readAccount(
  r: InputReader,
  location: string | undefined,
  mode: Inputs['mode']
): Inputs['account'] {
  const names = readAccountNames(r, mode)
  const concurrency =
    r.integer('account-concurrency', 1, 50, 'must be a whole number from 1 to 50') ?? 8
  const api = r.oneOf('api', apis)
  const locations: string[] = []
  for (const entry of r.list('account-locations')) {
    const normalised = r.location(
      'account-locations',
      entry,
      'every entry must be an Azure region name like westeurope'
    )
    if (normalised && locations.includes(normalised)) {
      r.fail('account-locations', `lists ${normalised} twice`, entry)
    } else if (normalised) locations.push(normalised)
  }
  if (!locations.length && location) locations.push(location)
  return {
    name: names[0],
    others: names.slice(1),
    concurrency,
    api,
    locations,
    enableOnExisting: r.bool('enable-on-existing'),
    keySwitch: r.bool('key-switch')
  }
}

function readIdentity(
  r: InputReader,
  { subscriptionId, environment }: Pick<Inputs, 'subscriptionId' | 'environment'>,
  resourceGroup: string
): Inputs['identity'] {
  // Where the Azure Cosmos DB application id is not confirmed, a user-assigned identity is the
  // default, so that no run depends on the first-party principal by accident.
  const firstPartyUnconfirmed = !getCloud(environment).cosmosDbApplicationIdConfirmed
  const chosen = !!r.raw('identity-mode')
  const mode = chosen
    ? r.oneOf('identity-mode', identityModes)
    : firstPartyUnconfirmed
      ? 'user-assigned'
      : 'first-party'
  const bootstrap = r.oneOf('bootstrap-identity', bootstrapIdentities)
  const removeBootstrapAssignment = r.bool('remove-bootstrap-assignment')
  const systemAssigned = mode === 'system-assigned'
  if (r.given('bootstrap-identity') && !systemAssigned) {
    r.problem("Input 'bootstrap-identity' applies only with identity-mode 'system-assigned'.")
  }
  if (removeBootstrapAssignment && !systemAssigned) {
    r.problem(
      "Input 'remove-bootstrap-assignment' applies only with identity-mode 'system-assigned'."
    )
  }
  const needsUai = mode === 'user-assigned' || (systemAssigned && bootstrap === 'user-assigned')
  let userAssignedIdentity: ResourceRef | undefined
  if (r.given('user-assigned-identity')) {
    userAssignedIdentity = readIdentityRef(r, subscriptionId, resourceGroup)
    if (!needsUai) {
      r.problem(
        "Input 'user-assigned-identity' applies only with identity-mode 'user-assigned', or with " +
          "identity-mode 'system-assigned' and bootstrap-identity 'user-assigned'."
      )
    }
  } else if (mode === 'user-assigned') {
    r.missing(
      'user-assigned-identity',
      !chosen
        ? `in ${environment}, where this action uses a user-assigned identity unless identity-mode says otherwise (the Azure Cosmos DB application id there is not confirmed)`
        : "when identity-mode is 'user-assigned'"
    )
  } else if (needsUai) {
    r.missing('user-assigned-identity', "when bootstrap-identity is 'user-assigned'")
  }
  const usesFirstParty = mode === 'first-party' || (systemAssigned && bootstrap === 'first-party')
  const cosmosPrincipalId = r.guid('cosmos-principal-id')
  if (cosmosPrincipalId && !usesFirstParty) {
    r.problem(
      "Input 'cosmos-principal-id' applies only when the Azure Cosmos DB first-party identity is used " +
        "(identity-mode 'first-party', or 'system-assigned' with bootstrap-identity 'first-party')."
    )
  }
  if (usesFirstParty && firstPartyUnconfirmed && !cosmosPrincipalId) {
    r.missing(
      'cosmos-principal-id',
      `with the first-party identity in ${environment}, where the Azure Cosmos DB application id is not ` +
        'confirmed, so its principal cannot be looked up: give its object id in your tenant'
    )
  }
  const appIds = new Set(cloudNames.map(name => getCloud(name).cosmosDbApplicationId))
  if (cosmosPrincipalId && appIds.has(cosmosPrincipalId)) {
    r.fail(
      'cosmos-principal-id',
      'is the Azure Cosmos DB application id, not the object id of its service principal in your tenant; get ' +
        `that with: az ad sp show --id ${cosmosPrincipalId} --query id -o tsv`
    )
  }
  return { mode, userAssignedIdentity, cosmosPrincipalId, bootstrap, removeBootstrapAssignment }
}

/** A user-assigned identity by resource id, or by name in the account's resource group. */
function readIdentityRef(
  r: InputReader,
  subscriptionId: string,
  resourceGroup: string
): ResourceRef | undefined {
  const value = r.raw('user-assigned-identity')
  const invalid = (rule: string) => {
    r.fail('user-assigned-identity', rule, value)
    return undefined
  }
  const match = uaiIdPattern.exec(value)
  if (match) {
    const [, sub, rg, name] = match
    if (!guidPattern.test(sub)) {
      return invalid('must be an identity name or a resource id with a GUID subscription')
    }
    const subscription = sub.toLowerCase()
    return {
      subscriptionId: subscription,
      resourceGroup: rg,
      name,
      id: userAssignedIdentityId(subscription, rg, name)
    }
  }
  if (value.startsWith('/')) {
    return invalid(
      'must be /subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>, or a name'
    )
  }
  if (!identityNamePattern.test(value)) {
    return invalid(
      'must be 3-128 characters: letters, digits, hyphens and underscores, starting with a letter or digit'
    )
  }
  return {
    subscriptionId,
    resourceGroup,
    name: value,
    id: userAssignedIdentityId(subscriptionId, resourceGroup, value)
  }
}

/** Azure allows 50 tags per resource; the action adds up to 3 of its own (see the runner). */
const MAX_TAGS = 47

function readTags(r: InputReader, input: 'tags' | 'protected-tags'): Record<string, string> {
  const tags: Record<string, string> = {}
  const entries = r.list(input)
  for (const entry of entries) {
    const eq = entry.indexOf('=')
    const key = eq < 0 ? '' : entry.slice(0, eq).trim()
    const value = eq < 0 ? '' : entry.slice(eq + 1).trim()
    // Azure compares tag names without case.
    const twin = Object.keys(tags).find(k => k.toLowerCase() === key.toLowerCase())
    if (!key || key.length > 512 || /[<>%&\\?/]/.test(key) || value.length > 256) {
      r.fail(
        input,
        'every entry must be key=value (key up to 512 characters without <>%&\\?/, value up to 256)',
        entry
      )
    } else if (twin !== undefined) {
      r.fail(input, `sets tag '${twin}' twice (tag names are not case-sensitive)`, entry)
    } else tags[key] = value
  }
  if (input === 'tags' && entries.length > MAX_TAGS) {
    r.problem(
      `Input 'tags' lists ${entries.length} tags: Azure allows 50 per resource and the action adds up to 3 of ` +
        `its own (created-by, github-repository, github-run-url), so at most ${MAX_TAGS}.`
    )
  }
  return tags
}

function readTeardown(
  r: InputReader,
  mode: Inputs['mode'],
  accountName: string
): Inputs['teardown'] {
  const confirm = r.raw('confirm-teardown') || undefined
  if (mode === 'plan-teardown') {
    if (confirm && accountName && confirm !== accountName) {
      r.fail(
        'confirm-teardown',
        `must be the account name '${accountName}' to confirm its deletion`
      )
    }
  } else if (mode === 'teardown') {
    if (!confirm)
      r.missing('confirm-teardown', "with mode 'teardown' (the account name, to confirm)")
    else if (accountName && confirm !== accountName) {
      r.fail(
        'confirm-teardown',
        `must be the account name '${accountName}' to confirm its deletion`
      )
    }
  } else if (confirm) {
    r.problem("Input 'confirm-teardown' applies only with mode 'teardown'.")
  }
  return { confirm, protectedTags: readTags(r, 'protected-tags') }
}

/** Inputs that ask for a write in a mode that makes none (verify) or only deletes (teardown). */
function readModeConflicts(r: InputReader, mode: Inputs['mode']): void {
  if (mode === 'apply' || mode === 'plan') return
  if (mode === 'prepare') {
    for (const name of [
      'enable-on-existing',
      'key-switch',
      'remove-bootstrap-assignment'
    ] as const) {
      if (r.given(name)) {
        r.problem(
          `Input '${name}' is about accounts, which mode 'prepare' never touches: set it on the accounts' jobs.`
        )
      }
    }
    return
  }
  const writes = [
    'create-hsm',
    'enable-purge-protection',
    'allow-arm-key-management',
    'enable-on-existing',
    'key-switch',
    'rotate-key'
  ] as const
  for (const name of writes) {
    if (r.given(name)) {
      r.problem(
        `Input '${name}' asks for a change, which mode '${mode}' never makes` +
          (mode === 'verify' ? ' (it reads and writes nothing).' : ' (teardown only deletes).')
      )
    }
  }
}
