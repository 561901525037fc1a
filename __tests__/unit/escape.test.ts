import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { markdownCode, markdownFence, markdownText, plainText } from '../../src/escape.js'
import { inputDefaults } from '../../src/inputs/settings.js'
import { run } from '../../src/main.js'
import { githubRunner } from '../../src/runner/github.js'
import { FakeAzure, FakeClock, validInputs } from './fakes.js'
import { fakeCredential, memorySecretFiles } from './helpers.js'

const hostile =
  'x\n::warning::injected\n  ::set-output name=a::b\n##vso[task.setvariable variable=a]b\n##[group]g\n' +
  '<img src=x onerror=alert(1)> **bold** [link](http://evil) `code` ``` %0A %25 |pipe|'

describe('plainText', () => {
  it('leaves no line a runner reads as a command, and keeps the text as it reads', () => {
    const out = plainText(hostile)
    for (const line of out.split('\n')) {
      expect(line.trimStart()).not.toMatch(/^(::|##\[)/)
      expect(line).not.toMatch(/##vso\[/i)
    }
    expect(out.replace(/\u200b/g, '')).toBe(hostile)
  })
})

describe('markdown', () => {
  it('renders a table cell as the characters it holds: no HTML, no markup, no broken table', () => {
    const cell = markdownText(hostile)
    expect(cell.replace(/<br>/g, ' ')).not.toMatch(/(^|[^\\])[<>|*`[\]]/)
    expect(cell).not.toContain('\n')
    expect(cell).toContain('\\<img src=x onerror=alert(1)\\>')
  })

  it('fences and quotes code so that no backtick run inside can close it', () => {
    const fence = markdownFence('a ``` b ```` c')
    expect(fence.startsWith('`````\n')).toBe(true)
    expect(fence.endsWith('\n`````')).toBe(true)
    expect(markdownCode('a ` b | c')).toBe('`` a ` b \\| c ``')
  })
})

describe('every input, hostile, through the GitHub runner', () => {
  let dir: string
  let written: string[]
  const saved = { ...process.env }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'escape-'))
    written = []
    jest.spyOn(process.stdout, 'write').mockImplementation(chunk => {
      written.push(String(chunk))
      return true
    })
  })
  afterEach(() => {
    jest.restoreAllMocks()
    process.env = { ...saved }
    rmSync(dir, { recursive: true, force: true })
  })

  const valid = validInputs

  // The token is free text the runner masks; it is never printed (see secrets.test.ts).
  const printed = Object.keys(inputDefaults).filter(name => name !== 'github-token')

  it.each(printed)('%s', async name => {
    const summary = join(dir, 'summary.md')
    writeFileSync(summary, '')
    process.env.GITHUB_STEP_SUMMARY = summary
    for (const [input, value] of Object.entries({ ...valid, [name]: hostile })) {
      process.env[`INPUT_${input.replace(/ /g, '_').toUpperCase()}`] = value
    }
    const azure = new FakeAzure()
    await run(githubRunner(), {
      credential: fakeCredential(),
      apis: azure,
      clock: new FakeClock(),
      secretFiles: memorySecretFiles()
    })
    const lines = written.join('').split('\n')
    const commands = lines.filter(line => /^\s*::/.test(line))
    // Only the action's own commands, each on one line with its value escaped.
    for (const line of commands) expect(line).toMatch(/^::(error|warning|debug|group|endgroup)::/)
    expect(lines.filter(line => /^\s*::(set-output|warning::injected)/.test(line))).toEqual([])
    expect(lines.filter(line => /##vso\[|^\s*##\[/.test(line))).toEqual([])
    // The failure names the input, escaped for the runner.
    expect(commands.some(line => line.startsWith('::error::'))).toBe(true)
    // Outside code fences (where nothing renders), no raw HTML; the fences hold.
    const markdown = readFileSync(summary, 'utf8')
    const fences = markdown.match(/^`{3,}$/gm) ?? []
    expect(fences.length % 2).toBe(0)
    const outside = markdown.replace(/^(`{3,})\n[\s\S]*?\n\1$/gm, '')
    expect(outside).not.toMatch(/(^|[^\\])<img/)
    expect(outside).not.toContain('injected')
    expect(azure.calls).toEqual([])
  })
})
