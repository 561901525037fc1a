import type { EmuResponse } from '../../core/service.js'
import { requirePermission, requireRepository, type ApiRequest } from './caller.js'
import { docs, notFound } from './errors.js'
import { page, pullView } from './views.js'

type Params = Record<string, string>

/**
 * `GET /repos/{owner}/{repo}/pulls`: `state` (open, closed or all; default open), `head`
 * (`user:branch`, how a pull request from a fork is found), `base`; newest first, paginated.
 */
export function listPulls(r: ApiRequest, params: Params): EmuResponse {
  requireRepository(r, params, docs.listPulls)
  requirePermission(r, 'read', docs.listPulls)
  const q = r.ctx.req.query
  const state = q.get('state') ?? 'open'
  const head = q.get('head')?.toLowerCase()
  const base = q.get('base')?.toLowerCase()
  const pulls = Object.values(r.state.pullRequests)
    .filter(pr => state === 'all' || pr.state === state)
    .filter(pr => {
      const owner = pr.headRepository.split('/')[0]!.toLowerCase()
      if (!head) return true
      return head.includes(':') ? head === `${owner}:${pr.headRef.toLowerCase()}` : head === owner
    })
    .filter(pr => !base || pr.baseRef.toLowerCase() === base)
    .sort((a, b) => b.number - a.number)
  const api = r.ctx.origin
  const { items, headers } = page(pulls, q, api, `/repositories/${r.state.repositoryId}/pulls`)
  return { status: 200, headers, body: items.map(pr => pullView(pr, r.state, api)) }
}

/** `GET /repos/{owner}/{repo}/pulls/{number}` */
export function getPull(r: ApiRequest, params: Params): EmuResponse {
  requireRepository(r, params, docs.getPull)
  requirePermission(r, 'read', docs.getPull)
  const pr = r.state.pullRequests[params.number ?? '']
  if (!pr) throw notFound(docs.getPull)
  return { status: 200, body: pullView(pr, r.state, r.ctx.origin) }
}
