/**
 * The local Azure in this process, for tests that drive src/'s real Azure SDK adapters against
 * it: its CA trusted, its proxy and OIDC variables set, instant operations and `Retry-After: 0`,
 * so that nothing waits on a real timer longer than a request takes.
 */
import { afterAll, beforeAll, beforeEach } from '@jest/globals'
import type { TokenCredential } from '@azure/core-auth'
import { applyEnv, trustEmulatorCa } from '../../emulator/src/index.js'
import { createCredential } from '../../src/auth/credential.js'
import type { AzureApis } from '../../src/azure/api.js'
import { createAzureApis } from '../../src/azure/clients.js'
import { defaultTransport, type TransportSettings } from '../../src/azure/transport.js'
import { getCloud, type CloudName } from '../../src/cloud.js'
import type { Inputs } from '../../src/inputs/settings.js'
import {
  defaultNames,
  KEY_NAME,
  preparedScenario,
  startLab,
  type Emulator,
  type Lab,
  type Scenario,
  type Service
} from '../../testkit/index.js'
import { baseInputs, FakeRunner } from './fakes.js'

/** Few, short retries: a test of an adapter wants its answer, not the transport's patience. */
export const quickTransport: TransportSettings = {
  ...defaultTransport,
  maxRetries: 2,
  retryDelayMs: 10,
  maxRetryDelayMs: 50,
  pollIntervalMs: 10,
  readTimeoutMs: 10_000,
  writeTimeoutMs: 10_000
}

/** A runner whose ID tokens the local Azure issued, as the GitHub runner would. */
export class LocalRunner extends FakeRunner {
  constructor(
    private readonly emulator: Emulator,
    inputs: Record<string, string> = {}
  ) {
    super(inputs)
  }
  override async getIdToken(audience?: string): Promise<string> {
    this.idTokens++
    return this.emulator.tokens.githubIdToken({ audience })
  }
}

export interface LocalAzure {
  readonly lab: Lab
  readonly emulator: Emulator
  /** The pipeline's credential (GitHub OIDC), as the action builds it. */
  readonly credential: TokenCredential
  /** src/'s SDK adapters on that credential. */
  readonly apis: AzureApis
}

/** The default scenario without delays, answering `Retry-After: 0`. */
export function instantScenario(patch: (scenario: Scenario) => void = () => {}): Scenario {
  return preparedScenario(s => {
    s.timing = { retryAfterSeconds: 0 }
    patch(s)
  })
}

/**
 * The pipeline's GitHub OIDC credential, as the action builds it, and src/'s adapters on it, in
 * `cloudName` (whose ID token audience the local Azure's federated credential must accept).
 */
export function signedInApis(
  emulator: Emulator,
  cloudName: CloudName = 'AzureCloud'
): { credential: TokenCredential; apis: AzureApis } {
  const cloud = getCloud(cloudName)
  const credential = createCredential({
    inputs: {
      auth: {
        type: 'oidc',
        clientId: defaultNames.clientId,
        tenantId: defaultNames.tenantId,
        audience: cloud.idTokenAudience
      }
    },
    cloud,
    runner: new LocalRunner(emulator),
    transport: quickTransport
  })
  const apis = createAzureApis({
    credential,
    cloud,
    subscriptionId: defaultNames.subscriptionId,
    transport: quickTransport
  })
  return { credential, apis }
}

/**
 * Starts a local Azure for the file's tests (in beforeAll) and stops it after them; each test
 * starts from the scenario as it was loaded, whatever the tests before it did. `extraServices`
 * answer for their hosts before the local Azure's own services do.
 */
export function useLocalAzure(
  scenario: () => Scenario = () => instantScenario(),
  extraServices: Service[] = []
): LocalAzure {
  let started: LocalAzure | undefined
  let lab: Lab | undefined
  let restoreEnv = () => {}
  beforeAll(async () => {
    lab = await startLab(scenario(), extraServices)
    trustEmulatorCa(lab.emulator.caCertPem)
    restoreEnv = applyEnv(lab.env)
    started = { lab, emulator: lab.emulator, ...signedInApis(lab.emulator) }
  })
  beforeEach(() => {
    started?.emulator.reset()
    started?.emulator.clearRequests()
  })
  afterAll(async () => {
    restoreEnv()
    // Stopped even when the setup after its start failed, so that no server outlives the file.
    await lab?.stop()
  })
  const get = (): LocalAzure => {
    if (!started) throw new Error('the local Azure starts in beforeAll')
    return started
  }
  return {
    get lab() {
      return get().lab
    },
    get emulator() {
      return get().emulator
    },
    get credential() {
      return get().credential
    },
    get apis() {
      return get().apis
    }
  }
}

/** The action's inputs for `account` against the local Azure's default names. */
export function localAzureInputs(account: string, overrides: Partial<Inputs> = {}): Inputs {
  const base = baseInputs()
  return baseInputs({
    auth: { ...base.auth, clientId: defaultNames.clientId, tenantId: defaultNames.tenantId },
    subscriptionId: defaultNames.subscriptionId,
    resourceGroup: defaultNames.resourceGroup,
    location: defaultNames.location,
    hsm: { ...base.hsm, name: defaultNames.hsmName, resourceGroup: defaultNames.resourceGroup },
    key: { ...base.key, name: KEY_NAME },
    account: { ...base.account, name: account, locations: [defaultNames.location] },
    ...overrides
  })
}
