import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { FaultRule, Scenario } from './scenario-types.js'
import { timingProblems } from './timing.js'

export class ScenarioError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid scenario: ${problems.join('; ')}`)
    this.name = 'ScenarioError'
  }
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** emulator/scenarios/default.json, found from this module (not from the working directory). */
export const DEFAULT_SCENARIO_PATH = fileURLToPath(
  new URL('../../scenarios/default.json', import.meta.url)
)

/** A fresh, validated copy of the default scenario. */
export function defaultScenario(): Scenario {
  return loadScenarioFile(DEFAULT_SCENARIO_PATH)
}

export function loadScenarioFile(path: string): Scenario {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (e) {
    throw new ScenarioError([`cannot read ${path}: ${(e as Error).message}`])
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (e) {
    throw new ScenarioError([`${path} is not valid JSON: ${(e as Error).message}`])
  }
  return validateScenario(value)
}

/** Checks the parts of a scenario the platform relies on; throws a ScenarioError listing problems. */
export function validateScenario(value: unknown): Scenario {
  const problems: string[] = []
  if (!isObject(value)) throw new ScenarioError(['a scenario must be a JSON object'])
  if (typeof value.tenantId !== 'string' || !GUID.test(value.tenantId)) {
    problems.push('tenantId must be a GUID')
  }
  if (value.seed !== undefined && !Number.isInteger(value.seed))
    problems.push('seed must be an integer')
  if (!Array.isArray(value.subscriptions)) {
    problems.push('subscriptions must be an array')
  } else {
    value.subscriptions.forEach((s: unknown, i) => {
      if (!isObject(s) || typeof s.subscriptionId !== 'string' || !GUID.test(s.subscriptionId)) {
        problems.push(`subscriptions[${i}].subscriptionId must be a GUID`)
      } else if (s.resourceGroups !== undefined && !Array.isArray(s.resourceGroups)) {
        problems.push(`subscriptions[${i}].resourceGroups must be an array`)
      } else {
        ;((s.resourceGroups as unknown[] | undefined) ?? []).forEach((rg, j) => {
          if (!isObject(rg) || typeof rg.name !== 'string' || typeof rg.location !== 'string') {
            problems.push(`subscriptions[${i}].resourceGroups[${j}] needs a name and a location`)
          }
        })
      }
    })
  }
  optionalArray(value, 'applications', problems).forEach((a, i) => {
    if (!isObject(a) || typeof a.appId !== 'string' || !GUID.test(a.appId)) {
      problems.push(`applications[${i}].appId must be a GUID`)
      return
    }
    if (typeof a.displayName !== 'string')
      problems.push(`applications[${i}].displayName is required`)
    optionalArray(a, 'federatedCredentials', problems, `applications[${i}].`).forEach((fc, j) => {
      if (!isObject(fc) || typeof fc.issuer !== 'string' || typeof fc.subject !== 'string') {
        problems.push(`applications[${i}].federatedCredentials[${j}] needs an issuer and a subject`)
      }
    })
  })
  optionalArray(value, 'servicePrincipals', problems).forEach((sp, i) => {
    if (!isObject(sp) || typeof sp.appId !== 'string' || typeof sp.displayName !== 'string') {
      problems.push(`servicePrincipals[${i}] needs an appId and a displayName`)
    }
  })
  if (value.timing !== undefined) {
    problems.push(...timingProblems(value.timing).map(p => `timing: ${p}`))
  }
  if (value.faults !== undefined) {
    if (!Array.isArray(value.faults)) problems.push('faults must be an array')
    else problems.push(...faultRuleProblems(value.faults).map(p => `faults: ${p}`))
  }
  if (value.github !== undefined) {
    if (!isObject(value.github) || typeof value.github.subject !== 'string') {
      problems.push('github.subject must be a string')
    }
    if (isObject(value.github)) {
      problems.push(...githubApiProblems(value.github).map(p => `github.${p}`))
    }
  }
  if (value.azureDevOps !== undefined) problems.push(...azureDevOpsProblems(value.azureDevOps))
  if (problems.length) throw new ScenarioError(problems)
  return value as unknown as Scenario
}

function azureDevOpsProblems(d: unknown): string[] {
  if (!isObject(d)) return ['azureDevOps must be an object']
  const problems: string[] = []
  for (const key of ['organization', 'project'] as const) {
    if (typeof d[key] !== 'string' || !d[key]) problems.push(`azureDevOps.${key} must be a name`)
  }
  for (const key of ['organizationId', 'projectId'] as const) {
    if (typeof d[key] !== 'string' || !GUID.test(d[key] as string)) {
      problems.push(`azureDevOps.${key} must be a GUID`)
    }
  }
  optionalArray(d, 'serviceConnections', problems, 'azureDevOps.').forEach((c, i) => {
    const at = `azureDevOps.serviceConnections[${i}]`
    if (!isObject(c) || typeof c.id !== 'string' || !GUID.test(c.id)) {
      problems.push(`${at}.id must be a GUID`)
    } else if (typeof c.name !== 'string' || typeof c.appId !== 'string' || !GUID.test(c.appId)) {
      problems.push(`${at} needs a name and an appId (GUID)`)
    } else if (c.issuer !== undefined && c.issuer !== 'entra' && c.issuer !== 'azure-devops') {
      problems.push(`${at}.issuer must be 'entra' or 'azure-devops'`)
    }
  })
  return problems
}

const FAULT_KINDS = ['throttle', 'server-error', 'reset', 'stall']

function faultRuleProblems(rules: unknown[]): string[] {
  const problems: string[] = []
  rules.forEach((r, i) => {
    const at = `rule ${i}`
    if (!isObject(r)) {
      problems.push(`${at} must be an object`)
      return
    }
    if (typeof r.kind !== 'string' || !FAULT_KINDS.includes(r.kind)) {
      problems.push(`${at}: kind must be one of ${FAULT_KINDS.join(', ')}`)
    }
    if (typeof r.rate !== 'number' || r.rate < 0 || r.rate > 1) {
      problems.push(`${at}: rate must be a number from 0 to 1`)
    }
    for (const key of ['host', 'method', 'path'] as const) {
      if (r[key] !== undefined && typeof r[key] !== 'string')
        problems.push(`${at}: ${key} must be a string`)
    }
    if (typeof r.path === 'string') {
      try {
        new RegExp(r.path)
      } catch {
        problems.push(`${at}: path is not a valid regular expression`)
      }
    }
    if (r.status !== undefined && ![500, 502, 503, 504].includes(r.status as number)) {
      problems.push(`${at}: status must be 500, 502, 503 or 504`)
    }
    for (const key of ['retryAfterSeconds', 'stallMs', 'maxCount'] as const) {
      if (r[key] !== undefined && (typeof r[key] !== 'number' || (r[key] as number) < 0)) {
        problems.push(`${at}: ${key} must be a number >= 0`)
      }
    }
  })
  return problems
}

export function validateFaultRules(value: unknown): FaultRule[] {
  const rules = isObject(value) && Array.isArray(value.rules) ? value.rules : value
  if (!Array.isArray(rules))
    throw new ScenarioError(['faults must be an array of rules or {"rules": [...]}'])
  const problems = faultRuleProblems(rules)
  if (problems.length) throw new ScenarioError(problems)
  return rules as FaultRule[]
}

const GITHUB_PERMISSIONS = ['write', 'read', 'none']
const GITHUB_RATE_LIMIT_NUMBERS = [
  'limit',
  'windowSeconds',
  'writesPerMinute',
  'secondaryRetryAfterSeconds'
]

/**
 * The problems of the REST API part of a scenario's `github` section (token, permissions, pull
 * requests, comments, rate limits); the admin API checks its changes with it too.
 */
export function githubApiProblems(github: Record<string, unknown>): string[] {
  const problems: string[] = []
  if (github.token !== undefined && (typeof github.token !== 'string' || !github.token.trim())) {
    problems.push('token must be a non-empty string')
  }
  if (github.tokenPermission !== undefined && !isGitHubPermission(github.tokenPermission)) {
    problems.push(`tokenPermission must be one of ${GITHUB_PERMISSIONS.join(', ')}`)
  }
  optionalArray(github, 'userTokens', problems).forEach((t, i) => {
    if (!isObject(t) || !nonEmptyString(t.token) || !nonEmptyString(t.login)) {
      problems.push(`userTokens[${i}] needs a token and a login`)
    } else if (t.permission !== undefined && !isGitHubPermission(t.permission)) {
      problems.push(`userTokens[${i}].permission must be one of ${GITHUB_PERMISSIONS.join(', ')}`)
    }
  })
  const numbers = new Set<unknown>()
  optionalArray(github, 'pullRequests', problems).forEach((pr, i) => {
    const at = `pullRequests[${i}]`
    if (!isObject(pr) || !Number.isInteger(pr.number) || (pr.number as number) < 1) {
      problems.push(`${at}.number must be a positive integer`)
      return
    }
    numbers.add(pr.number)
    for (const key of ['title', 'author', 'headRef', 'baseRef'] as const) {
      if (pr[key] !== undefined && !nonEmptyString(pr[key])) {
        problems.push(`${at}.${key} must be a non-empty string`)
      }
    }
    if (pr.state !== undefined && pr.state !== 'open' && pr.state !== 'closed') {
      problems.push(`${at}.state must be open or closed`)
    }
    if (
      pr.headRepository !== undefined &&
      (typeof pr.headRepository !== 'string' || !/^[^/\s]+\/[^/\s]+$/.test(pr.headRepository))
    ) {
      problems.push(`${at}.headRepository must be OWNER/REPO`)
    }
    if (
      pr.headSha !== undefined &&
      (typeof pr.headSha !== 'string' || !/^[0-9a-f]{40}$/i.test(pr.headSha))
    ) {
      problems.push(`${at}.headSha must be 40 hex digits`)
    }
  })
  optionalArray(github, 'comments', problems).forEach((c, i) => {
    if (!isObject(c) || typeof c.body !== 'string' || !numbers.has(c.issue)) {
      problems.push(`comments[${i}] needs a body and the number of one of the pull requests`)
    } else if (c.login !== undefined && !nonEmptyString(c.login)) {
      problems.push(`comments[${i}].login must be a non-empty string`)
    }
  })
  if (github.rateLimit !== undefined) {
    problems.push(...githubRateLimitProblems(github.rateLimit).map(p => `rateLimit: ${p}`))
  }
  return problems
}

/** The problems of a (partial) GitHub rate-limit settings object. */
export function githubRateLimitProblems(value: unknown): string[] {
  if (!isObject(value)) return ['must be a JSON object']
  const problems: string[] = []
  for (const [key, v] of Object.entries(value)) {
    if (key === 'status') {
      if (v !== 403 && v !== 429) problems.push('status must be 403 or 429')
    } else if (GITHUB_RATE_LIMIT_NUMBERS.includes(key)) {
      const least = key === 'windowSeconds' ? 1 : 0
      if (!Number.isInteger(v) || (v as number) < least) {
        problems.push(`${key} must be an integer >= ${least}`)
      }
    } else {
      problems.push(`unknown field '${key}'`)
    }
  }
  return problems
}

function isGitHubPermission(v: unknown): boolean {
  return typeof v === 'string' && GITHUB_PERMISSIONS.includes(v)
}

function nonEmptyString(v: unknown): v is string {
  return typeof v === 'string' && v.trim() !== ''
}

function optionalArray(
  obj: Record<string, unknown>,
  key: string,
  problems: string[],
  prefix = ''
): unknown[] {
  const v = obj[key]
  if (v === undefined) return []
  if (!Array.isArray(v)) {
    problems.push(`${prefix}${key} must be an array`)
    return []
  }
  return v
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
