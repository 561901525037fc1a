import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { spawn } from 'node:child_process'
import { startTestEmulator, type TestEmulator } from './helpers.js'

let t: TestEmulator

beforeAll(async () => {
  t = await startTestEmulator()
})

afterAll(async () => {
  await t.stop()
})

/** What a separate process (the action, a demo script) does with nothing but the emulator's env. */
const SCRIPT = `
import { ClientAssertionCredential } from '@azure/identity'
import { getIDToken } from '@actions/core'
const env = process.env
const credential = new ClientAssertionCredential(env.AZURE_TENANT_ID, env.AZURE_CLIENT_ID, () =>
  getIDToken('api://AzureADTokenExchange'))
const { token } = await credential.getToken('https://management.azure.com/.default')
const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString())
console.log('RESULT ' + JSON.stringify({ oid: claims.oid, aud: claims.aud }))
`

describe('a client in another process', () => {
  it('signs in through the proxy, trusting the CA through NODE_EXTRA_CA_CERTS', async () => {
    const env = { ...process.env, ...t.emulator.env }
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', SCRIPT], {
        cwd: process.cwd(),
        env,
        stdio: ['ignore', 'pipe', 'pipe']
      })
      let out = ''
      let err = ''
      child.stdout.on('data', d => (out += d))
      child.stderr.on('data', d => (err += d))
      child.on('error', reject)
      child.on('close', code =>
        code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${err}`))
      )
    })
    const line = output.split('\n').find(l => l.startsWith('RESULT '))
    expect(JSON.parse(line!.slice('RESULT '.length))).toEqual({
      oid: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
      aud: 'https://management.azure.com'
    })
    expect(t.emulator.requests().some(e => e.kind === 'token' && e.status === 200)).toBe(true)
  })
})
