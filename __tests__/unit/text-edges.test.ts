/**
 * Small text rules whose edges matter: scopes and HSM URIs without any run of trailing slashes,
 * inline code on one line whatever the line ends and however long its backtick runs, and the name
 * an ActionError carries into logs.
 */
import { describe, expect, it } from '@jest/globals'
import { getCloud, scopeOf } from '../../src/cloud.js'
import { ActionError } from '../../src/errors.js'
import { markdownCode } from '../../src/escape.js'
import { hsmBaseUri } from '../../src/key-uri.js'

describe('trailing slashes', () => {
  it('drops every trailing slash of a resource before its scope', () => {
    expect(scopeOf('https://managedhsm.azure.net//')).toBe('https://managedhsm.azure.net/.default')
  })

  it("drops every trailing slash of ARM's hsmUri", () => {
    const cloud = getCloud('AzureCloud')
    expect(hsmBaseUri(cloud, 'hsm-cmk', 'https://hsm-cmk.managedhsm.azure.net//')).toBe(
      'https://hsm-cmk.managedhsm.azure.net'
    )
  })
})

describe('markdownCode', () => {
  it('puts text of several lines on one, whatever its line ends', () => {
    expect(markdownCode('a\r\nb\nc')).toBe('` a b c `')
  })

  it('fences with one backtick more than the longest run inside', () => {
    expect(markdownCode('x ``` y ` z')).toBe('```` x ``` y ` z ````')
  })
})

describe('ActionError', () => {
  it('is named for what it is', () => {
    expect(new ActionError('m').name).toBe('ActionError')
    expect(String(new ActionError('the message'))).toBe('ActionError: the message')
  })
})
