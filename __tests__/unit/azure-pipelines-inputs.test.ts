/** How the task spells the action's names: camelCase, except the sign-in inputs, whole names only. */
import { describe, expect, it } from '@jest/globals'
import { camelCase, inTaskWords, taskNameOf } from '../../src/runner/azure-pipelines-inputs.js'

describe('inTaskWords', () => {
  const names = ['hsm-name', 'key-uri', 'client-id', 'mode']

  it('spells every hyphenated input and output the task has in camelCase', () => {
    expect(inTaskWords('Set hsm-name, then read key-uri.', names)).toBe(
      'Set hsmName, then read keyUri.'
    )
  })

  it('leaves the sign-in inputs, which the task takes from its connection, as they are', () => {
    expect(inTaskWords('client-id is missing', names)).toBe('client-id is missing')
  })

  it('leaves names inside paths and longer words alone', () => {
    expect(inTaskWords('see ./hsm-name and hsm-names and x/key-uri', names)).toBe(
      'see ./hsm-name and hsm-names and x/key-uri'
    )
  })

  it('changes nothing without hyphenated names', () => {
    expect(inTaskWords('mode hsm-name', ['mode'])).toBe('mode hsm-name')
  })

  it('answers the task name of an input, none for a sign-in input', () => {
    expect(taskNameOf('account-concurrency')).toBe('accountConcurrency')
    expect(taskNameOf('tenant-id')).toBeUndefined()
    expect(camelCase('a-b-c1-d')).toBe('aBC1D')
  })
})
