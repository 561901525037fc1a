import { describe, expect, it } from '@jest/globals'
import { allows } from '../../src/azure/permissions.js'

const role = (actions: string[], notActions: string[] = []) => [{ actions, notActions }]

describe('allows', () => {
  it.each([
    [['*'], 'Microsoft.DocumentDB/databaseAccounts/write', true],
    [['*/read'], 'Microsoft.DocumentDB/databaseAccounts/write', false],
    [['*/read'], 'Microsoft.DocumentDB/databaseAccounts/read', true],
    [['Microsoft.DocumentDB/*'], 'microsoft.documentdb/databaseAccounts/write', true],
    [['Microsoft.DocumentDB/*'], 'Microsoft.KeyVault/managedHSMs/write', false],
    // A `/*/` segment also matches no segment at all, as in Managed Identity Operator.
    [
      ['Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action'],
      'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action',
      true
    ],
    [
      ['Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action'],
      'Microsoft.ManagedIdentity/userAssignedIdentities/x/y/assign/action',
      true
    ],
    [['*/register/action'], 'Microsoft.DocumentDB/register/action', true],
    [['Microsoft.Resources.Tags/write'], 'MicrosoftXResources/Tags/write', false]
  ])('%j allows %s: %s', (actions, action, expected) => {
    expect(allows(role(actions), action)).toBe(expected)
  })

  it('takes notActions away', () => {
    expect(
      allows(
        role(['*'], ['Microsoft.DocumentDB/databaseAccounts/write']),
        'Microsoft.DocumentDB/databaseAccounts/write'
      )
    ).toBe(false)
    expect(
      allows(
        [
          ...role(['*'], ['Microsoft.DocumentDB/*']),
          ...role(['Microsoft.DocumentDB/databaseAccounts/write'])
        ],
        'Microsoft.DocumentDB/databaseAccounts/write'
      )
    ).toBe(true)
  })
})
