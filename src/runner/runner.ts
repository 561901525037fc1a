/**
 * What the provisioning core needs from the CI system it runs in. GitHub Actions implements it in
 * github.ts; another CI system (e.g. an Azure Pipelines task) can implement the same interface.
 */
export interface Runner {
  /** The input's value, trimmed; '' when not set. */
  getInput(name: string): string
  setOutput(name: string, value: string): void
  info(message: string): void
  warning(message: string): void
  error(message: string): void
  debug(message: string): void
  group<T>(name: string, fn: () => Promise<T>): Promise<T>
  /** Masks the value in every later log line. */
  setSecret(value: string): void
  /** A fresh OIDC ID token of the workflow run for the audience. */
  getIdToken(audience: string): Promise<string>
  /** Appends markdown to the run's summary page. */
  summary(markdown: string): Promise<void>
  setFailed(message: string): void
  /** Tags that tie a created resource to the run that created it. */
  resourceTags(): Record<string, string>
  /**
   * Posts (or updates) the run's one comment on the pull request it runs for, where the CI system
   * has pull requests; absent where it has none.
   */
  commentOnPullRequest?(comment: PullRequestComment): Promise<CommentOutcome>
}

export interface PullRequestComment {
  token?: string
  markdown: string
  /** One comment per account and environment. */
  account: string
  environment: string
}

export interface CommentOutcome {
  outcome: 'created' | 'updated' | 'skipped' | 'read-only'
  url?: string
  /** Why nothing was written, for the log and the summary. */
  reason?: string
}
