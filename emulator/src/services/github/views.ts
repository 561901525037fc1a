import type {
  GitHubIssueComment,
  GitHubPullRequest,
  GitHubState,
  GitHubUser
} from '../../core/world.js'
import { GITHUB_ACTIONS_BOT, githubUser } from '../../model/github-repository.js'

const WEB = 'https://github.com'

/** GitHub's timestamps: ISO 8601 in UTC, whole seconds. */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

function nodeId(prefix: string, id: number): string {
  return `${prefix}_kwDO${Buffer.from(String(id)).toString('base64url')}`
}

export function userView(user: GitHubUser, api: string) {
  return {
    login: user.login,
    id: user.id,
    node_id: nodeId(user.type === 'Bot' ? 'BOT' : 'U', user.id),
    avatar_url: `https://avatars.githubusercontent.com/u/${user.id}?v=4`,
    url: `${api}/users/${encodeURIComponent(user.login)}`,
    html_url:
      user.type === 'Bot'
        ? `${WEB}/apps/${user.login.replace(/\[bot\]$/, '')}`
        : `${WEB}/${user.login}`,
    type: user.type,
    site_admin: false
  }
}

const GITHUB_ACTIONS_APP = {
  id: 15368,
  slug: 'github-actions',
  node_id: 'MDM6QXBwMTUzNjg=',
  name: 'GitHub Actions',
  description: 'Automate your workflow from idea to production',
  external_url: 'https://help.github.com/en/actions',
  html_url: `${WEB}/apps/github-actions`
}

export function commentView(c: GitHubIssueComment, state: GitHubState, api: string) {
  const repo = state.repository
  return {
    url: `${api}/repos/${repo}/issues/comments/${c.id}`,
    html_url: `${WEB}/${repo}/pull/${c.issueNumber}#issuecomment-${c.id}`,
    issue_url: `${api}/repos/${repo}/issues/${c.issueNumber}`,
    id: c.id,
    node_id: nodeId('IC', c.id),
    user: userView(c.user, api),
    created_at: isoSeconds(c.createdAt),
    updated_at: isoSeconds(c.updatedAt),
    author_association: c.user.type === 'Bot' ? 'NONE' : 'CONTRIBUTOR',
    body: c.body,
    performed_via_github_app: c.user.login === GITHUB_ACTIONS_BOT.login ? GITHUB_ACTIONS_APP : null
  }
}

function repositoryView(fullName: string, state: GitHubState, api: string) {
  const [owner = '', name = ''] = fullName.split('/')
  const own = fullName.toLowerCase() === state.repository.toLowerCase()
  return {
    id: own ? state.repositoryId : githubUser(fullName).id,
    name,
    full_name: fullName,
    owner: userView(githubUser(owner), api),
    private: false,
    fork: !own,
    url: `${api}/repos/${fullName}`,
    html_url: `${WEB}/${fullName}`
  }
}

export function pullView(pr: GitHubPullRequest, state: GitHubState, api: string) {
  const repo = state.repository
  const headOwner = pr.headRepository.split('/')[0] ?? ''
  const baseOwner = repo.split('/')[0] ?? ''
  return {
    url: `${api}/repos/${repo}/pulls/${pr.number}`,
    id: state.repositoryId * 10 + pr.number,
    node_id: nodeId('PR', pr.number),
    html_url: `${WEB}/${repo}/pull/${pr.number}`,
    issue_url: `${api}/repos/${repo}/issues/${pr.number}`,
    comments_url: `${api}/repos/${repo}/issues/${pr.number}/comments`,
    number: pr.number,
    state: pr.state,
    locked: false,
    title: pr.title,
    user: userView(pr.user, api),
    body: null,
    created_at: isoSeconds(pr.createdAt),
    updated_at: isoSeconds(pr.createdAt),
    closed_at: null,
    merged_at: null,
    draft: false,
    head: {
      label: `${headOwner}:${pr.headRef}`,
      ref: pr.headRef,
      sha: pr.headSha,
      user: userView(githubUser(headOwner), api),
      repo: repositoryView(pr.headRepository, state, api)
    },
    base: {
      label: `${baseOwner}:${pr.baseRef}`,
      ref: pr.baseRef,
      user: userView(githubUser(baseOwner), api),
      repo: repositoryView(repo, state, api)
    }
  }
}

/**
 * One page of a list, GitHub style: `per_page` (default 30, at most 100) and `page` (from 1), and
 * a `Link` header with the pages around it. Links point at `canonicalPath` with the request's other
 * query parameters, as GitHub's point at `/repositories/{id}/...`.
 */
export function page<T>(
  items: T[],
  query: URLSearchParams,
  origin: string,
  canonicalPath: string
): { items: T[]; headers: Record<string, string> } {
  const asked = Number(query.get('per_page'))
  const perPage = Number.isInteger(asked) && asked >= 1 ? Math.min(asked, 100) : 30
  const requested = Number(query.get('page'))
  const current = Number.isInteger(requested) && requested >= 1 ? requested : 1
  const last = Math.max(1, Math.ceil(items.length / perPage))
  const link = (n: number, rel: string) => {
    const q = new URLSearchParams(query)
    q.set('page', String(n))
    return `<${origin}${canonicalPath}?${q.toString()}>; rel="${rel}"`
  }
  const links: string[] = []
  if (current > 1) links.push(link(Math.min(current - 1, last), 'prev'))
  if (current < last) links.push(link(current + 1, 'next'), link(last, 'last'))
  if (current > 1) links.push(link(1, 'first'))
  return {
    items: items.slice((current - 1) * perPage, current * perPage),
    headers: links.length ? { link: links.join(', ') } : {}
  }
}
