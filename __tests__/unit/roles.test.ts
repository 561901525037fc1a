import { describe, expect, it } from '@jest/globals'
import {
  hsmRoles,
  normaliseScope,
  roleAssignmentName,
  roleDefinitionId,
  roleGuidOf,
  scopeCovers,
  uuidV5
} from '../../src/roles.js'

describe('uuidV5', () => {
  it('matches the RFC 4122 name-based UUID for a known vector', () => {
    // Python: uuid.uuid5(uuid.NAMESPACE_DNS, 'www.example.com')
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe(
      '2ed6657d-e927-568b-95e1-2665a8aea6a2'
    )
  })
})

describe('roleAssignmentName', () => {
  const principal = '44444444-4444-4444-4444-444444444444'

  it('is a version 5 UUID, stable across runs and case', () => {
    const name = roleAssignmentName('hsm-cmk', '/keys', hsmRoles.cryptoUser.id, principal)
    expect(name).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(
      roleAssignmentName('HSM-CMK', '//keys/', hsmRoles.cryptoUser.id, principal.toUpperCase())
    ).toBe(name)
  })

  it('differs when any of HSM, scope, role or principal differs', () => {
    const base = roleAssignmentName('hsm-cmk', '/keys', hsmRoles.cryptoUser.id, principal)
    const others = [
      roleAssignmentName('hsm-other', '/keys', hsmRoles.cryptoUser.id, principal),
      roleAssignmentName('hsm-cmk', '/keys/k', hsmRoles.cryptoUser.id, principal),
      roleAssignmentName('hsm-cmk', '/keys', hsmRoles.cryptoServiceEncryptionUser.id, principal),
      roleAssignmentName(
        'hsm-cmk',
        '/keys',
        hsmRoles.cryptoUser.id,
        '55555555-5555-5555-5555-555555555555'
      )
    ]
    expect(new Set([base, ...others]).size).toBe(5)
  })
})

describe('scopes and role ids', () => {
  it('normalises scopes', () => {
    expect(normaliseScope('/')).toBe('/')
    expect(normaliseScope('')).toBe('/')
    expect(normaliseScope('keys')).toBe('/keys')
    expect(normaliseScope('///keys//k/')).toBe('/keys/k')
  })

  it('lets a broader scope cover a narrower one, never the reverse', () => {
    expect(scopeCovers('/', '/keys/k')).toBe(true)
    expect(scopeCovers('/keys', '/keys/k')).toBe(true)
    expect(scopeCovers('/keys/k', '/keys/k')).toBe(true)
    expect(scopeCovers('/keys/k', '/keys')).toBe(false)
    expect(scopeCovers('/keys/k', '/keys/kk')).toBe(false)
  })

  it('builds and reads role definition ids', () => {
    const id = roleDefinitionId(hsmRoles.cryptoServiceEncryptionUser)
    expect(id).toBe(
      'Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/33413926-3206-4cdd-b39a-83574fe37a17'
    )
    expect(roleGuidOf(`/${id.toUpperCase()}`)).toBe('33413926-3206-4cdd-b39a-83574fe37a17')
  })
})
