/**
 * The run's result as one pull-request comment, updated in place by later runs: which pull request
 * (target), which comment (marker), GitHub's REST API within its rate limits (github-api,
 * rate-limit), what the comment says (render) and publishing it (publish).
 */
export {
  publishRunComment,
  PullRequestCommentError,
  GITHUB_ACTIONS_LOGIN,
  type PublishOutcome,
  type PublishResult,
  type PublishRunCommentOptions
} from './publish.js'
export {
  commentMarker,
  commentBody,
  carriesMarker,
  MAX_COMMENT_LENGTH,
  type CommentKey
} from './marker.js'
export { renderPlanComment, irreversibleReason, runLink, type RunCommentInput } from './render.js'
export { commentTarget, type CommentTarget, type RunContext, type RepoRef } from './target.js'
export {
  octokitCommentApi,
  GitHubApiError,
  type CommentApi,
  type IssueComment,
  type OctokitApiOptions,
  type PullRequestRef
} from './github-api.js'
export { RateLimitGate, RateLimitedError, type RateLimitOptions } from './rate-limit.js'
