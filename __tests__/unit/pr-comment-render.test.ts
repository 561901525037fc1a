import { describe, expect, it } from '@jest/globals'
import { irreversibleReason, renderPlanComment, runLink } from '../../src/pr-comment/index.js'
import type { StepRecord } from '../../src/steps/context.js'
import { Step } from '../../src/steps/names.js'
import { fakeJwt } from './fakes.js'

const planRecords: StepRecord[] = [
  { step: Step.SignIn, observed: 'signed in', action: 'none', result: 'ok' },
  {
    step: Step.Providers,
    observed: 'Microsoft.DocumentDB NotRegistered',
    action: 'register Microsoft.DocumentDB',
    result: 'would-change'
  },
  {
    step: Step.Hsm,
    observed: 'absent',
    action: 'create Standard_B1 in westeurope with soft delete (7 days) and purge protection',
    result: 'would-change'
  },
  { step: Step.Key, observed: 'present', action: 'none', result: 'ok' },
  {
    step: Step.Account,
    observed: 'absent',
    action: 'create nosql (GlobalDocumentDB) in westeurope with key https://hsm/keys/k',
    result: 'would-change'
  }
]

const outputs = {
  'hsm-uri': 'https://hsm-cmk-demo.managedhsm.azure.net/',
  'key-uri': 'https://hsm-cmk-demo.managedhsm.azure.net/keys/cmk',
  changed: 'true'
}

