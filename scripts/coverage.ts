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
      throw new Error(`dist/ is not built from this src/:\n${problems.join('\n')}\nRun npm run build.`)
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
  for (const name of existsSync(raw) ? readdirSync(raw) : []) {
    const data = JSON.parse(readFileSync(join(raw, name), 'utf8')) as RawCoverage
    const result = data.result.filter(r => ours(r.url))
    if (!result.length) continue
    const cache = Object.fromEntries(
      Object.entries(data['source-map-cache'] ?? {}).filter(([url]) => ours(url))
    )
    writeFileSync(join(into, name), JSON.stringify({ result, 'source-map-cache': cache }))
    kept++
  }
  return kept
}

type CoverageMap = ReturnType<typeof libCoverage.createCoverageMap>

function load(file: string): CoverageMap {
  const map = libCoverage.createCoverageMap(
    existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {}
  )
  map.filter(path => path.startsWith(join(ROOT, 'src') + '/'))
  return map
}

function totals(map: CoverageMap): string {
  const s = map.getCoverageSummary()
  const pct = (m: { covered: number; total: number; pct: number }) =>
    `${m.pct.toFixed(1)} % (${m.covered}/${m.total})`
  return `lines ${pct(s.lines)}, branches ${pct(s.branches)}, functions ${pct(s.functions)}`
}

const jestArgs = process.argv.slice(2)
const bundle = mappedBundle()
rmSync(OUT, { recursive: true, force: true })
const raw = join(OUT, 'v8-raw')
mkdirSync(raw, { recursive: true })

const jest = run(
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

const processes = bundleCoverage(raw, bundle, join(OUT, 'v8-bundle'))
rmSync(raw, { recursive: true, force: true })
if (processes) {
  const c8 = run(bin('c8'), [
    'report',
    `--temp-directory=${join(OUT, 'v8-bundle')}`,
    `--reports-dir=${join(OUT, 'child')}`,
    '--reporter=json',
    '--include=src/**',
    '--exclude-after-remap'
  ])
  if (c8 !== 0) throw new Error('c8 could not map the bundle coverage back to src/')
}

const inProcess = load(join(OUT, 'in-process', 'coverage-final.json'))
const child = load(join(OUT, 'child', 'coverage-final.json'))
const merged = libCoverage.createCoverageMap(inProcess.toJSON())
merged.merge(child)

const context = libReport.createContext({ dir: OUT, coverageMap: merged, defaultSummarizer: 'nested' })
reports.create('text', { skipFull: true }).execute(context)
reports.create('html', { subdir: 'html' }).execute(context)
reports.create('json-summary').execute(context)

console.log(`\nBundle: ${relative(ROOT, bundle)} (${processes} child processes measured)`)
console.log(`In-process tests only:   ${totals(inProcess)}`)
console.log(`Child processes only:    ${totals(child)}`)
console.log(`src/, all tests:         ${totals(merged)}`)
console.log(`Report: ${relative(ROOT, join(OUT, 'html', 'index.html'))}`)
process.exitCode = jest
