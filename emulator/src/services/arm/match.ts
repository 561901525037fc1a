/**
 * Matches a path against a template such as `/subscriptions/{sub}/providers/{ns}`: literal
 * segments compare case-insensitively (ARM ignores case), `{name}` segments are captured as sent.
 */
export function matchPath(template: string, path: string): Record<string, string> | undefined {
  const t = template.split('/').filter(s => s !== '')
  const p = path.split('/').filter(s => s !== '')
  if (t.length !== p.length) return undefined
  const params: Record<string, string> = {}
  for (let i = 0; i < t.length; i++) {
    const seg = t[i]!
    if (seg.startsWith('{') && seg.endsWith('}')) params[seg.slice(1, -1)] = p[i]!
    else if (seg.toLowerCase() !== p[i]!.toLowerCase()) return undefined
  }
  return params
}
