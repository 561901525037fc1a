import { randomInt } from 'node:crypto'
import type { Scenario } from '../core/scenario-types.js'

/** The GitHub Actions job the emulated OIDC issuer signs ID tokens for. */
export interface GitHubWorkflow {
  /** e.g. `repo:contoso/cosmos-cmk:ref:refs/heads/main` */
  subject: string
  /** `owner/repo` */
  repository: string
  /** What the job presents to ACTIONS_ID_TOKEN_REQUEST_URL as a bearer token. */
  requestToken: string
  /** The job's GITHUB_TOKEN for the REST API. */
  token: string
}

const DEFAULT_GITHUB_SUBJECT = 'repo:contoso/cosmos-cmk:ref:refs/heads/main'

export function repositoryOf(subject: string): string | undefined {
  return /^repo:([^/:]+\/[^:]+):/.exec(subject)?.[1]
}

export function workflowFromScenario(
  scenario: Scenario,
  generatedRequestToken: string,
  generatedToken = ''
): GitHubWorkflow {
  const subject = scenario.github?.subject ?? DEFAULT_GITHUB_SUBJECT
  return {
    subject,
    repository: scenario.github?.repository ?? repositoryOf(subject) ?? 'contoso/cosmos-cmk',
    requestToken: scenario.github?.requestToken ?? generatedRequestToken,
    token: scenario.github?.token ?? generatedToken
  }
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

/** A new token in the shape of a GitHub App installation token (what GITHUB_TOKEN is): `ghs_` + 36. */
export function newInstallationToken(): string {
  let token = 'ghs_'
  for (let i = 0; i < 36; i++) token += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)]
  return token
}
