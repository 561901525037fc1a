// Order and neighbour independence of the test suite (`npm run test:isolation [-- options] [paths]`):
//
// 1. every test file on its own, in a Jest process of its own, so that nothing another file did
//    (requests made, files written, modules loaded, variables set) can make it pass;
// 2. the whole selection once more with Jest's --randomize (the order of the tests in each file
//    shuffled), with the seed printed so that a failing order can be run again.
//
// Options: --seed <n> (default: random), --skip-alone, --skip-random, --jobs <n> (files run side
// by side in step 1; default 1). Paths (or patterns) select test files as for Jest; default: all.
// A run fails when a test fails (FAIL), or when every test passed but Jest exited non-zero (EXIT).
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const jest = `${root}node_modules/.bin/jest`
const env = { ...process.env, NODE_OPTIONS: '--experimental-vm-modules', NODE_NO_WARNINGS: '1' }

const args = process.argv.slice(2)
const option = name => {
  const at = args.indexOf(name)
  if (at < 0) return undefined
  const [, value] = args.splice(at, 2)
  return value
}
const flag = name => {
  const at = args.indexOf(name)
  if (at >= 0) args.splice(at, 1)
  return at >= 0
}
const seed = Number(option('--seed') ?? Math.floor(Math.random() * 2 ** 31))
const jobs = Math.max(1, Number(option('--jobs') ?? 1))
const skipAlone = flag('--skip-alone')
const skipRandom = flag('--skip-random')

const listed = spawnSync(jest, ['--listTests', ...args], { cwd: root, env, encoding: 'utf8' })
if (listed.status !== 0) {
  process.stderr.write(listed.stderr)
  process.exit(1)
}
const files = listed.stdout.split('\n').filter(Boolean).sort()
const show = file => relative(root, file)

const results = mkdtempSync(join(tmpdir(), 'test-isolation-'))
let runs = 0

/**
 * One Jest process; `verdict` is 'pass', 'FAIL' (a test failed or a file did not run) or 'EXIT'
 * (every test passed, but the process exited non-zero: a test left process.exitCode set).
 */
function runJest(jestArgs) {
  const outputFile = join(results, `run-${runs++}.json`)
  return new Promise(done => {
    const started = Date.now()
    const child = spawn(jest, [...jestArgs, '--json', `--outputFile=${outputFile}`], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let output = ''
    child.stdout.on('data', chunk => (output += chunk))
    child.stderr.on('data', chunk => (output += chunk))
    child.on('close', code => {
      let passed = false
      try {
        passed = JSON.parse(readFileSync(outputFile, 'utf8')).success === true
      } catch {
        passed = false
      }
      const verdict = !passed ? 'FAIL' : code === 0 ? 'pass' : 'EXIT'
      done({ code, verdict, output, seconds: (Date.now() - started) / 1000 })
    })
  })
}

const failures = []

if (!skipAlone) {
  console.log(`Each of ${files.length} test files alone (${jobs} at a time):`)
  let next = 0
  const lane = async () => {
    while (next < files.length) {
      const file = files[next++]
      const result = await runJest(['--runTestsByPath', file, '--ci'])
      console.log(`  ${result.verdict}  ${result.seconds.toFixed(1).padStart(6)} s  ${show(file)}`)
      if (result.verdict !== 'pass') failures.push({ what: `${show(file)} alone`, ...result })
    }
  }
  await Promise.all(Array.from({ length: jobs }, lane))
}

if (!skipRandom) {
  console.log(`\nAll ${files.length} files, tests in random order: --randomize --seed=${seed}`)
  const result = await runJest([...files, '--randomize', `--seed=${seed}`, '--showSeed', '--ci'])
  const summary = result.output.split('\n').filter(l => /^(Tests|Test Suites|Seed):/.test(l))
  console.log(summary.map(l => `  ${l}`).join('\n'))
  console.log(`  ${result.verdict}  ${result.seconds.toFixed(1)} s`)
  if (result.verdict !== 'pass') failures.push({ what: `random order (seed ${seed})`, ...result })
}

rmSync(results, { recursive: true, force: true })
for (const failure of failures) {
  console.log(`\n===== ${failure.what} =====`)
  if (failure.verdict === 'EXIT') {
    console.log(
      `Every test passed, but Jest exited with ${failure.code}: a test left process.exitCode set ` +
        '(e.g. through the real @actions/core setFailed), which fails any run that has the file in its process.'
    )
    continue
  }
  const lines = failure.output.split('\n')
  const first = lines.findIndex(l => l.includes('●'))
  console.log(lines.slice(Math.max(0, first), first + 60).join('\n'))
}
console.log(
  failures.length
    ? `\n${failures.length} run(s) failed: ${failures.map(f => f.what).join('; ')}`
    : '\nEvery file passed alone and in random order.'
)
if (!skipRandom) console.log(`Seed: ${seed} (run again with --seed ${seed})`)
process.exitCode = failures.length ? 1 : 0
