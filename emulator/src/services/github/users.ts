import type { EmuResponse } from '../../core/service.js'
import type { ApiRequest } from './caller.js'
import { docs, notAccessible } from './errors.js'
import { rateLimitView } from './rate-limit.js'
import { isoSeconds, userView } from './views.js'

/** `GET /user`: the token's user; an installation token (GITHUB_TOKEN) has none and gets 403. */
export function authenticatedUser(r: ApiRequest): EmuResponse {
  if (r.caller.installation) throw notAccessible(true, docs.user)
  return {
    status: 200,
    body: {
      ...userView(r.caller.user, r.ctx.origin),
      name: null,
      created_at: isoSeconds(Date.UTC(2020, 0, 1))
    }
  }
}

/** `GET /rate_limit` (not counted against the limit, as on GitHub). */
export function rateLimit(r: ApiRequest): EmuResponse {
  const core = { ...rateLimitView(r.state, r.caller.bucket, r.ctx.now()), resource: 'core' }
  return { status: 200, body: { resources: { core }, rate: core } }
}
