/**
 * The local Azure's public API: the one module code outside emulator/ imports. Everything else
 * under emulator/src is internal and may move.
 */

// Starting and driving an emulator
export {
  Emulator,
  startEmulator,
  type EmulatorOptions,
  type TestAccessTokenOptions,
  type TestIdTokenOptions
} from './emulator.js'
export type { PendingRequest, RequestInterceptor } from './server/local-azure.js'
export type { RequestLogEntry } from './core/request-log.js'
export type { FaultCounts } from './core/faults.js'
export type { IssuedTokens } from './core/tokens.js'
export type { Service, Timing } from './core/service.js'
export type { Store } from './core/store.js'
export type { GitHubApiChanges } from './services/github/settings.js'
export { applyEnv, exportLines, trustEmulatorCa, useEmulatorProxy } from './env.js'
export { loadX509 } from './tls/x509.js'
export { KeyPool, keyPool, useKeyPool } from './core/key-pool.js'

// Azure DevOps (the pipeline run of a scenario's azureDevOps block) and the emulated clouds
export {
  connectionSubject,
  federatedCredentialFor,
  type PipelineRun,
  type ServiceConnection
} from './services/devops/pipeline-run.js'
export { EMULATED_CLOUDS, type EmulatedCloud, type EmulatedCloudName } from './core/clouds.js'

// Scenarios and the default scenario's well-known names
export type * from './core/scenario-types.js'
export {
  DEFAULT_SCENARIO_PATH,
  defaultScenario,
  loadScenarioFile,
  validateScenario,
  ScenarioError
} from './core/scenario.js'
export {
  defaultNames,
  scenarioNames,
  type DefaultScenarioNames,
  type ScenarioNames
} from './model/scenario-names.js'
export { COSMOS_FIRST_PARTY_APP_ID } from './model/ids.js'
export { HSM_ROLES, roleDefinitionId } from './model/role-definitions.js'

// The world (`emulator.store.world`, snapshots) and what moves it forward
export type * from './core/world.js'
export { advanceWorld } from './model/advance.js'
export { deriveSeed, seededRandom, type RandomSource } from './core/random.js'
