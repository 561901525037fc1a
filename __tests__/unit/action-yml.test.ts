import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { inputDefaults } from '../../src/inputs.js'
import { outputNames } from '../../src/provision.js'

/** The top-level keys of a section of action.yml and their `default:` values. */
function section(text: string, name: string): Record<string, string | undefined> {
  const lines = text.split('\n')
  const start = lines.indexOf(`${name}:`)
  const result: Record<string, string | undefined> = {}
  let current: string | undefined
  for (const line of lines.slice(start + 1)) {
    if (/^\S/.test(line)) break
    const key = /^ {2}([a-z-]+):\s*$/.exec(line)
    if (key) {
      current = key[1]
      result[current] = undefined
      continue
    }
    const value = /^ {4}default:\s*(.*)$/.exec(line)
    if (value && current) result[current] = value[1].replace(/^'(.*)'$/, '$1')
  }
  return result
}

describe('action.yml', () => {
  const text = readFileSync('action.yml', 'utf8')

  it('declares exactly the inputs the action reads, with the same defaults', () => {
    const inputs = section(text, 'inputs')
    expect(Object.keys(inputs).sort()).toEqual(Object.keys(inputDefaults).sort())
    for (const [name, fallback] of Object.entries(inputDefaults)) {
      expect([name, inputs[name] ?? '']).toEqual([name, fallback])
    }
  })

  it('declares exactly the outputs the action sets', () => {
    expect(Object.keys(section(text, 'outputs')).sort()).toEqual([...outputNames].sort())
  })

  it('runs dist/index.js on node24', () => {
    expect(text).toMatch(/runs:\n {2}using: node24\n {2}main: dist\/index.js/)
  })
})
