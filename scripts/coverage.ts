/**
 * Coverage of src/ by every suite of __tests__, counting the bundled action the e2e and resilience
 * suites run as a child process (`npm run coverage [-- <jest args>]`):
 *
 * 1. the bundle with source maps: dist/ when it has them (built with ncc `--source-map`), else a
 *    build of src/ into .tmp/coverage-bundle, which the suites then run (COSMOS_CMK_ACTION_ENTRY);
 * 2. Jest with V8 coverage of src/ for the code the tests run in-process, and NODE_V8_COVERAGE set
 *    for the child processes the testkit starts;
 * 3. the children's V8 coverage of the bundle mapped back to src/ through the source maps (c8);
 * 4. both merged: a table on the terminal, coverage/html, coverage/coverage-summary.json.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import libCoverage from 'istanbul-lib-coverage'
import libReport from 'istanbul-lib-report'
import reports from 'istanbul-reports'
import ts from 'typescript'
import { sourceMapProblems } from '../testkit/dist-check.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const OUT = join(ROOT, 'coverage')
const bin = (name: string) => join(ROOT, 'node_modules', '.bin', name)

function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}): number {
  const result = spawnSync(command, args, {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, ...env }
  })
  if (result.error) throw result.error
  return result.status ?? 1
}

/** The bundle to measure: one whose source maps hold the src/ of this tree. */
function mappedBundle(): string {
  const dist = join(ROOT, 'dist', 'index.js')
  if (existsSync(`${dist}.map`)) {
    const problems = sourceMapProblems(dist)
    if (problems.length) {
      throw new Error(
        `dist/ is not built from this src/:\n${problems.join('\n')}\nRun npm run build.`
      )
    }
    return dist
  }
  const folder = join(ROOT, '.tmp', 'coverage-bundle')
  const entry = join(folder, 'index.js')
  if (existsSync(`${entry}.map`) && !sourceMapProblems(entry).length) return entry
  console.log('dist/ has no source map: building src/ with one into .tmp/coverage-bundle')
  rmSync(folder, { recursive: true, force: true })
  const built = run(bin('ncc'), [
    'build',
    'src/index.ts',
    '-o',
    relative(ROOT, folder),
    '--source-map',
    '--no-source-map-register',
    '--license',
    'licenses.txt',
    '--target',
    'es2022',
    '--quiet'
  ])
  if (built !== 0) throw new Error('ncc could not build src/index.ts')
  // ncc writes sources as `../<path from the working folder>`, right for dist/ only.
  for (const name of readdirSync(folder).filter(n => n.endsWith('.js.map'))) {
    const file = join(folder, name)
    const map = JSON.parse(readFileSync(file, 'utf8')) as { sources: string[] }
    map.sources = map.sources.map(s => (s.startsWith('../') ? resolve(ROOT, s.slice(3)) : s))
    writeFileSync(file, JSON.stringify(map))
  }
  return entry
}

interface RawCoverage {
  result: { url: string }[]
  'source-map-cache'?: Record<string, unknown>
}

/** Keeps, of every process's V8 coverage, the bundle's scripts and their source maps. */
function bundleCoverage(raw: string, bundle: string, into: string): number {
  const folder = pathToFileURL(dirname(bundle)).href + '/'
  const ours = (url: string) => url.startsWith(folder) && url.endsWith('.js')
  mkdirSync(into, { recursive: true })
  let kept = 0
  let cutOff = 0
  for (const name of existsSync(raw) ? readdirSync(raw) : []) {
    let data: RawCoverage
    try {
      data = JSON.parse(readFileSync(join(raw, name), 'utf8')) as RawCoverage
    } catch {
      // A process the resilience suites kill while it writes its coverage leaves the file cut off.
      cutOff++
      continue
    }
    const result = data.result.filter(r => ours(r.url))
    if (!result.length) continue
    const cache = Object.fromEntries(
      Object.entries(data['source-map-cache'] ?? {}).filter(([url]) => ours(url))
    )
    writeFileSync(join(into, name), JSON.stringify({ result, 'source-map-cache': cache }))
    kept++
  }
  if (cutOff) console.log(`${cutOff} coverage file(s) cut off by a killed process: left out`)
  return kept
}

