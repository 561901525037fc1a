import { AzureError } from '../../core/errors.js'

const DOCS = 'https://docs.github.com/rest'

/** GitHub's error shape: `{message, documentation_url, status}` (the status as a string). */
export function githubError(
  status: number,
  message: string,
  documentation = DOCS,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {}
): AzureError {
  return new AzureError({
    status,
    headers,
    body: { message, documentation_url: documentation, ...extra, status: String(status) }
  })
}

export const docs = {
  listComments: `${DOCS}/issues/comments#list-issue-comments`,
  createComment: `${DOCS}/issues/comments#create-an-issue-comment`,
  updateComment: `${DOCS}/issues/comments#update-an-issue-comment`,
  getComment: `${DOCS}/issues/comments#get-an-issue-comment`,
  listPulls: `${DOCS}/pulls/pulls#list-pull-requests`,
  getPull: `${DOCS}/pulls/pulls#get-a-pull-request`,
  user: `${DOCS}/users/users#get-the-authenticated-user`,
  rateLimits: `${DOCS}/using-the-rest-api/rate-limits-for-the-rest-api`,
  secondaryRateLimits: `${DOCS}/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits`
}

/** A request the caller may not make with its token's permissions. */
export function notAccessible(installation: boolean, documentation: string): AzureError {
  return githubError(
    403,
    `Resource not accessible by ${installation ? 'integration' : 'personal access token'}`,
    documentation
  )
}

export function notFound(documentation = DOCS): AzureError {
  return githubError(404, 'Not Found', documentation)
}

/** GitHub's 422 for a field that is missing or not valid. */
export function validationFailed(
  error: { resource: string; field: string; code: string; message: string },
  documentation: string
): AzureError {
  return githubError(422, 'Validation Failed', documentation, { errors: [error] })
}
