import { expect } from '@jest/globals'
import type { TokenCredential } from '@azure/core-auth'
import { parseInputs } from '../../src/inputs/parse.js'
import { InputError, nodeFiles, type InputFiles } from '../../src/inputs/reader.js'
import type { Inputs } from '../../src/inputs/settings.js'
import type { TransportSettings } from '../../src/azure/transport.js'
import { runProvisioning, type ProvisioningResult } from '../../src/provision.js'
import type { SecretFiles } from '../../src/secret-file.js'
import { FakeAzure, FakeClock, FakeRunner, baseInputs, fakeJwt, ids, validInputs } from './fakes.js'

export function fakeCredential(oid = ids.signedIn): TokenCredential & { issued: string[] } {
  const issued: string[] = []
  return {
    issued,
    async getToken(scopes) {
      const aud = [scopes].flat()[0]?.replace(/\/\.default$/, '')
      const token = fakeJwt({ oid, tid: ids.tenant, aud, n: issued.length })
      issued.push(token)
      return { token, expiresOnTimestamp: Date.now() + 3_600_000 }
    }
  }
}

export interface Harness {
  azure: FakeAzure
  runner: FakeRunner
  clock: FakeClock
  files: Record<string, { content: string }>
  run(inputs?: Inputs): Promise<ProvisioningResult>
}

export function harness(
  azure = new FakeAzure(),
  options: { secretFiles?: SecretFiles; transport?: Partial<TransportSettings> } = {}
): Harness {
  const runner = new FakeRunner()
  const clock = new FakeClock()
  const files: Record<string, { content: string }> = {}
  const credential = fakeCredential()
  return {
    azure,
    runner,
    clock,
    files,
    run: (inputs = baseInputs()) =>
      runProvisioning(inputs, {
        runner,
        credential,
        apis: azure,
        clock,
        secretFiles: options.secretFiles ?? memorySecretFiles(files),
        transport: options.transport
      })
  }
}

/** Secret files in memory, with the file system's rules: never over content, an empty one reusable. */
export function memorySecretFiles(files: Record<string, { content: string }> = {}): SecretFiles {
  return {
    state: path => (!(path in files) ? 'absent' : files[path].content ? 'written' : 'empty'),
    reserve: async path => {
      if (files[path]?.content) {
        throw Object.assign(new Error(`EEXIST: file already exists, open '${path}'`), {
          code: 'EEXIST'
        })
      }
      files[path] = { content: '' }
      return {
        write: async content => {
          files[path] = { content }
        },
        release: async () => {}
      }
    }
  }
}

/** What run() needs besides its runner: the fake Azure, a signed-in credential, fake time and files. */
export function runDeps(azure: FakeAzure) {
  return {
    credential: fakeCredential(),
    apis: azure,
    clock: new FakeClock(),
    secretFiles: memorySecretFiles()
  }
}

/**
 * The valid inputs with `overrides`, parsed as a runner that does not trim them would give them
 * (`files` for the files they name); `problems` answers what InputError found, none when they parse.
 */
export function inputParser(files: InputFiles = nodeFiles) {
  const parse = (overrides: Record<string, string> = {}) => {
    const values = { ...validInputs, ...overrides }
    return parseInputs({ getInput: name => values[name] ?? '' }, files)
  }
  const problems = (overrides: Record<string, string>): string[] => {
    let thrown: unknown
    try {
      parse(overrides)
    } catch (error) {
      thrown = error
    }
    if (thrown === undefined) return []
    expect(thrown).toBeInstanceOf(InputError)
    return (thrown as InputError).problems
  }
  return { parse, problems }
}