type CoverageMap = ReturnType<typeof libCoverage.createCoverageMap>

/** The coverage of src/'s modules that hold code, from a coverage-final.json. */
function load(file: string): CoverageMap {
  const map = libCoverage.createCoverageMap(
    existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {}
  )
  map.filter(path => path.startsWith(join(ROOT, 'src') + '/') && holdsCode(path))
  return map
}

type FileData = libCoverage.FileCoverageData
type Range = libCoverage.Range

/**
 * Adds the counts of `from` into `into` (a copy is answered), matching entries by the lines they
 * span and their order on them. ncc's source maps map lines, not columns, so the same function or
 * block has other columns in the bundle's coverage than in Jest's; its lines are the same.
 */
function mergeByLines(into: FileData, from: FileData): FileData {
  const out = JSON.parse(JSON.stringify(into)) as FileData
  const byLines = (loc: Range) => `${loc.start.line}-${loc.end.line}`
  const matchAll = <T>(
    target: Record<string, T>,
    source: Record<string, T>,
    locOf: (entry: T) => Range,
    add: (targetKey: string | undefined, sourceKey: string) => void
  ) => {
    const groups = new Map<string, string[]>()
    const ordered = Object.keys(target).sort((a, b) => {
      const [x, y] = [locOf(target[a]), locOf(target[b])]
      return x.start.line - y.start.line || x.start.column - y.start.column || Number(a) - Number(b)
    })
    for (const k of ordered) {
      const key = byLines(locOf(target[k]))
      groups.set(key, [...(groups.get(key) ?? []), k])
    }
    const taken = new Map<string, number>()
    for (const k of Object.keys(source).sort((a, b) => Number(a) - Number(b))) {
      const key = byLines(locOf(source[k]))
      const at = taken.get(key) ?? 0
      taken.set(key, at + 1)
      add(groups.get(key)?.[at], k)
    }
  }
  // v8-to-istanbul numbers entries 0, 1, 2...: the count is a free key.
  const next = (map: Record<string, unknown>) => String(Object.keys(map).length)
  /** Adds the hits of one kind of entry (statements, functions, branches) into `out`. */
  const addAll = <T, H>(
    kind: [Record<string, T>, Record<string, H>, Record<string, T>, Record<string, H>],
    locOf: (entry: T) => Range,
    none: (hits: H) => H,
    sum: (a: H, b: H) => H
  ) => {
    const [map, hits, fromMap, fromHits] = kind
    matchAll(map, fromMap, locOf, (t, k) => {
      const key = t ?? next(map)
      if (!t) [map[key], hits[key]] = [fromMap[k], none(fromHits[k])]
      hits[key] = sum(hits[key], fromHits[k])
    })
  }
  const add = (a: number, b: number) => a + b
  addAll(
    [out.statementMap, out.s, from.statementMap, from.s],
    loc => loc,
    () => 0,
    add
  )
  addAll(
    [out.fnMap, out.f, from.fnMap, from.f],
    fn => fn.loc,
    () => 0,
    add
  )
  addAll(
    [out.branchMap, out.b, from.branchMap, from.b],
    branch => branch.locations[0] ?? branch.loc,
    arms => arms.map(() => 0),
    (a, b) => a.map((n, i) => n + (b[i] ?? 0))
  )
  return out
}

/** Whether a module holds code that runs (not only types). */
function holdsCode(file: string): boolean {
  const js = ts.transpileModule(readFileSync(file, 'utf8'), {
    compilerOptions: {
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2022,
      removeComments: true
    }
  }).outputText
  return js.replace(/export\s*\{\s*\};?/g, '').trim() !== ''
}

/** Jest's placeholder for a file no test loaded: no function ran, because none was seen. */
const unloaded = (data: FileData) =>
  Object.values(data.fnMap).some(fn => fn.name === '(empty-report)')

