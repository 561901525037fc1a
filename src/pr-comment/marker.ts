/** Which run comment: one per Cosmos DB account and GitHub environment on a pull request. */
export interface CommentKey {
  account: string
  /** The job's GitHub environment; '' or absent when it has none. */
  environment?: string
}

/** GitHub's limit on a comment's body. */
export const MAX_COMMENT_LENGTH = 65_536

const TRUNCATED = '\n\n… (cut short to fit in a comment; the job summary has all of it)'

/** Lower case and percent-encoded, `-` too, so that no value can end the HTML comment (`--`, `>`). */
function encode(value: string): string {
  return encodeURIComponent(value.trim().toLowerCase()).replace(/-/g, '%2D')
}

/**
 * The hidden first line of the run comment for `key`. GitHub environment names are
 * case-insensitive and Azure account names lower case, so the marker is too.
 */
export function commentMarker(key: CommentKey): string {
  return (
    `<!-- cosmos-cmk-hsm-action:run-comment account=${encode(key.account)} ` +
    `environment=${encode(key.environment ?? '')} -->`
  )
}

/** The comment's body: the marker on the first line, then the markdown, cut to GitHub's limit. */
export function commentBody(key: CommentKey, markdown: string): string {
  const head = `${commentMarker(key)}\n`
  const room = MAX_COMMENT_LENGTH - head.length
  const text =
    markdown.length <= room ? markdown : markdown.slice(0, room - TRUNCATED.length) + TRUNCATED
  return head + text
}

/**
 * Whether a comment body is the run comment for `key`: the marker must be the whole first line, so
 * that a comment quoting or mentioning it is not taken (its author is checked too).
 */
export function carriesMarker(body: string, key: CommentKey): boolean {
  const firstLine = body.split('\n', 1)[0]!.replace(/\r$/, '')
  return firstLine === commentMarker(key)
}
