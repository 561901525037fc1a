/**
 * run() for a fleet (the summary's table of accounts, plan's words, a failed account) and the
 * pull-request comment's wiring: a runner without comments, the default token left to the runner,
 * each outcome's log line and summary line, and a comment that cannot be written.
 */
import { describe, expect, it } from '@jest/globals'
import { run } from '../../src/main.js'
import type { CommentOutcome, PullRequestComment } from '../../src/runner/runner.js'
import { FakeAzure, FakeRunner, restError, validInputs } from './fakes.js'
import { runDeps } from './helpers.js'

const deps = runDeps

function fleetAzure(): FakeAzure {
  const azure = new FakeAzure().withActiveHsm()
  azure.fleet = {}
  return azure
}

const fleet = { ...validInputs, 'account-name': 'fleet-a, fleet-b' }

describe('run for a fleet', () => {
  it('sums the accounts up in the summary, one row each, and leaves the accounts output out of its table', async () => {
    const runner = new FakeRunner(fleet)
    await run(runner, deps(fleetAzure()))
    expect(runner.failed).toBeUndefined()
    const summary = runner.summaries[0]!
    expect(summary).toContain('**2 accounts**: 2 done, 0 failed.')
    expect(summary).toContain('| Account | Result | Default identity | Endpoint |')
    expect(summary).toContain(
      '| fleet-a | 🛠️ changed | FirstPartyIdentity | https://fleet-a.documents.azure.com:443/ |'
    )
    expect(summary).toContain(
      '| fleet-b | 🛠️ changed | FirstPartyIdentity | https://fleet-b.documents.azure.com:443/ |'
    )
    expect(summary).not.toContain('| accounts |')
    expect(JSON.parse(runner.outputs.accounts!)).toHaveProperty('fleet-b')
  })

  it('says what plan would change, per account', async () => {
    const runner = new FakeRunner({ ...fleet, mode: 'plan' })
    await run(runner, deps(fleetAzure()))
    expect(runner.summaries[0]).toContain('| fleet-a | 📝 would change |   |   |')
  })

  it('marks the failed account in the table, and fails the run naming it', async () => {
    const azure = fleetAzure()
    azure.failNext('account.create', () => restError(400, 'BadRequest', 'No capacity here.'))
    const runner = new FakeRunner({ ...fleet, 'account-concurrency': '1' })
    await run(runner, deps(azure))
    expect(runner.failed).toMatch(/^1 of 2 accounts failed/)
    const summary = runner.summaries[0]!
    expect(summary).toContain('**2 accounts**: 1 done, 1 failed.')
    expect(summary).toMatch(/\| fleet-a \| ❌ failed: Cosmos DB account: .*No capacity here\. \|/)
    expect(summary).toContain('| fleet-b | 🛠️ changed |')
    // The outputs of what did succeed are set all the same.
    expect(Object.keys(JSON.parse(runner.outputs.accounts!))).toEqual(['fleet-a', 'fleet-b'])
    expect(runner.outputs['key-uri']).toBe('https://hsm-cmk.managedhsm.azure.net/keys/cosmos-key')
  })

  it('shows no table for a single account', async () => {
    const runner = new FakeRunner(validInputs)
    await run(runner, deps(new FakeAzure().withActiveHsm()))
    expect(runner.summaries[0]).not.toContain('| Account | Result |')
  })
})

/** A runner with pull-request comments that answers `outcome` (or throws it). */
class CommentingRunner extends FakeRunner {
  comments: PullRequestComment[] = []
  constructor(
    inputs: Record<string, string>,
    private readonly answer: CommentOutcome | Error
  ) {
    super(inputs)
  }
  async commentOnPullRequest(comment: PullRequestComment): Promise<CommentOutcome> {
    this.comments.push(comment)
    if (this.answer instanceof Error) throw this.answer
    return this.answer
  }
}

