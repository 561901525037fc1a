import type { EmuResponse } from '../../core/service.js'
import type { GitHubIssueComment } from '../../core/world.js'
import { parseJsonObject } from '../../core/errors.js'
import { addComment } from '../../model/github-repository.js'
import { requirePermission, requireRepository, type ApiRequest } from './caller.js'
import { docs, githubError, notFound, validationFailed } from './errors.js'
import { commentView, page } from './views.js'

type Params = Record<string, string>

/** GitHub's limit on the body of an issue comment. */
const MAX_BODY = 65_536

/** The pull request a path names (comments are served on pull requests only). */
function pullRequestNumber(r: ApiRequest, params: Params, documentation: string): number {
  const n = Number(params.number)
  if (!Number.isInteger(n) || !r.state.pullRequests[String(n)]) throw notFound(documentation)
  return n
}

function commentBody(r: ApiRequest, documentation: string): string {
  const parsed = parseJsonObject(r.ctx.req.body, false)
  if (!parsed.ok) {
    throw githubError(400, `Problems parsing JSON: ${parsed.detail}`, documentation)
  }
  const body = parsed.value.body
  if (typeof body !== 'string') {
    throw githubError(422, `Invalid request.\n\n"body" wasn't supplied.`, documentation)
  }
  if (body.length > MAX_BODY) {
    throw validationFailed(
      {
        resource: 'IssueComment',
        field: 'data',
        code: 'unprocessable',
        message: `Body is too long (maximum is ${MAX_BODY} characters)`
      },
      documentation
    )
  }
  return body
}

/** `GET /repos/{owner}/{repo}/issues/{number}/comments`, oldest first, paginated. */
export function listComments(r: ApiRequest, params: Params): EmuResponse {
  requireRepository(r, params, docs.listComments)
  requirePermission(r, 'read', docs.listComments)
  const number = pullRequestNumber(r, params, docs.listComments)
  const since = Date.parse(r.ctx.req.query.get('since') ?? '')
  const comments = r.state.comments.filter(c => c.issueNumber === number && !(c.updatedAt < since))
  const api = r.ctx.origin
  const { items, headers } = page(
    comments,
    r.ctx.req.query,
    api,
    `/repositories/${r.state.repositoryId}/issues/${number}/comments`
  )
  return { status: 200, headers, body: items.map(c => commentView(c, r.state, api)) }
}

/** `POST /repos/{owner}/{repo}/issues/{number}/comments` */
export function createComment(r: ApiRequest, params: Params): EmuResponse {
  requireRepository(r, params, docs.createComment)
  const number = pullRequestNumber(r, params, docs.createComment)
  requirePermission(r, 'write', docs.createComment)
  const body = commentBody(r, docs.createComment)
  const comment = addComment(r.state, number, body, r.caller.user, r.ctx.now())
  const view = commentView(comment, r.state, r.ctx.origin)
  return { status: 201, headers: { location: view.url }, body: view }
}

function commentOf(r: ApiRequest, params: Params, documentation: string): GitHubIssueComment {
  const comment = r.state.comments.find(c => String(c.id) === params.comment)
  if (!comment) throw notFound(documentation)
  return comment
}

/** `GET /repos/{owner}/{repo}/issues/comments/{id}` */
export function getComment(r: ApiRequest, params: Params): EmuResponse {
  requireRepository(r, params, docs.getComment)
  requirePermission(r, 'read', docs.getComment)
  const comment = commentOf(r, params, docs.getComment)
  return { status: 200, body: commentView(comment, r.state, r.ctx.origin) }
}

/** `PATCH /repos/{owner}/{repo}/issues/comments/{id}` */
export function updateComment(r: ApiRequest, params: Params): EmuResponse {
  requireRepository(r, params, docs.updateComment)
  const comment = commentOf(r, params, docs.updateComment)
  requirePermission(r, 'write', docs.updateComment)
  comment.body = commentBody(r, docs.updateComment)
  comment.updatedAt = r.ctx.now()
  return { status: 200, body: commentView(comment, r.state, r.ctx.origin) }
}
