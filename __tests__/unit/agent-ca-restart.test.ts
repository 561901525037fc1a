/**
 * The task's restart on a Node that cannot add a CA to a running process: with Agent.CAInfo set it
 * runs itself again in a child that trusts the CA (and any NODE_EXTRA_CA_CERTS already given), with
 * the same arguments, and exits as the child does. The child process and the exit are typed fakes.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals'
import type { SpawnSyncOptions } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import tls from 'node:tls'

const spawned: { command: string; args: string[]; options: SpawnSyncOptions }[] = []
let childStatus: number | null = 0
jest.unstable_mockModule('node:child_process', () => ({
  spawnSync: (command: string, args: string[], options: SpawnSyncOptions) => {
    spawned.push({ command, args, options })
    return { status: childStatus }
  }
}))

const { restartToTrustAgentCa } = await import('../../src/auth/agent-network.js')

class Exited extends Error {
  constructor(readonly code: number | undefined) {
    super(`exit ${code}`)
  }
}

const RESTARTED = 'COSMOS_CMK_AGENT_CA_RESTARTED'
const dir = mkdtempSync(join(tmpdir(), 'agent-ca-restart-'))
const agentCa = join(dir, 'agent-ca.pem')
const otherCa = join(dir, 'other-ca.pem')
writeFileSync(agentCa, 'AGENT CA\n')
writeFileSync(otherCa, 'OTHER CA\n')
afterAll(() => rmSync(dir, { recursive: true, force: true }))

type SetDefault = typeof tls.setDefaultCACertificates
const inProcess = tls.setDefaultCACertificates
/** Node before 24: no way to add a CA to the running process. */
function withoutInProcessTrust(): void {
  ;(tls as { setDefaultCACertificates?: SetDefault }).setDefaultCACertificates = undefined
}

beforeEach(() => {
  spawned.length = 0
  childStatus = 0
  jest.spyOn(process, 'exit').mockImplementation(code => {
    throw new Exited(code === undefined || code === null ? undefined : Number(code))
  })
})

afterEach(() => {
  tls.setDefaultCACertificates = inProcess
  jest.restoreAllMocks()
})

describe('restartToTrustAgentCa', () => {
  it('does not restart where the process can trust the CA itself', () => {
    restartToTrustAgentCa({ AGENT_CAINFO: agentCa })
    expect(spawned).toEqual([])
  })

  it.each([
    ['no Agent.CAInfo', {}],
    ['a blank Agent.CAInfo', { AGENT_CAINFO: '  ' }],
    ['a CA file that is not there', { AGENT_CAINFO: join(dir, 'missing.pem') }],
    ['the restarted process itself', { AGENT_CAINFO: agentCa, [RESTARTED]: agentCa }]
  ])('does not restart for %s', (_, env) => {
    withoutInProcessTrust()
    restartToTrustAgentCa(env)
    expect(spawned).toEqual([])
  })

  it('runs the task again with the same arguments, trusting the CA, and exits as it did', () => {
    withoutInProcessTrust()
    childStatus = 3
    const env = { AGENT_CAINFO: ` ${agentCa} `, PATH: '/usr/bin', [RESTARTED]: 'an older CA' }
    expect(() => restartToTrustAgentCa(env)).toThrow(new Exited(3))
    expect(spawned).toEqual([
      {
        command: process.execPath,
        args: [...process.execArgv, ...process.argv.slice(1)],
        options: {
          stdio: 'inherit',
          env: { ...env, NODE_EXTRA_CA_CERTS: agentCa, [RESTARTED]: agentCa }
        }
      }
    ])
  })

  it('exits with 1 when the child ended without a status (killed by a signal)', () => {
    withoutInProcessTrust()
    childStatus = null
    expect(() => restartToTrustAgentCa({ AGENT_CAINFO: agentCa })).toThrow(new Exited(1))
  })

  it('trusts the CAs of NODE_EXTRA_CA_CERTS too, in a bundle in the agent temp folder', () => {
    withoutInProcessTrust()
    const env = { AGENT_CAINFO: agentCa, NODE_EXTRA_CA_CERTS: otherCa, AGENT_TEMPDIRECTORY: dir }
    expect(() => restartToTrustAgentCa(env)).toThrow(new Exited(0))
    const bundle = join(dir, `cosmos-cmk-ca-${process.pid}.pem`)
    expect(spawned[0].options.env).toEqual({
      ...env,
      NODE_EXTRA_CA_CERTS: bundle,
      [RESTARTED]: agentCa
    })
    expect(readFileSync(bundle, 'utf8')).toBe('OTHER CA\n\nAGENT CA\n\n')
  })

  it.each([
    ['the agent CA itself', agentCa],
    ['a file that is not there', join(dir, 'gone.pem')]
  ])('trusts the agent CA alone where NODE_EXTRA_CA_CERTS is %s', (_, extra) => {
    withoutInProcessTrust()
    const env = { AGENT_CAINFO: agentCa, NODE_EXTRA_CA_CERTS: extra, AGENT_TEMPDIRECTORY: dir }
    expect(() => restartToTrustAgentCa(env)).toThrow(Exited)
    expect(spawned[0].options.env?.NODE_EXTRA_CA_CERTS).toBe(agentCa)
  })
})