const commenting = { ...validInputs, 'comment-on-pr': 'true' }
const infos = (runner: FakeRunner) =>
  runner.logs.filter(l => l.startsWith('info: ')).map(l => l.slice(6))

describe('the pull-request comment', () => {
  it('is not asked for without comment-on-pr', async () => {
    const runner = new CommentingRunner(validInputs, { outcome: 'created', url: 'u' })
    await run(runner, deps(new FakeAzure().withActiveHsm()))
    expect(runner.comments).toEqual([])
  })

  it('is said to be impossible where the CI system has no comments', async () => {
    const runner = new FakeRunner(commenting)
    await run(runner, deps(new FakeAzure().withActiveHsm()))
    expect(infos(runner)).toContain(
      'comment-on-pr: this CI system has no pull-request comments here; the job summary has the result.'
    )
  })

  it("leaves the runner's own token to the runner, names the account and where, and logs and sums up the comment", async () => {
    const url = 'https://github.com/contoso/infra/pull/7#issuecomment-1'
    const runner = new CommentingRunner(commenting, { outcome: 'created', url })
    await run(runner, deps(new FakeAzure().withActiveHsm()))
    expect(runner.comments).toHaveLength(1)
    const [comment] = runner.comments
    expect(comment!.token).toBeUndefined()
    expect(comment!.account).toBe('cosmos-cmk')
    expect(comment!.environment).toBe(`AzureCloud/${validInputs['subscription-id']}`)
    expect(comment!.markdown).toContain('cosmos-cmk')
    expect(infos(runner)).toContain(`Pull-request comment created: ${url}`)
    expect(runner.summaries.at(-1)).toBe(`\nPull-request comment created: ${url}\n`)
  })

  it('passes a token that was given, and says an updated comment as such', async () => {
    const runner = new CommentingRunner(
      { ...commenting, 'github-token': 'ghp_given' },
      { outcome: 'updated' }
    )
    await run(runner, deps(new FakeAzure().withActiveHsm()))
    expect(runner.comments[0]!.token).toBe('ghp_given')
    expect(infos(runner)).toContain('Pull-request comment updated: ')
  })

  it.each([
    [{ outcome: 'skipped', reason: 'not a pull request' } as CommentOutcome, 'not a pull request'],
    [{ outcome: 'read-only' } as CommentOutcome, 'read-only']
  ])('says why no comment was written (%j)', async (outcome, why) => {
    const runner = new CommentingRunner(commenting, outcome)
    await run(runner, deps(new FakeAzure().withActiveHsm()))
    expect(infos(runner)).toContain(`No pull-request comment: ${why}`)
  })

  it('warns, and does not fail the run, when the comment cannot be written', async () => {
    const runner = new CommentingRunner(commenting, new Error('GitHub is down'))
    await run(runner, deps(new FakeAzure().withActiveHsm()))
    expect(runner.failed).toBeUndefined()
    expect(runner.logs).toContain(
      'warning: The pull-request comment could not be written: GitHub is down'
    )
  })

  it("carries a failed run's step and message", async () => {
    const azure = new FakeAzure().withActiveHsm()
    azure.failNext('account.create', () => restError(400, 'BadRequest', 'No capacity here.'))
    const runner = new CommentingRunner(commenting, { outcome: 'created', url: 'u' })
    await run(runner, deps(azure))
    expect(runner.failed).toMatch(/No capacity here\./)
    expect(runner.comments).toHaveLength(1)
    expect(runner.comments[0]!.markdown).toMatch(/failed/i)
    expect(runner.comments[0]!.markdown).toContain('No capacity here.')
  })

  it('names every account of a fleet', async () => {
    const runner = new CommentingRunner(
      { ...commenting, 'account-name': 'fleet-a, fleet-b' },
      { outcome: 'created', url: 'u' }
    )
    await run(runner, deps(fleetAzure()))
    expect(runner.comments[0]!.account).toBe('fleet-a, fleet-b')
  })
})
