import type { Scenario } from '../core/scenario-types.js'

/** The GitHub Actions job the emulated OIDC issuer signs ID tokens for. */
export interface GitHubWorkflow {
  /** e.g. `repo:contoso/cosmos-cmk:ref:refs/heads/main` */
  subject: string
  /** `owner/repo` */
  repository: string
  /** What the job presents to ACTIONS_ID_TOKEN_REQUEST_URL as a bearer token. */
  requestToken: string
}

const DEFAULT_GITHUB_SUBJECT = 'repo:contoso/cosmos-cmk:ref:refs/heads/main'

export function repositoryOf(subject: string): string | undefined {
  return /^repo:([^/:]+\/[^:]+):/.exec(subject)?.[1]
}

export function workflowFromScenario(
  scenario: Scenario,
  generatedRequestToken: string
): GitHubWorkflow {
  const subject = scenario.github?.subject ?? DEFAULT_GITHUB_SUBJECT
  return {
    subject,
    repository: scenario.github?.repository ?? repositoryOf(subject) ?? 'contoso/cosmos-cmk',
    requestToken: scenario.github?.requestToken ?? generatedRequestToken
  }
}
