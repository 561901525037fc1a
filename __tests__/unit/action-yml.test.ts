import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { parseDocument } from 'yaml'
import { inputDefaults } from '../../src/inputs/settings.js'
import { outputNames } from '../../src/outputs.js'

interface Manifest {
  inputs: Record<string, { default?: string | number | boolean }>
  outputs: Record<string, unknown>
  runs: { using: string; main: string }
}

describe('action.yml', () => {
  const text = readFileSync('action.yml', 'utf8')
  const manifest = parseDocument(text, { uniqueKeys: true, strict: true })
  const action = manifest.toJS() as Manifest

  it('declares exactly the inputs the action reads, with the same defaults', () => {
    expect(Object.keys(action.inputs).sort()).toEqual(Object.keys(inputDefaults).sort())
    for (const [name, fallback] of Object.entries(inputDefaults)) {
      expect([name, String(action.inputs[name].default ?? '')]).toEqual([name, fallback])
    }
  })

  it('declares exactly the outputs the action sets', () => {
    expect(Object.keys(action.outputs).sort()).toEqual([...outputNames].sort())
  })

  it('is valid YAML', () => {
    expect(manifest.errors.map(e => e.message)).toEqual([])
  })

  it('runs dist/index.js on node24', () => {
    expect(action.runs).toEqual({ using: 'node24', main: 'dist/index.js' })
  })
})
