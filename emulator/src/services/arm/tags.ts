import type { AzureError } from '../../core/errors.js'
import type { EmuResponse } from '../../core/service.js'
import { armPermits } from './authorization.js'
import { jsonBody, type ArmRequest } from './context.js'
import { authorizationFailed, badRequest, invalidRequestContent } from './errors.js'
import { resolveScope, type ScopeTarget } from './scopes.js'

/*
 * Tags_GetAtScope, Tags_CreateOrUpdateAtScope, Tags_UpdateAtScope and Tags_DeleteAtScope
 * (Microsoft.Resources 2025-04-01) on the subscriptions, resource groups and resources the world
 * holds. The spec lets the writes answer 200 or 202; the local Azure always finishes them at once.
 *
 * Limits (learn.microsoft.com/azure/azure-resource-manager/management/tag-resources#limitations):
 * 50 tags per entity, names of at most 512 and values of at most 256 characters, no `<>%&\?/` or
 * control characters in names. The codes and wording are ARM's, as Azure PowerShell (Az.Migrate)
 * reproduces them.
 */

const TAGS_TYPE = 'Microsoft.Resources/tags'
const MAX_TAGS = 50
const MAX_NAME = 512
const MAX_VALUE = 256
// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const RESERVED = /[<>%&\\?/\u0000-\u001f\u007f]/
/** Names with these prefixes may carry the reserved characters (hidden-title, link:...). */
const RESERVED_ALLOWED_PREFIXES = ['hidden-', 'link:']

type Tags = Record<string, string>
type PatchOperation = 'Merge' | 'Replace' | 'Delete'

function tagsBody(target: ScopeTarget): Record<string, unknown> {
  return {
    id: `${target.id}/providers/${TAGS_TYPE}/default`,
    name: 'default',
    type: TAGS_TYPE,
    properties: { tags: { ...(target.record.tags ?? {}) } }
  }
}

/**
 * Tags need `Microsoft.Resources/tags/{verb}` (Tag Contributor) or the same right on the entity
 * itself: "You can have write access to the Microsoft.Resources/tags resource type ... Or you can
 * have write access to the resource itself" (tag-resources#required-access).
 */
function authorizeTags(a: ArmRequest, target: ScopeTarget, verb: 'read' | 'write'): void {
  const action = `${TAGS_TYPE}/${verb}`
  if (armPermits(a.world, a.callerId, action, target.id)) return
  if (armPermits(a.world, a.callerId, `${target.type}/${verb}`, target.id)) return
  throw authorizationFailed(a.callerId, action, target.id)
}

function requestedTags(properties: unknown): Tags {
  if (properties === undefined || properties === null) {
    throw badRequest(
      "The request content was invalid: the property 'properties' is required.",
      'InvalidRequestContent'
    )
  }
  const tags = (properties as { tags?: unknown }).tags ?? {}
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags)) {
    throw invalidRequestContent(
      "Tags must be an object of names and values. Path 'properties.tags'"
    )
  }
  for (const [name, value] of Object.entries(tags)) {
    if (typeof value !== 'string') {
      throw invalidRequestContent(
        `Unexpected value for the tag '${name}': tag values must be strings. Path 'properties.tags.${name}'`
      )
    }
  }
  return tags as Tags
}

function tagProblem(tags: Tags): AzureError | undefined {
  const names = Object.keys(tags)
  if (names.some(n => n.trim() === '')) {
    return badRequest(
      'The tag name must be non-null, non-empty and non-whitespace only. Please provide an actual value.',
      'InvalidTagName'
    )
  }
  const reserved = names.filter(
    n => RESERVED.test(n) && !RESERVED_ALLOWED_PREFIXES.some(p => n.toLowerCase().startsWith(p))
  )
  if (reserved.length > 0) {
    return badRequest(
      `The tag names '${reserved.join(', ')}' have reserved characters '<,>,%,&,\\,?,/' or control characters.`,
      'InvalidTagNameCharacters'
    )
  }
  const longNames = names.filter(n => n.length > MAX_NAME)
  if (longNames.length > 0) {
    return badRequest(
      `Tag key too large. Following tag name '${longNames.join(', ')}' exceeded the maximum length. ` +
        `Maximum allowed length for tag name - '${MAX_NAME}' characters.`,
      'InvalidTagName'
    )
  }
  const longValues = Object.values(tags).filter(v => v.length > MAX_VALUE)
  if (longValues.length > 0) {
    return badRequest(
      `Tag value too large. Following tag value '${longValues.join(', ')}' exceeded the maximum length. ` +
        `Maximum allowed length for tag value - '${MAX_VALUE}' characters.`,
      'InvalidTagValueLength'
    )
  }
  return undefined
}

function tooMany(count: number): AzureError {
  return badRequest(
    `Too many tags specified. Requested tag count - '${count}'. Maximum number of tags allowed - '${MAX_TAGS}'.`,
    'InvalidTags'
  )
}

/** The name under which `tags` holds `name`, compared without case as ARM compares tag names. */
function existingName(tags: Tags, name: string): string | undefined {
  return Object.keys(tags).find(n => n.toLowerCase() === name.toLowerCase())
}

// A merged name keeps the spelling it already has: ARM compares tag names without case.
function merge(current: Tags, changes: Tags): Tags {
  const result = { ...current }
  for (const [name, value] of Object.entries(changes))
    result[existingName(result, name) ?? name] = value
  return result
}

/** "Selectively deleting tags based on given names or name/value pairs": an empty value deletes by name. */
function remove(current: Tags, given: Tags): Tags {
  const result = { ...current }
  for (const [name, value] of Object.entries(given)) {
    const existing = existingName(result, name)
    if (existing !== undefined && (value === '' || result[existing] === value))
      delete result[existing]
  }
  return result
}

function patchOperation(value: unknown): PatchOperation {
  const op = ['Merge', 'Replace', 'Delete'].find(
    o => typeof value === 'string' && o.toLowerCase() === value.toLowerCase()
  )
  if (!op) {
    throw invalidRequestContent(
      `Error converting value ${JSON.stringify(value ?? null)} to type 'TagsPatchOperation'. Path 'operation'`
    )
  }
  return op as PatchOperation
}

/** Stores the new tags once they pass Azure's limits, and answers the TagsResource. */
function store(target: ScopeTarget, next: Tags, checked: Tags): EmuResponse {
  const problem = tagProblem(checked)
  if (problem) throw problem
  if (Object.keys(next).length > MAX_TAGS) throw tooMany(Object.keys(next).length)
  target.record.tags = next
  return { status: 200, body: tagsBody(target) }
}

/** `{scope}/providers/Microsoft.Resources/tags/default`: GET, PUT, PATCH and DELETE. */
export function tagsAtScope(a: ArmRequest, scope: string): EmuResponse {
  const method = a.ctx.req.method
  const target = resolveScope(a, scope, method)
  if (method === 'GET') {
    authorizeTags(a, target, 'read')
    return { status: 200, body: tagsBody(target) }
  }
  authorizeTags(a, target, 'write')
  if (method === 'DELETE') {
    target.record.tags = {}
    return { status: 200 }
  }
  const body = jsonBody(a)
  const given = requestedTags(body.properties)
  if (method === 'PUT') return store(target, given, given)
  const current = target.record.tags ?? {}
  switch (patchOperation(body.operation)) {
    case 'Merge':
      return store(target, merge(current, given), given)
    case 'Replace':
      return store(target, given, given)
    case 'Delete':
      return store(target, remove(current, given), {})
  }
}
