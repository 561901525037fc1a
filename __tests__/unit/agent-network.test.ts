/**
 * A self-hosted agent's network settings as the task applies them: the proxy and its bypass list as
 * the variables the Azure SDK reads (on an env object of the test's own), and the agent's CA file.
 */
import { afterAll, describe, expect, it, jest } from '@jest/globals'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import tls from 'node:tls'
import { trustAgentCa, useAgentProxy } from '../../src/auth/agent-network.js'
import { ActionError } from '../../src/errors.js'

describe('useAgentProxy', () => {
  it('changes nothing without a proxy URL', () => {
    const env: NodeJS.ProcessEnv = { HTTPS_PROXY: 'http://before:1' }
    expect(useAgentProxy(undefined, env)).toEqual([])
    expect(useAgentProxy(null, env)).toEqual([])
    expect(useAgentProxy({ proxyUrl: '' }, env)).toEqual([])
    expect(env).toEqual({ HTTPS_PROXY: 'http://before:1' })
  })

  it('points every proxy variable, both spellings, at the proxy, its credentials included', () => {
    const env: NodeJS.ProcessEnv = {}
    useAgentProxy(
      { proxyUrl: 'http://proxy:8080', proxyFormattedUrl: 'http://user:pass@proxy:8080' },
      env
    )
    expect(env).toEqual({
      HTTPS_PROXY: 'http://user:pass@proxy:8080',
      https_proxy: 'http://user:pass@proxy:8080',
      HTTP_PROXY: 'http://user:pass@proxy:8080',
      http_proxy: 'http://user:pass@proxy:8080',
      NO_PROXY: '',
      no_proxy: ''
    })
  })

  it('uses the plain proxy URL when the agent gave no formatted one', () => {
    const env: NodeJS.ProcessEnv = {}
    useAgentProxy({ proxyUrl: 'http://proxy:8080', proxyFormattedUrl: '' }, env)
    expect(env.HTTPS_PROXY).toBe('http://proxy:8080')
  })

  it.each([
    ['^localhost$', 'localhost'],
    ['  ^Host\\.Example\\.com$  ', 'host.example.com'],
    ['\\.example\\.com$', '.example.com'],
    ['.*\\.example\\.com', '.example.com'],
    ['^https://api\\.example\\.com/.*$', 'api.example.com'],
    ['http://intranet$', 'intranet'],
    ['my-host', 'my-host'],
    ['10\\.0\\.0\\.1', '10.0.0.1']
  ])('takes the bypass entry %j as the host %j', (entry, host) => {
    const env: NodeJS.ProcessEnv = {}
    expect(
      useAgentProxy({ proxyUrl: 'http://proxy:8080', proxyBypassHosts: [entry] }, env)
    ).toEqual([])
    expect(env.NO_PROXY).toBe(host)
    expect(env.no_proxy).toBe(host)
  })

  it.each([
    ['https?://.*\\.(net|org)'],
    ['^10\\.0\\.\\d+\\.\\d+$'],
    ['[a-z]+\\.example\\.com'],
    ['host name'],
    ['host..example'],
    ['']
  ])('answers the bypass entry %j, which names no host, as unusable', entry => {
    const env: NodeJS.ProcessEnv = {}
    const unusable = useAgentProxy(
      { proxyUrl: 'http://proxy:8080', proxyBypassHosts: ['^localhost$', entry] },
      env
    )
    expect(unusable).toEqual([entry])
    expect(env.NO_PROXY).toBe('localhost')
  })

  it('joins the hosts of several entries', () => {
    const env: NodeJS.ProcessEnv = {}
    useAgentProxy(
      { proxyUrl: 'http://proxy:8080', proxyBypassHosts: ['^a\\.com$', '\\.b\\.com$'] },
      env
    )
    expect(env.NO_PROXY).toBe('a.com,.b.com')
  })
})

describe('trustAgentCa', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agent-ca-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('does nothing without a CA file', () => {
    expect(() => trustAgentCa(undefined)).not.toThrow()
    expect(() => trustAgentCa('')).not.toThrow()
  })

  it('refuses a CA file it cannot read, naming it and why', () => {
    const missing = join(dir, 'missing.pem')
    expect(() => trustAgentCa(missing)).toThrow(ActionError)
    expect(() => trustAgentCa(missing)).toThrow(
      new RegExp(
        `^The agent's CA certificate file \\(Agent\\.CAInfo\\) '${missing.replace(/[.\\]/g, '\\$&')}' cannot be read: ENOENT`
      )
    )
  })

  it('refuses a CA file that holds no PEM certificate', () => {
    const file = join(dir, 'not-a-cert.pem')
    writeFileSync(file, '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n')
    expect(() => trustAgentCa(file)).toThrow(
      new ActionError(
        `The agent's CA certificate file (Agent.CAInfo) '${file}' holds no PEM certificate.`
      )
    )
  })

  it('adds each certificate of the file once to the ones new connections trust', () => {
    const file = join('__tests__', 'unit', 'fixtures', 'two-certificates.pem')
    const flat = (pem: string) => pem.replace(/\s+/g, '')
    const fixture = readFileSync(file, 'utf8')
      .match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)!
      .map(flat)
    const before = tls.getCACertificates('default')
    expect(fixture).toHaveLength(2)
    expect(before.map(flat)).not.toContain(fixture[0])
    try {
      trustAgentCa(file)
      const after = tls.getCACertificates('default').map(flat)
      expect(after).toEqual(expect.arrayContaining(fixture))
      trustAgentCa(file)
      expect(tls.getCACertificates('default').map(flat)).toEqual(after)
    } finally {
      tls.setDefaultCACertificates(before)
    }
  })

  it('leaves the trusted list alone when each certificate is in it already, however it is wrapped', () => {
    const file = join('__tests__', 'unit', 'fixtures', 'two-certificates.pem')
    const before = tls.getCACertificates('default')
    try {
      trustAgentCa(file)
      const trusted = tls.getCACertificates('default')
      const rewrapped = join(dir, 'rewrapped.pem')
      writeFileSync(rewrapped, readFileSync(file, 'utf8').replace(/\n/g, '\r\n\r\n'))
      const set = jest.spyOn(tls, 'setDefaultCACertificates')
      try {
        trustAgentCa(rewrapped)
        expect(set).not.toHaveBeenCalled()
      } finally {
        set.mockRestore()
      }
      expect(tls.getCACertificates('default')).toEqual(trusted)
    } finally {
      tls.setDefaultCACertificates(before)
    }
  })
})
