/**
 * Whether the bundle the child-process suites run was built from the src/ in this tree: they run
 * dist/index.js, so a change to src/ without `npm run build` would otherwise never reach them.
 *
 * - With a source map next to the bundle (ncc `--source-map`), exactly: every src/ file the map
 *   holds must read as it did when the bundle was built (the map keeps each file's text).
 * - Without one, from git and the file times: with the bundle as committed, the src/ files it
 *   imports must be as they were in the commit that last changed it; with a bundle built here,
 *   none of them may be newer than it.
 *
 * Milliseconds either way; the answer is kept for the process.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const SRC = join(ROOT, 'src')

/** The bundle in the tree is not the one src/ makes. */
export class StaleBundleError extends Error {
  constructor(
    readonly bundle: string,
    readonly problems: string[]
  ) {
    super(
      `${relative(ROOT, bundle)} was not built from the src/ in this tree, so the child-process suites ` +
        `would test other code:\n${problems.map(p => `  - ${p}`).join('\n')}\n` +
        'Run `npm run build` to rebuild dist/ from src/, then run the tests again.'
    )
    this.name = 'StaleBundleError'
  }
}

interface SourceMap {
  sources: string[]
  sourcesContent?: (string | null)[]
  sourceRoot?: string
}

const under = (folder: string, path: string) => !relative(folder, path).startsWith('..')

/** The problems of a bundle with source maps: src/ files changed or gone since it was built. */
export function sourceMapProblems(bundle: string): string[] {
  const folder = dirname(bundle)
  const maps = readdirSync(folder).filter(name => name.endsWith('.js.map'))
  const problems: string[] = []
  let compared = 0
  for (const name of maps) {
    const map = JSON.parse(readFileSync(join(folder, name), 'utf8')) as SourceMap
    map.sources.forEach((source, i) => {
      const path = resolve(folder, map.sourceRoot ?? '', source)
      if (!under(SRC, path) || under(join(ROOT, 'node_modules'), path)) return
      const built = map.sourcesContent?.[i]
      const shown = relative(ROOT, path)
      compared++
      if (!existsSync(path)) problems.push(`${shown} is in the bundle but no longer in src/`)
      else if (typeof built !== 'string') problems.push(`the source map keeps no text of ${shown}`)
      else if (readFileSync(path, 'utf8') !== built) {
        problems.push(`${shown} changed since the bundle was built`)
      }
    })
  }
  if (!compared)
    problems.push(`the source maps next to ${relative(ROOT, bundle)} name no file of src/`)
  return problems
}

const importPattern =
  /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*'(\.{1,2}\/[^']+)\.js'|import\s*\(?\s*'(\.{1,2}\/[^']+)\.js'/g

/** The src/ files `entry` imports, directly or not (relative imports, as src/ writes them). */
export function importedSources(entry: string): string[] {
  const seen = new Set<string>()
  const visit = (file: string) => {
    if (seen.has(file) || !existsSync(file)) return
    seen.add(file)
    for (const match of readFileSync(file, 'utf8').matchAll(importPattern)) {
      visit(resolve(dirname(file), `${match[1] ?? match[2]}.ts`))
    }
  }
  visit(entry)
  return [...seen].sort()
}

function git(args: string[]): string | undefined {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: 'pipe' }).trim()
  } catch {
    return undefined
  }
}

/** The problems of a bundle without a source map, judged from git and the file times. */
export function commitProblems(bundle: string, sources: string[]): string[] {
  const files = sources.map(file => relative(ROOT, file))
  // The whole folder: the bundle comes in chunks, and a change may touch only one of them.
  const folder = relative(ROOT, dirname(bundle))
  const commit = git(['log', '-1', '--format=%H', '--', folder])
  const asCommitted = commit && git(['status', '--porcelain', '--', folder]) === ''
  // The bundle as committed was built from src/ as committed with it (npm run check-dist).
  const changed = asCommitted ? git(['diff', '--name-only', commit, '--', ...files]) : undefined
  if (changed !== undefined) {
    return changed
      .split('\n')
      .filter(Boolean)
      .map(file => `${file} changed since the commit that last changed the bundle`)
  }
  // Rebuilt here (or no git): nothing it imports may be newer than it.
  const built = statSync(bundle).mtimeMs
  return files
    .filter(file => statSync(join(ROOT, file)).mtimeMs > built)
    .map(file => `${file} changed after the bundle was built (it has no source map to compare)`)
}

/** Everything that tells the bundle at `bundle` from one built of the src/ in this tree. */
export function bundleProblems(bundle: string): string[] {
  if (!existsSync(bundle)) return [`${relative(ROOT, bundle)} does not exist`]
  if (existsSync(`${bundle}.map`)) return sourceMapProblems(bundle)
  return commitProblems(bundle, importedSources(join(SRC, 'index.ts')))
}

const checked = new Map<string, string[]>()

/** Throws a StaleBundleError unless `bundle` was built from the src/ in this tree. */
export function assertBundleFresh(bundle: string): void {
  let problems = checked.get(bundle)
  if (!problems) {
    problems = bundleProblems(bundle)
    checked.set(bundle, problems)
  }
  if (problems.length) throw new StaleBundleError(bundle, problems)
}