/** Jest's coverage of src/ with the bundle's added in (see mergeByLines). */
function mergeMaps(inProcess: CoverageMap, child: CoverageMap): CoverageMap {
  const merged = libCoverage.createCoverageMap({})
  const dataOf = (map: CoverageMap, file: string) =>
    map.files().includes(file) ? (map.fileCoverageFor(file).toJSON() as FileData) : undefined
  for (const file of new Set([...inProcess.files(), ...child.files()])) {
    const theirs = dataOf(child, file)
    const loaded = dataOf(inProcess, file)
    const ours = loaded && theirs && unloaded(loaded) ? undefined : loaded
    const data =
      ours && theirs ? mergeByLines(ours as FileData, theirs as FileData) : (ours ?? theirs)
    merged.addFileCoverage(libCoverage.createFileCoverage(JSON.parse(JSON.stringify(data))))
  }
  return merged
}

function totals(map: CoverageMap): string {
  const s = map.getCoverageSummary()
  const pct = (m: { covered: number; total: number; pct: number }) =>
    `${m.pct.toFixed(1)} % (${m.covered}/${m.total})`
  return `lines ${pct(s.lines)}, branches ${pct(s.branches)}, functions ${pct(s.functions)}`
}

const args = process.argv.slice(2)
// --report-only: the report again from the coverage the last run left in coverage/.
const reportOnly = args.includes('--report-only')
const jestArgs = args.filter(a => a !== '--report-only')
let jest = 0
const kept = join(OUT, 'v8-bundle')
let processes = existsSync(kept) ? readdirSync(kept).length : 0

if (!reportOnly) {
  const bundle = mappedBundle()
  console.log(`Bundle: ${relative(ROOT, bundle)}`)
  rmSync(OUT, { recursive: true, force: true })
  const raw = join(OUT, 'v8-raw')
  mkdirSync(raw, { recursive: true })
  jest = run(
    bin('jest'),
    [
      ...(jestArgs.length ? jestArgs : ['__tests__']),
      '--coverage',
      '--coverageProvider=v8',
      '--collectCoverageFrom=src/**/*.ts',
      '--coverageReporters=json',
      `--coverageDirectory=${join(OUT, 'in-process')}`
    ],
    {
      NODE_OPTIONS: '--experimental-vm-modules',
      NODE_NO_WARNINGS: '1',
      NODE_V8_COVERAGE: raw,
      COSMOS_CMK_ACTION_ENTRY: bundle
    }
  )
  processes = bundleCoverage(raw, bundle, join(OUT, 'v8-bundle'))
  rmSync(raw, { recursive: true, force: true })
}
if (processes) {
  const c8 = run(bin('c8'), [
    'report',
    `--temp-directory=${join(OUT, 'v8-bundle')}`,
    `--reports-dir=${join(OUT, 'child')}`,
    // No --include: c8 drops the block ranges of what it filters after the remap; src/ is picked
    // out below.
    '--reporter=json'
  ])
  if (c8 !== 0) throw new Error('c8 could not map the bundle coverage back to src/')
}

const inProcess = load(join(OUT, 'in-process', 'coverage-final.json'))
const child = load(join(OUT, 'child', 'coverage-final.json'))
const merged = mergeMaps(inProcess, child)

const context = libReport.createContext({
  dir: OUT,
  coverageMap: merged,
  defaultSummarizer: 'nested'
})
reports.create('text', { skipFull: true }).execute(context)
reports.create('html', { subdir: 'html' }).execute(context)
reports.create('json-summary').execute(context)

console.log(`\n${processes} child processes of the bundle measured`)
console.log(`In-process tests only:   ${totals(inProcess)}`)
console.log(`Child processes only:    ${totals(child)}`)
console.log(`src/, all tests:         ${totals(merged)}`)
console.log(`Report: ${relative(ROOT, join(OUT, 'html', 'index.html'))}`)
process.exitCode = jest
