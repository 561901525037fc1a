/** commentTarget: the pull request each kind of event names, and why none when it names none. */
import { describe, expect, it } from '@jest/globals'
import { commentTarget, type RunContext } from '../../src/pr-comment/index.js'

const on = (eventName: string, payload: Record<string, unknown> = {}): RunContext => ({
  eventName,
  payload,
  repo: { owner: 'contoso', repo: 'cosmos-cmk' },
  apiUrl: 'https://api.github.com'
})

const none = (reason: string) => ({ kind: 'none', reason })

describe('commentTarget', () => {
  it.each([
    [5, { kind: 'number', number: 5, via: 'the given number' }],
    [0, none("'0' is not a pull request number")],
    [-3, none("'-3' is not a pull request number")],
    [1.5, none("'1.5' is not a pull request number")]
  ])('takes a given number %p over the event', (number, target) => {
    expect(commentTarget(on('push'), number)).toEqual(target)
    expect(commentTarget(on('pull_request', { number: 9 }), number)).toEqual(target)
  })

  it.each([
    'pull_request',
    'pull_request_target',
    'pull_request_review',
    'pull_request_review_comment'
  ])('reads the number of a %s event, from the pull request or the event', event => {
    expect(commentTarget(on(event, { pull_request: { number: 3 }, number: 4 }))).toEqual({
      kind: 'number',
      number: 3,
      via: event
    })
    expect(commentTarget(on(event, { number: 4 }))).toEqual({
      kind: 'number',
      number: 4,
      via: event
    })
    for (const payload of [
      {},
      { number: 0 },
      { pull_request: { number: '3' } },
      { pull_request: null }
    ]) {
      expect(commentTarget(on(event, payload))).toEqual(
        none(`the ${event} event names no pull request`)
      )
    }
  })

  it('reads an issue comment on a pull request, and refuses one on an issue', () => {
    expect(commentTarget(on('issue_comment', { issue: { number: 7, pull_request: {} } }))).toEqual({
      kind: 'number',
      number: 7,
      via: 'issue_comment'
    })
    const onIssue = none('the comment that triggered the run is on an issue, not on a pull request')
    expect(commentTarget(on('issue_comment', { issue: { number: 7 } }))).toEqual(onIssue)
    expect(commentTarget(on('issue_comment', { issue: { pull_request: {} } }))).toEqual(onIssue)
    expect(commentTarget(on('issue_comment', {}))).toEqual(onIssue)
  })

  describe('a workflow_run event', () => {
    const run = (workflowRun: unknown) =>
      commentTarget(on('workflow_run', { workflow_run: workflowRun }))
    const pulls = [
      { number: 9, head: { sha: 'aaa' } },
      { number: 10, head: { sha: 'bbb' } }
    ]

    it('takes the listed pull request whose head is the run head, else the first listed', () => {
      const via = 'workflow_run.pull_requests'
      expect(run({ event: 'pull_request', head_sha: 'bbb', pull_requests: pulls })).toEqual({
        kind: 'number',
        number: 10,
        via
      })
      expect(run({ event: 'pull_request', head_sha: 'ccc', pull_requests: pulls })).toEqual({
        kind: 'number',
        number: 9,
        via
      })
      expect(
        run({ event: 'pull_request_target', pull_requests: [{ number: 11, head: null }] })
      ).toEqual({ kind: 'number', number: 11, via })
    })

    it("finds a fork's pull request by its head when none is listed", () => {
      const fork = {
        event: 'pull_request',
        pull_requests: [],
        head_repository: { owner: { login: 'fork-owner' } },
        head_branch: 'feature'
      }
      expect(run({ ...fork, head_sha: 'abc' })).toEqual({
        kind: 'head',
        head: 'fork-owner:feature',
        sha: 'abc'
      })
      expect(run(fork)).toEqual({ kind: 'head', head: 'fork-owner:feature' })
      expect(run({ ...fork, pull_requests: 'none' })).toEqual({
        kind: 'head',
        head: 'fork-owner:feature'
      })
      const neither = none('the workflow_run event names neither a pull request nor its head')
      expect(run({ ...fork, head_branch: '' })).toEqual(neither)
      expect(run({ ...fork, head_repository: { owner: {} } })).toEqual(neither)
      expect(run({ ...fork, pull_requests: [{ number: 0 }] })).toEqual({
        kind: 'head',
        head: 'fork-owner:feature'
      })
    })

    it('names the event of a triggering run that was not on a pull request', () => {
      expect(run({ event: 'push', pull_requests: pulls })).toEqual(
        none("the workflow run that triggered this one ran on 'push', not on a pull request")
      )
      for (const workflowRun of [{}, null, 'x', { event: '' }]) {
        expect(run(workflowRun)).toEqual(
          none(
            "the workflow run that triggered this one ran on 'an unknown event', not on a pull request"
          )
        )
      }
    })
  })

  it.each([
    ['push', "the workflow was triggered by 'push', not by a pull request"],
    ['', "the workflow was triggered by 'an unknown event', not by a pull request"]
  ])('names any other event %p', (event, reason) => {
    expect(commentTarget(on(event, { number: 5, pull_request: { number: 5 } }))).toEqual(
      none(reason)
    )
  })
})
