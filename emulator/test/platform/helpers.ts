import { afterAll, beforeAll } from '@jest/globals'
import { getIDToken } from '@actions/core'
import { ClientAssertionCredential } from '@azure/identity'
import {
  createEmptyPipeline,
  createHttpHeaders,
  createPipelineRequest,
  createDefaultHttpClient,
  proxyPolicy
} from '@azure/core-rest-pipeline'
import {
  applyEnv,
  defaultNames,
  defaultScenario,
  startEmulator,
  trustEmulatorCa,
  type Emulator,
  type Scenario,
  type ScenarioApplication,
  type Service
} from '../../src/index.js'
import { sharedStateDir } from '../../../testkit/state-dir.js'

export interface TestEmulator {
  emulator: Emulator
  stop(): Promise<void>
}

export { defaultScenario }

/** The default scenario with one more app registration. */
export function scenarioWithApp(app: ScenarioApplication): Scenario {
  const scenario = defaultScenario()
  scenario.applications!.push(app)
  return scenario
}

/** Names from emulator/scenarios/default.json. */
export const {
  tenantId: TENANT,
  subscriptionId: SUB,
  resourceGroup: RG,
  location: LOCATION,
  clientId: DEPLOYER_APP,
  clientObjectId: DEPLOYER_SP,
  hsmName: SEEDED_HSM,
  userAssignedIdentity: UAI_NAME,
  userAssignedIdentityPrincipalId: UAI_PRINCIPAL,
  userAssignedIdentityId: UAI_ID,
  cosmosAppId: COSMOS_APP,
  cosmosObjectId: COSMOS_SP
} = defaultNames

/** How Microsoft Graph shows the default scenario's Azure Cosmos DB service principal. */
export const COSMOS_SP_ENTITY = {
  '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#servicePrincipals/$entity',
  id: COSMOS_SP,
  appId: COSMOS_APP,
  displayName: 'Azure Cosmos DB',
  servicePrincipalType: 'Application'
}

/**
 * Starts the local Azure in-process on a free port with the tests' state folder, trusts its CA and
 * points this process's clients at it (HTTPS_PROXY, ACTIONS_ID_TOKEN_*, AZURE_*).
 */
export async function startTestEmulator(
  o: { scenario?: Scenario; extraServices?: Service[] } = {}
): Promise<TestEmulator> {
  const emulator = await startEmulator({
    port: 0,
    stateDir: await sharedStateDir('local-azure-test-state'),
    scenario: o.scenario ?? defaultScenario(),
    quiet: true,
    extraServices: o.extraServices
  })
  trustEmulatorCa(emulator.caCertPem)
  const restore = applyEnv(emulator.env)
  return {
    emulator,
    async stop() {
      restore()
      await emulator.stop()
    }
  }
}

/**
 * Starts a local Azure (see startTestEmulator) before the file's tests, with the workflow commands
 * of @actions/core kept out of the output, and stops it after them. `emulator` is there once the
 * file's first `beforeAll` has run.
 */
export function useTestEmulator(
  options: () => { scenario?: Scenario; extraServices?: Service[] } = () => ({})
): { readonly emulator: Emulator } {
  let started: TestEmulator | undefined
  let restoreStdout: (() => void) | undefined
  beforeAll(async () => {
    restoreStdout = silenceWorkflowCommands()
    started = await startTestEmulator(options())
  })
  afterAll(async () => {
    await started?.stop()
    restoreStdout?.()
  })
  return {
    get emulator() {
      if (!started) throw new Error('the local Azure starts in beforeAll')
      return started.emulator
    }
  }
}

/** Workload identity federation: the GitHub ID token from the runner endpoint is the assertion. */
export function federatedCredential(clientId: string = DEPLOYER_APP): ClientAssertionCredential {
  return new ClientAssertionCredential(TENANT, clientId, () =>
    getIDToken('api://AzureADTokenExchange')
  )
}

/** useTestEmulator on the default scenario with one more app registration, `app`. */
export function useTestEmulatorWithApp(app: ScenarioApplication): { readonly emulator: Emulator } {
  return useTestEmulator(() => ({ scenario: scenarioWithApp(app) }))
}

export interface RawResponse {
  status: number
  headers: Record<string, string>
  text: string
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read whatever JSON came back
  json: any
}

/**
 * One HTTPS request through the proxy with the Azure SDK's HTTP stack but no retry or auth policy,
 * so a test sees exactly what the local Azure answered.
 */
export async function rawRequest(
  url: string,
  o: {
    method?: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH'
    headers?: Record<string, string>
    body?: string
    token?: string
  } = {}
): Promise<RawResponse> {
  const pipeline = createEmptyPipeline()
  pipeline.addPolicy(proxyPolicy())
  const headers = createHttpHeaders(o.headers)
  if (o.token) headers.set('authorization', `Bearer ${o.token}`)
  if (o.body !== undefined && !headers.has('content-type'))
    headers.set('content-type', 'application/json')
  const request = createPipelineRequest({ url, method: o.method ?? 'GET', headers, body: o.body })
  const response = await pipeline.sendRequest(createDefaultHttpClient(), request)
  const text = response.bodyAsText ?? ''
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  return { status: response.status, headers: response.headers.toJSON(), text, json }
}

/** A plain-HTTP request to the admin API. */
export async function admin(
  emulator: Emulator,
  path: string,
  o: { method?: string; body?: unknown } = {}
): Promise<{ status: number; json: RawResponse['json'] }> {
  const res = await fetch(`${emulator.adminUrl}${path}`, {
    method: o.method ?? 'GET',
    headers: o.body === undefined ? {} : { 'content-type': 'application/json' },
    body:
      o.body === undefined
        ? undefined
        : typeof o.body === 'string'
          ? o.body
          : JSON.stringify(o.body)
  })
  return { status: res.status, json: await res.json() }
}

export function decodeClaims(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >
}

/**
 * Drops the workflow commands @actions/core prints (`::debug::`, `::add-mask::`) while a test file
 * runs, so that the test output stays readable. Returns the function that restores stdout.
 */
export function silenceWorkflowCommands(): () => void {
  const original = process.stdout.write.bind(process.stdout)
  process.stdout.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (typeof chunk === 'string' && chunk.startsWith('::')) return true
    return (original as (...args: unknown[]) => boolean)(chunk, ...rest)
  }) as typeof process.stdout.write
  return () => {
    process.stdout.write = original
  }
}
