import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { defaultScenario, startTestEmulator, type TestEmulator } from './helpers.js'

let t: TestEmulator
let dir: string

beforeAll(async () => {
  const scenario = defaultScenario()
  scenario.github = { ...scenario.github!, pullRequests: [{ number: 12 }] }
  t = await startTestEmulator({ scenario })
  dir = mkdtempSync(join(tmpdir(), 'github-event-'))
})

afterAll(async () => {
  await t.stop()
  rmSync(dir, { recursive: true, force: true })
})

/** What an action does in its own process with the emulator's env and a runner's event file. */
const SCRIPT = `
import { context, getOctokit } from '@actions/github'
const octokit = getOctokit(process.env.GITHUB_TOKEN)
const { data } = await octokit.rest.issues.createComment({
  ...context.repo,
  issue_number: context.payload.pull_request.number,
  body: 'from another process'
})
console.log('RESULT ' + JSON.stringify({ event: context.eventName, issue: data.issue_url, login: data.user.login }))
`

const execNode = promisify(execFile)

async function run(env: Record<string, string | undefined>): Promise<string> {
  const args = ['--input-type=module', '-e', SCRIPT]
  return (await execNode(process.execPath, args, { cwd: process.cwd(), env })).stdout
}

describe('the local GitHub from another process', () => {
  it("comments with @actions/github's Octokit and context, from the env and an event file", async () => {
    const eventPath = join(dir, 'event.json')
    writeFileSync(eventPath, JSON.stringify({ action: 'opened', pull_request: { number: 12 } }))
    const output = await run({
      ...process.env,
      ...t.emulator.env,
      GITHUB_REPOSITORY: 'contoso/cosmos-cmk',
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_EVENT_PATH: eventPath
    })
    const line = output.split('\n').find(l => l.startsWith('RESULT '))
    expect(JSON.parse(line!.slice('RESULT '.length))).toEqual({
      event: 'pull_request',
      issue: 'https://api.github.com/repos/contoso/cosmos-cmk/issues/12',
      login: 'github-actions[bot]'
    })
    const comments = t.emulator.store.world.github!.comments
    expect(comments.map(c => [c.issueNumber, c.body])).toEqual([[12, 'from another process']])
  })
})
