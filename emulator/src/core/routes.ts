import type { EmuResponse } from './service.js'

/**
 * Route tables, the one way every service maps a request to its handler. A template is a path
 * such as `/subscriptions/{sub}/providers/{ns}`: literal text compares case-insensitively (Azure
 * ignores the case of path literals), `{name}` captures a segment (or part of one, as in
 * `servicePrincipals(appId='{appId}')`) as sent, and one `{name*}` segment captures any number of
 * segments, joined with `/`.
 */
type Params = Record<string, string>

export interface Route<R> {
  methods: readonly string[]
  template: string
  handler: (request: R, params: Params) => EmuResponse | Promise<EmuResponse>
}

interface RouteMatch<T> {
  route: T
  params: Params
  /** False when the path matched but no route for it takes the method. */
  allowed: boolean
}

interface Segment {
  pattern: RegExp
  names: string[]
}

interface Compiled {
  before: Segment[]
  /** The name of the `{name*}` segment, when the template has one. */
  rest?: string
  after: Segment[]
}

const compiled = new Map<string, Compiled>()

function escape(s: string): string {
  return s.replace(/[.+?^$*()|[\]\\]/g, '\\$&')
}

function compileSegment(segment: string): Segment {
  const names: string[] = []
  const source = segment
    .split(/(\{[^}]+\})/)
    .map(part => {
      const name = /^\{([^}*]+)\}$/.exec(part)?.[1]
      if (name === undefined) return escape(part)
      names.push(name)
      return '(.*)'
    })
    .join('')
  return { pattern: new RegExp(`^${source}$`, 'i'), names }
}

function compile(template: string): Compiled {
  const known = compiled.get(template)
  if (known) return known
  const segments = template.split('/').filter(s => s !== '')
  const star = segments.findIndex(s => /^\{[^}]+\*\}$/.test(s))
  const result: Compiled =
    star < 0
      ? { before: segments.map(compileSegment), after: [] }
      : {
          before: segments.slice(0, star).map(compileSegment),
          rest: segments[star]!.slice(1, -2),
          after: segments.slice(star + 1).map(compileSegment)
        }
  compiled.set(template, result)
  return result
}

function matchSegments(segments: Segment[], parts: string[], params: Params): boolean {
  return segments.every((segment, i) => {
    const m = segment.pattern.exec(parts[i]!)
    if (!m) return false
    segment.names.forEach((name, j) => (params[name] = m[j + 1]!))
    return true
  })
}

/** The parameters of `path` under `template`; undefined when it does not match. */
function matchPath(template: string, path: string): Params | undefined {
  const t = compile(template)
  const parts = path.split('/').filter(s => s !== '')
  const fixed = t.before.length + t.after.length
  if (t.rest === undefined ? parts.length !== fixed : parts.length < fixed) return undefined
  const params: Params = {}
  if (!matchSegments(t.before, parts.slice(0, t.before.length), params)) return undefined
  if (!matchSegments(t.after, parts.slice(parts.length - t.after.length), params)) return undefined
  if (t.rest !== undefined) {
    params[t.rest] = parts.slice(t.before.length, parts.length - t.after.length).join('/')
  }
  return params
}

/**
 * The first route whose template matches the path and which takes the method; failing that, the
 * first route whose template matches (`allowed: false`); undefined when no template matches.
 */
export function findRoute<T extends { methods: readonly string[]; template: string }>(
  routes: readonly T[],
  method: string,
  path: string
): RouteMatch<T> | undefined {
  let pathOnly: RouteMatch<T> | undefined
  for (const route of routes) {
    const params = matchPath(route.template, path)
    if (!params) continue
    if (route.methods.includes(method)) return { route, params, allowed: true }
    pathOnly ??= { route, params, allowed: false }
  }
  return pathOnly
}
