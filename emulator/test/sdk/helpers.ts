import { afterAll, beforeAll } from '@jest/globals'
import type { AccessToken, TokenCredential } from '@azure/core-auth'
import {
  createDefaultHttpClient,
  createHttpHeaders,
  createPipelineFromOptions,
  createPipelineRequest,
  RestError
} from '@azure/core-rest-pipeline'
import { keyVaultAuthenticationPolicy } from '@azure/keyvault-common'
import { makeCertificates } from '../resources/certificates.js'
import {
  HSM_ROLES,
  roleDefinitionId,
  type Emulator,
  type Scenario,
  type Timing
} from '../../src/index.js'
import {
  SUB,
  federatedCredential,
  scenarioWithApp,
  silenceWorkflowCommands,
  startTestEmulator,
  type TestEmulator
} from '../platform/helpers.js'

export {
  COSMOS_APP,
  COSMOS_SP,
  DEPLOYER_APP,
  DEPLOYER_SP,
  federatedCredential,
  LOCATION,
  RG,
  SEEDED_HSM,
  SUB,
  TENANT,
  UAI_ID,
  UAI_NAME,
  UAI_PRINCIPAL
} from '../platform/helpers.js'
export { HSM_ROLES, roleDefinitionId }

/** A second app registration: Reader on the subscription, no directory read, its own subject. */
export const READER_APP = 'c0ffee11-2222-4333-8444-555566667777'
export const READER_SP = 'c0ffee11-aaaa-4bbb-8ccc-ddddeeeeffff'
export const READER_SUBJECT = 'repo:contoso/cosmos-cmk:environment:audit'

/** Long-running operations poll every 50 ms (the emulator sends `Retry-After: 0`). */
export const POLL = { updateIntervalInMs: 50 }

/**
 * Operations finish within a few hundred milliseconds of real time, so that the SDK pollers really
 * poll. Propagation delays stay long and are crossed with `advanceClock`, so that a "not yet"
 * assertion cannot race the clock.
 */
export const FAST_TIMING: Partial<Timing> = {
  providerRegistration: 150,
  hsmCreate: 250,
  hsmUpdate: 100,
  securityDomainDownload: 150,
  cosmosCreate: 250,
  cosmosUpdate: 100,
  cosmosDelete: 100,
  rbacPropagation: 60_000,
  principalReplication: 30_000,
  requestLatency: 0,
  retryAfterSeconds: 0
}

/** The default scenario plus the Reader-only app registration. */
export function sdkScenario(): Scenario {
  return scenarioWithApp({
    appId: READER_APP,
    displayName: 'github-auditor',
    servicePrincipalId: READER_SP,
    federatedCredentials: [
      {
        name: 'audit-environment',
        issuer: 'https://token.actions.githubusercontent.com',
        subject: READER_SUBJECT,
        audiences: ['api://AzureADTokenExchange']
      }
    ],
    armRoles: [{ role: 'Reader', scope: `/subscriptions/${SUB}` }],
    canReadDirectory: false
  })
}

export interface SdkEmulator {
  emulator: Emulator
  stop(): Promise<void>
}

/** Starts the local Azure in-process (trusted CA, HTTPS_PROXY etc. set) with FAST_TIMING. */
export async function startSdkEmulator(scenario: Scenario = sdkScenario()): Promise<SdkEmulator> {
  const restoreStdout = silenceWorkflowCommands()
  let t: TestEmulator
  try {
    t = await startTestEmulator({ scenario })
  } catch (e) {
    restoreStdout()
    throw e
  }
  t.emulator.setTiming(FAST_TIMING)
  return {
    emulator: t.emulator,
    async stop() {
      await t.stop()
      restoreStdout()
    }
  }
}

/** What `useSdkEmulator` gives a test file once its `beforeAll` has run. */
export interface SdkTestFile {
  readonly emulator: Emulator
  /** The workflow's federated credential (the deployer app). */
  readonly credential: TokenCredential
}

/**
 * Starts the local Azure before the file's tests (see startSdkEmulator) and stops it after them.
 */
export function useSdkEmulator(scenario: () => Scenario = sdkScenario): SdkTestFile {
  let started: SdkEmulator | undefined
  let credential: TokenCredential | undefined
  beforeAll(async () => {
    started = await startSdkEmulator(scenario())
    credential = federatedCredential()
  })
  afterAll(async () => {
    await started?.stop()
  })
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the local Azure starts in beforeAll')
    return value
  }
  return {
    get emulator() {
      return ready(started).emulator
    },
    get credential() {
      return ready(credential)
    }
  }
}