describe('renderPlanComment', () => {
  const markdown = renderPlanComment({
    mode: 'plan',
    account: 'cosmos-pr-12',
    environment: 'pr-12',
    records: planRecords,
    outputs,
    run: { url: 'https://github.com/contoso/cosmos-cmk/actions/runs/42', label: 'Run 42' }
  })

  it('lists what apply would do, step by step, in order', () => {
    expect(markdown).toContain(
      '### 📝 Plan: Cosmos DB account ` cosmos-pr-12 `, environment ` pr-12 `'
    )
    expect(markdown).toContain(
      '**Apply would change 3 steps, 2 of them irreversible.** Nothing was written.'
    )
    const items = markdown.split('\n').filter(l => /^\d+\. /.test(l))
    expect(items.map(l => /\*\*([^*]+)\*\*:/.exec(l)?.[1])).toEqual([
      Step.Providers,
      Step.Hsm,
      Step.Account
    ])
  })

  it('flags the irreversible steps and says why', () => {
    const hsm = markdown.split('\n').findIndex(l => l.includes(`**${Step.Hsm}**`))
    expect(markdown.split('\n')[hsm]).toMatch(/^2\. ⚠️ \*\*irreversible\*\*/)
    expect(markdown.split('\n')[hsm + 1]).toMatch(/purge protection can never be turned off/)
    const providers = markdown.split('\n').find(l => l.includes(`**${Step.Providers}**`))!
    expect(providers).not.toContain('irreversible')
  })

  it('folds the steps with nothing to do away, and shows the outputs and the run', () => {
    expect(markdown).toMatch(/<details><summary>Steps with nothing to do \(2\)<\/summary>/)
    expect(markdown).toContain(
      '| key-uri | ` https://hsm-cmk-demo.managedhsm.azure.net/keys/cmk ` |'
    )
    expect(markdown).toContain('[Run 42](https://github.com/contoso/cosmos-cmk/actions/runs/42)')
  })

  it('escapes what the records say and drops anything token-shaped', () => {
    const jwt = fakeJwt({ oid: 'someone' })
    const hostile = renderPlanComment({
      mode: 'plan',
      account: 'a`b',
      records: [
        {
          step: Step.Account,
          observed: '<img src=x onerror=alert(1)> | cell',
          action: `create with ${jwt}\n## heading`,
          result: 'would-change'
        }
      ]
    })
    expect(hostile).not.toContain(jwt)
    expect(hostile).not.toMatch(/(^|[^\\])<img/)
    expect(hostile).toContain('**Apply would change 1 step, which is irreversible.**')
    expect(hostile).toContain('\\<img src=x onerror=alert(1)\\> \\| cell')
    expect(hostile).not.toMatch(/^## heading/m)
    expect(hostile).toContain('`` a`b ``')
  })

  it('says when apply would change nothing, or verify found everything in place', () => {
    const quiet = planRecords.filter(r => r.result === 'ok')
    expect(renderPlanComment({ mode: 'plan', account: 'a', records: quiet })).toContain(
      '**Apply would change nothing.**'
    )
    const verify = renderPlanComment({ mode: 'verify', account: 'a', records: quiet })
    expect(verify).toContain('### 🔎 Verify')
    expect(verify).toContain('**Everything is in place.**')
  })

  it('shows the failure in a fence that the message cannot close', () => {
    const failed = renderPlanComment({
      mode: 'apply',
      account: 'a',
      records: [{ step: Step.Key, observed: 'absent', action: 'create', result: 'failed' }],
      failure: { step: Step.Key, message: 'boom ``` not closed' }
    })
    expect(failed).toContain('**The run failed.**')
    expect(failed).toContain('````\nboom ``` not closed\n````')
  })
})

describe('irreversibleReason', () => {
  it('flags lasting changes only where they would happen or happened', () => {
    const hsm = planRecords[2]!
    expect(irreversibleReason(hsm)).toMatch(/purge protection/)
    expect(irreversibleReason({ ...hsm, result: 'changed' })).toBeDefined()
    expect(irreversibleReason({ ...hsm, result: 'ok', action: 'none' })).toBeUndefined()
    expect(
      irreversibleReason({
        step: Step.Bootstrap,
        observed: 'present',
        action: 'remove grant',
        result: 'would-change'
      })
    ).toBeUndefined()
    expect(
      irreversibleReason({
        step: Step.DefaultIdentity,
        observed: 'x',
        action: 'turn it on (irreversible)',
        result: 'would-change'
      })
    ).toBe('this cannot be undone')
  })
})

describe('runLink', () => {
  it('links the run on the server of the context', () => {
    expect(
      runLink({
        serverUrl: 'https://ghes.example.com',
        runId: 7,
        repo: { owner: 'o', repo: 'r' },
        sha: 'abcdef0123456789'
      })
    ).toEqual({ url: 'https://ghes.example.com/o/r/actions/runs/7', label: 'Run 7 on abcdef0' })
  })
})

describe('renderPlanComment for a fleet', () => {
  it('names every account in the title and each account step with its account', () => {
    const markdown = renderPlanComment({
      mode: 'plan',
      account: 'fleet-a, fleet-b',
      environment: 'prod',
      records: [
        { step: Step.Key, observed: 'present', action: 'none', result: 'ok' },
        { ...planRecords[4], account: 'fleet-a' },
        {
          step: Step.Account,
          account: 'fleet-b',
          observed: 'present',
          action: 'none',
          result: 'ok'
        }
      ],
      outputs
    })
    expect(markdown).toContain('### 📝 Plan: Cosmos DB accounts ` fleet-a, fleet-b `')
    expect(markdown).toMatch(/1\. ⚠️ \*\*irreversible\*\* · \*\*Cosmos DB account \(fleet-a\)\*\*/)
    expect(markdown).toContain('| Cosmos DB account (fleet-b) | present | ✅ no change |')
  })
})

describe('renderPlanComment, whole', () => {
  const records: StepRecord[] = [
    { step: Step.SignIn, observed: 'signed in', action: 'none', result: 'ok' },
    {
      step: Step.Providers,
      observed: 'NotRegistered',
      action: 'register Microsoft.DocumentDB',
      result: 'would-change'
    },
    { step: Step.Hsm, observed: 'absent', action: 'create Standard_B1', result: 'would-change' },
    { step: Step.Key, observed: 'present', action: 'none', result: 'ok' }
  ]
  const change = (
    step: StepRecord['step'],
    result: StepRecord['result'] = 'would-change'
  ): StepRecord => ({
    step,
    observed: 'o',
    action: 'a',
    result
  })
  const headlineOf = (input: Parameters<typeof renderPlanComment>[0]) =>
    renderPlanComment(input).split('\n')[2]

  it('renders a plan: title, headline, numbered changes with the irreversible one flagged, the rest folded, outputs, run', () => {
    const markdown = renderPlanComment({
      mode: 'plan',
      account: 'a',
      records,
      outputs: { 'key-uri': 'https://h/keys/k', 'hsm-uri': 'https://h/' },
      run: { url: 'https://github.com/o/r/actions/runs/1', label: 'Run 1' }
    })
    expect(markdown).toBe(
      [
        '### 📝 Plan: Cosmos DB account ` a `',
        '',
        '**Apply would change 2 steps, 1 of them irreversible.** Nothing was written.',
        '',
        '1. **Resource providers**: register Microsoft.DocumentDB (📝 would change; observed: NotRegistered)',
        '2. ⚠️ **irreversible** · **Managed HSM**: create Standard\\_B1 (📝 would change; observed: absent)',
        '   <br>⚠️ purge protection can never be turned off, and a deleted HSM stays billed until its retention period ends',
        '',
        '<details><summary>Steps with nothing to do (2)</summary>',
        '',
        '| Step | Observed | Result |',
        '| --- | --- | --- |',
        '| Sign in | signed in | ✅ no change |',
        '| Key | present | ✅ no change |',
        '',
        '</details>',
        '',
        '| Output | Value |',
        '| --- | --- |',
        '| hsm-uri | ` https://h/ ` |',
        '| key-uri | ` https://h/keys/k ` |',
        '',
        '<sub>[Run 1](https://github.com/o/r/actions/runs/1) · this comment is updated in place by every run of this job</sub>'
      ].join('\n')
    )
  })

  it('renders a run that changed nothing: no list, no outputs table, no run link', () => {
    expect(
      renderPlanComment({
        mode: 'apply',
        account: 'a,b',
        environment: 'pr-1',
        records: records.slice(0, 1),
        outputs: { 'key-uri': '' }
      })
    ).toBe(
      [
        '### 🛠️ Apply: Cosmos DB accounts ` a,b `, environment ` pr-1 `',
        '',
        '**Nothing needed to change.**',
        '',
        '<details><summary>Steps with nothing to do (1)</summary>',
        '',
        '| Step | Observed | Result |',
        '| --- | --- | --- |',
        '| Sign in | signed in | ✅ no change |',
        '',
        '</details>',
        '',
        '<sub>this comment is updated in place by every run of this job</sub>'
      ].join('\n')
    )
  })

  it('renders only changes when every step has something to do, and the failure after them', () => {
    expect(
      renderPlanComment({
        mode: 'apply',
        account: 'a',
        records: [change(Step.Providers, 'changed'), change(Step.Key, 'failed')],
        failure: { step: Step.Key, message: 'boom' }
      })
    ).toBe(
      [
        '### 🛠️ Apply: Cosmos DB account ` a `',
        '',
        '**The run failed.** Before that: 2 steps.',
        '',
        '1. **Resource providers**: a (🛠️ changed; observed: o)',
        '2. **Key**: a (❌ failed; observed: o)',
        '',
        '**Failed in step Key:**',
        '',
        '```\nboom\n```',
        '',
        '<sub>this comment is updated in place by every run of this job</sub>'
      ].join('\n')
    )
  })

  it.each([
    ['plan', [], '**Apply would change nothing.** Nothing was written.'],
    ['plan', [Step.Providers], '**Apply would change 1 step.** Nothing was written.'],
    [
      'plan',
      [Step.Hsm],
      '**Apply would change 1 step, which is irreversible.** Nothing was written.'
    ],
    [
      'plan',
      [Step.Hsm, Step.Account],
      '**Apply would change 2 steps, all of them irreversible.** Nothing was written.'
    ],
    ['verify', [], '**Everything is in place.**'],
    ['verify', [Step.Key], '**1 step needs attention.**'],
    ['verify', [Step.Key, Step.Account], '**2 steps need attention.**'],
    ['apply', [], '**Nothing needed to change.**'],
    ['apply', [Step.Providers, Step.Hsm], '**This run changed 2 steps, 1 of them irreversible.**'],
    ['teardown', [Step.Providers], '**This run changed 1 step.**']
  ])('headline of %s with changes in %j', (mode, steps, headline) => {
    const changes = (steps as StepRecord['step'][]).map(step => change(step))
    expect(headlineOf({ mode, account: 'a', records: changes })).toBe(headline)
  })

  it('says only that the run failed when it failed before any change, else what changed before', () => {
    const failure = { step: 'x', message: 'm' }
    expect(headlineOf({ mode: 'apply', account: 'a', records: [], failure })).toBe(
      '**The run failed.**'
    )
    expect(
      headlineOf({ mode: 'apply', account: 'a', records: [change(Step.Hsm, 'changed')], failure })
    ).toBe('**The run failed.** Before that: 1 step, which is irreversible.')
  })

  it('titles each mode, and an unknown one by its escaped name', () => {
    const titleOf = (mode: string) => renderPlanComment({ mode, account: 'a', records: [] })
    expect(titleOf('teardown')).toMatch(/^### 🧹 Teardown: /)
    expect(titleOf('verify')).toMatch(/^### 🔎 Verify: /)
    expect(titleOf('re_run')).toMatch(/^### re\\_run: /)
  })

  it("flags what the caller's own rule says cannot be undone, instead of the default rule", () => {
    const markdown = renderPlanComment({
      mode: 'plan',
      account: 'a',
      records: [change(Step.Hsm), change(Step.Providers)],
      irreversible: r => (r.step === Step.Providers ? 'never again' : undefined)
    })
    expect(markdown.split('\n').slice(2, 8)).toEqual([
      '**Apply would change 2 steps, 1 of them irreversible.** Nothing was written.',
      '',
      '1. **Managed HSM**: a (📝 would change; observed: o)',
      '2. ⚠️ **irreversible** · **Resource providers**: a (📝 would change; observed: o)',
      '   <br>⚠️ never again',
      ''
    ])
  })
})

describe('irreversibleReason, the default rule', () => {
  const record = (action: string, result: StepRecord['result'] = 'would-change'): StepRecord => ({
    step: Step.Bootstrap,
    observed: 'o',
    action,
    result
  })

  it.each([
    ['delete the bootstrap grant', 'a deletion cannot be undone'],
    ['  Delete it', 'a deletion cannot be undone'],
    ['turn it on (Irreversible)', 'this cannot be undone'],
    ['remove the deleted grant', undefined],
    ['undelete', undefined],
    ['irreversibleish', undefined]
  ])('%j: %p', (action, reason) => {
    expect(irreversibleReason(record(action))).toBe(reason)
    expect(irreversibleReason(record(action, 'changed'))).toBe(reason)
  })

  it.each(['ok', 'skipped', 'warning', 'failed'] as const)(
    'flags nothing for a %s step, however lasting its kind',
    result => {
      expect(irreversibleReason(record('delete it', result))).toBeUndefined()
      expect(irreversibleReason({ ...record('create', result), step: Step.Hsm })).toBeUndefined()
    }
  )

  it.each([
    [Step.Activation, /^an activated HSM stays activated; only the downloaded security domain/],
    [
      Step.Key,
      /^a key on a purge-protected HSM cannot be purged before its retention period ends$/
    ],
    [Step.Account, /^an account keeps its customer-managed key for good$/]
  ])('says why a change of %s lasts', (step, reason) => {
    expect(irreversibleReason({ ...record('create'), step })).toMatch(reason)
  })
})
