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
