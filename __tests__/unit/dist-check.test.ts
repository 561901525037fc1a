/** The testkit's check that the bundle the child-process suites run was built from src/. */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  assertBundleFresh,
  bundleProblems,
  commitProblems,
  importedSources,
  sourceMapProblems,
  StaleBundleError
} from '../../testkit/dist-check.js'

const SRC = fileURLToPath(new URL('../../src/', import.meta.url))
const roles = join(SRC, 'roles.ts')
const clock = join(SRC, 'clock.ts')

let folder: string
beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), 'dist-check-'))
})
afterEach(() => {
  rmSync(folder, { recursive: true, force: true })
})

/** A bundle whose source map holds `sources` with `contents`. */
function bundle(sources: string[], contents: (string | null)[]): string {
  const entry = join(folder, 'index.js')
  writeFileSync(entry, '//# sourceMappingURL=index.js.map\n')
  writeFileSync(
    `${entry}.map`,
    JSON.stringify({ version: 3, sources, sourcesContent: contents, mappings: '', names: [] })
  )
  return entry
}

describe('a bundle with a source map', () => {
  it('is fresh when every src/ file in the map reads as it was built', () => {
    const entry = bundle(
      [roles, clock, 'webpack/bootstrap', join(folder, '../node_modules/x/index.js')],
      [readFileSync(roles, 'utf8'), readFileSync(clock, 'utf8'), '', '']
    )
    expect(sourceMapProblems(entry)).toEqual([])
    expect(bundleProblems(entry)).toEqual([])
    expect(() => assertBundleFresh(entry)).not.toThrow()
  })

  it('names each src/ file that changed or is gone since the build', () => {
    const gone = join(SRC, 'no-such-module.ts')
    const entry = bundle(
      [roles, clock, gone],
      [readFileSync(roles, 'utf8'), '// an older clock\n', 'export {}\n']
    )
    expect(bundleProblems(entry)).toEqual([
      'src/clock.ts changed since the bundle was built',
      'src/no-such-module.ts is in the bundle but no longer in src/'
    ])
  })

  it('resolves sources relative to the map, and counts none outside src/', () => {
    // From a folder in the temp dir, ../src/roles.ts is not this tree's src/roles.ts.
    const entry = bundle(['../src/roles.ts'], [readFileSync(roles, 'utf8')])
    expect(sourceMapProblems(entry)).toEqual([
      expect.stringMatching(/^the source maps next to \S*index\.js name no file of src\/$/)
    ])
  })

  it('does not count a map that keeps no text of a src/ file as fresh', () => {
    const entry = bundle([roles], [null])
    expect(sourceMapProblems(entry)).toEqual(['the source map keeps no text of src/roles.ts'])
  })

  it('fails the check with the files and what to run', () => {
    const entry = bundle([clock], ['// an older clock\n'])
    let thrown: unknown
    try {
      assertBundleFresh(entry)
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(StaleBundleError)
    expect((thrown as Error).message).toMatch(/was not built from the src\/ in this tree/)
    expect((thrown as Error).message).toContain(
      '  - src/clock.ts changed since the bundle was built'
    )
    expect((thrown as Error).message).toMatch(/Run `npm run build`/)
  })
})

describe('a bundle without a source map', () => {
  it('that does not exist is named', () => {
    expect(bundleProblems(join(folder, 'index.js'))).toEqual([
      expect.stringMatching(/index\.js does not exist$/)
    ])
  })

  it('outside git is judged by time: stale when a file it imports is newer', () => {
    const entry = join(folder, 'index.js')
    writeFileSync(entry, '')
    const long = new Date('2001-01-01T00:00:00Z')
    utimesSync(entry, long, long)
    expect(commitProblems(entry, [roles, clock])).toEqual([
      'src/roles.ts changed after the bundle was built (it has no source map to compare)',
      'src/clock.ts changed after the bundle was built (it has no source map to compare)'
    ])
    const later = new Date(Date.now() + 3600_000)
    utimesSync(entry, later, later)
    expect(commitProblems(entry, [roles, clock])).toEqual([])
  })
})

describe('the modules the action imports', () => {
  it('are found from its entry through relative imports, and no others', () => {
    const files = importedSources(join(SRC, 'index.ts')).map(f => f.slice(SRC.length))
    expect(files).toEqual(
      expect.arrayContaining([
        'index.ts',
        'main.ts',
        'provision.ts',
        'steps/account.ts',
        'azure/arm.ts'
      ])
    )
    expect(files).not.toContain('task.ts')
    expect(new Set(files).size).toBe(files.length)
  })

  it('include what is loaded later, through import()', () => {
    const entry = join(folder, 'entry.ts')
    writeFileSync(entry, "export async function later() {\n  return import('./lazy.js')\n}\n")
    writeFileSync(
      join(folder, 'lazy.ts'),
      "import { helper } from './helper.js'\nexport { helper }\n"
    )
    writeFileSync(join(folder, 'helper.ts'), 'export const helper = 1\n')
    expect(importedSources(entry).map(f => f.slice(folder.length + 1))).toEqual([
      'entry.ts',
      'helper.ts',
      'lazy.ts'
    ])
  })
})
