import type { AzureCloud } from '../cloud.js'
import type { PermissionsApi, Permission } from './api.js'
import { createBearerJsonClient, type BearerClientSetup, type RestResponse } from './rest.js'

interface PermissionPage {
  value?: Partial<Permission>[]
  nextLink?: string
}

/** The version of `Permissions_ListForResourceGroup` / `Permissions_ListForResource`. */
const permissionsApiVersion = '2022-04-01'

/** ARM's answer to "what may the caller do at this scope" (no SDK of ours covers it). */
export function createPermissionsApi(
  setup: BearerClientSetup & { cloud: AzureCloud }
): PermissionsApi {
  const client = createBearerJsonClient(
    setup,
    setup.cloud.resourceManager,
    `api-version=${permissionsApiVersion}`
  )
  return {
    async at(scope) {
      const permissions: Partial<Permission>[] = []
      let page: { path: string; query?: string } | undefined = {
        path: `${scope.replace(/\/+$/, '')}/providers/Microsoft.Authorization/permissions`
      }
      while (page) {
        const response: RestResponse<PermissionPage> = await client.send<PermissionPage>(
          'GET',
          page.path,
          { query: page.query }
        )
        permissions.push(...(response.body?.value ?? []))
        page = nextPage(response.body?.nextLink)
      }
      return permissions.map(p => ({
        actions: p.actions ?? [],
        notActions: p.notActions ?? []
      }))
    }
  }
}

/** Whether the permissions allow an action (`*` matches any run of characters, without case). */
export function allows(permissions: Permission[], action: string): boolean {
  const matches = (patterns: string[]) => patterns.some(pattern => globMatch(pattern, action))
  return permissions.some(p => matches(p.actions) && !matches(p.notActions))
}

function globMatch(pattern: string, value: string): boolean {
  // `*` matches any characters; a whole `/*/` segment may also match none, as ARM reads
  // `.../userAssignedIdentities/*/assign/action` to cover `.../userAssignedIdentities/assign/action`.
  const source = pattern
    .split('/*/')
    .map(part =>
      part
        .split('*')
        .map(piece => piece.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'))
        .join('.*')
    )
    .join('(?:/.*)?/')
  return new RegExp(`^${source}$`, 'i').test(value)
}

/** The next page's path and query; api-version is added by the client. */
function nextPage(nextLink: string | undefined): { path: string; query?: string } | undefined {
  if (!nextLink) return undefined
  const url = new URL(nextLink)
  url.searchParams.delete('api-version')
  return { path: url.pathname, query: url.searchParams.toString() || undefined }
}