/**
 * Runs `fn` while the runner issues ID tokens for the Reader app's subject (its federated
 * credential trusts no other), then switches back to the workflow's own subject.
 */
export async function asReader<T>(
  emulator: Emulator,
  fn: (credential: TokenCredential) => Promise<T>
): Promise<T> {
  const workflowSubject = emulator.scenario.github!.subject
  emulator.setGitHubSubject(READER_SUBJECT)
  try {
    return await fn(federatedCredential(READER_APP))
  } finally {
    emulator.setGitHubSubject(workflowSubject)
  }
}

/** A credential that always hands out the same token (expired, wrong audience, ...). */
export function staticCredential(token: string): TokenCredential {
  return {
    getToken: async (): Promise<AccessToken> => ({
      token,
      expiresOnTimestamp: Date.now() + 3_600_000
    })
  }
}

/** The error a promise rejects with; fails when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<RestError> {
  try {
    await promise
  } catch (e) {
    expectRestError(e)
    return e
  }
  throw new Error('expected the operation to fail, but it succeeded')
}

function expectRestError(e: unknown): asserts e is RestError {
  if (!(e instanceof RestError)) {
    throw new Error(`expected a RestError, got ${e instanceof Error ? e.stack : String(e)}`)
  }
}

export interface JsonResponse {
  status: number
  headers: Record<string, string>
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read whatever JSON came back
  json: any
}

/**
 * A plain core-rest-pipeline client for the Managed HSM data plane: the default pipeline (proxy,
 * retries, ...) plus the Key Vault challenge policy, as @azure/keyvault-keys builds its own. For
 * the requests no SDK served here covers (local RBAC, security domain).
 */
export function hsmDataPlane(hsmName: string, credential: TokenCredential) {
  const pipeline = createPipelineFromOptions({})
  pipeline.addPolicy(keyVaultAuthenticationPolicy(credential))
  const httpClient = createDefaultHttpClient()
  const origin = `https://${hsmName}.managedhsm.azure.net`
  return {
    async send(
      method: 'GET' | 'PUT' | 'PATCH' | 'POST' | 'DELETE',
      path: string,
      o: { body?: unknown; query?: Record<string, string> } = {}
    ): Promise<JsonResponse> {
      const url = new URL(`${origin}${path}`)
      url.searchParams.set('api-version', '7.6')
      for (const [k, v] of Object.entries(o.query ?? {})) url.searchParams.set(k, v)
      const headers = createHttpHeaders({ accept: 'application/json' })
      if (o.body !== undefined) headers.set('content-type', 'application/json')
      const response = await pipeline.sendRequest(
        httpClient,
        createPipelineRequest({
          url: url.toString(),
          method,
          headers,
          body: o.body === undefined ? undefined : JSON.stringify(o.body)
        })
      )
      const text = response.bodyAsText ?? ''
      return {
        status: response.status,
        headers: response.headers.toJSON(),
        json: text ? JSON.parse(text) : undefined
      }
    },
    /** PUT `{scope}/providers/Microsoft.Authorization/roleAssignments/{name}`. */
    assignRole(scope: string, name: string, roleGuid: string, principalId: string) {
      return this.send('PUT', `${scope === '/' ? '' : scope}${ASSIGNMENTS}/${name}`, {
        body: { properties: { roleDefinitionId: roleDefinitionId(roleGuid), principalId } }
      })
    }
  }
}

const ASSIGNMENTS = '/providers/Microsoft.Authorization/roleAssignments'

export interface SecurityDomainCertificate {
  /** The JWK a security-domain download request carries. */
  jwk: Record<string, unknown>
  /** SHA-256 thumbprint of the certificate, base64url. */
  thumbprint: string
}

/** Self-signed RSA certificates, as `az keyvault security-domain download` sends them. */
export async function securityDomainCertificates(
  count: number
): Promise<SecurityDomainCertificate[]> {
  const certificates = await makeCertificates(count)
  return certificates.map(({ jwk }) => ({ jwk, thumbprint: String(jwk['x5t#S256']) }))
}

export function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms))
}

/** Calls `probe` every 25 ms until it returns true; fails after `timeoutMs`. */
export async function waitUntil(probe: () => Promise<boolean>, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`)
    await sleep(25)
  }
}
