import { describe, expect, it } from '@jest/globals'
import { readdirSync, readFileSync } from 'node:fs'
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

describe('examples', () => {
  const files = readdirSync('examples').filter(
    f => /\.ya?ml$/.test(f) && !f.startsWith('azure-pipelines')
  )
  const action = parseDocument(readFileSync('action.yml', 'utf8')).toJS() as Manifest

  it.each(files)('%s passes only inputs the action declares, and reads only its outputs', file => {
    const workflow = parseDocument(readFileSync(`examples/${file}`, 'utf8')).toJS() as {
      jobs?: Record<
        string,
        { steps?: { uses?: string; id?: string; with?: Record<string, unknown> }[] }
      >
    }
    const steps = Object.values(workflow.jobs ?? {}).flatMap(job => job.steps ?? [])
    const ours = steps.filter(step => /cosmos-cmk-hsm/.test(step.uses ?? ''))
    expect(ours.length).toBeGreaterThan(0)
    for (const step of ours) {
      expect(Object.keys(step.with ?? {}).filter(name => !(name in action.inputs))).toEqual([])
    }
    const text = readFileSync(`examples/${file}`, 'utf8')
    const read = [...text.matchAll(/steps\.[\w-]+\.outputs\.([\w-]+)/g)].map(m => m[1])
    expect(read.filter(name => !(name in action.outputs))).toEqual([])
  })
})
