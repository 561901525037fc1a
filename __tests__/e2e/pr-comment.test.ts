/**
 * The plan as one pull-request comment, from the bundled action against the local Azure and the
 * local GitHub: created once, updated in place, and a read-only token degrades to the summary.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import {
  Lab,
  PR_NUMBER,
  assertExit0,
  preparedScenario,
  pullRequestComments,
  pullRequestEvent,
  withKey,
  withPullRequests,
  writes
} from '../../testkit/index.js'

let lab: Lab

beforeAll(async () => {
  lab = await Lab.start(withPullRequests(preparedScenario(s => withKey(s))))
})

afterAll(async () => {
  await lab?.stop()
})

const plan = (account: string) =>
  lab.inputs(account, 'first-party', { mode: 'plan', 'comment-on-pr': 'true' })

describe('comment-on-pr', () => {
  test('posts the plan once, then updates the same comment, writing nothing to Azure', async () => {
    const since = lab.emulator.requests().length
    const first = await lab.run(plan('pr-comment-a'), { event: pullRequestEvent() })
    assertExit0(first)
    const comments = pullRequestComments(lab.emulator)
    expect(comments).toHaveLength(1)
    expect(comments[0].author).toBe('github-actions[bot]')
    expect(comments[0].body).toMatch(/Plan.*pr-comment-a/)
    expect(comments[0].body).toMatch(/would change/)
    expect(first.summary).toMatch(/Pull-request comment created/)

    const second = await lab.run(plan('pr-comment-a'), { event: pullRequestEvent() })
    assertExit0(second)
    const after = pullRequestComments(lab.emulator)
    expect(after).toHaveLength(1)
    expect(after[0].id).toBe(comments[0].id)
    expect(second.summary).toMatch(/Pull-request comment updated/)
    const azureWrites = writes(lab.emulator.requests().slice(since)).filter(
      r => !/api\.github\.com/.test(r.host)
    )
    expect(azureWrites).toEqual([])
  })

  test('keeps one comment per account on a shared pull request', async () => {
    assertExit0(await lab.run(plan('pr-comment-b'), { event: pullRequestEvent() }))
    const accounts = pullRequestComments(lab.emulator).map(c =>
      /pr-comment-a/.test(c.body) ? 'a' : /pr-comment-b/.test(c.body) ? 'b' : '?'
    )
    expect(accounts.sort()).toEqual(['a', 'b'])
  })

  test('with a read-only token (a fork), says so in the summary and does not fail the step', async () => {
    lab.emulator.github({ tokenPermission: 'read' })
    try {
      const before = pullRequestComments(lab.emulator, PR_NUMBER).length
      const result = await lab.run(plan('pr-comment-c'), { event: pullRequestEvent() })
      assertExit0(result)
      expect(result.summary).toMatch(/No pull-request comment: .*read-only/i)
      expect(pullRequestComments(lab.emulator, PR_NUMBER)).toHaveLength(before)
    } finally {
      lab.emulator.github({ tokenPermission: 'write' })
    }
  })

  test('outside a pull request does nothing and says why', async () => {
    const result = await lab.run(plan('pr-comment-d'), {
      event: { name: 'push', payload: { ref: 'refs/heads/main' } }
    })
    assertExit0(result)
    expect(result.summary).toMatch(/No pull-request comment: .*pull request/i)
  })
})
