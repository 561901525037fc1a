/**
 * The testkit's only door to the local Azure: everything the testkit takes from emulator/ comes
 * through this module, from the emulator's public API (emulator/src/index.ts).
 */
export {
  advanceWorld,
  COSMOS_FIRST_PARTY_APP_ID,
  defaultNames,
  defaultScenario,
  deriveSeed,
  exportLines,
  HSM_ROLES,
  KeyPool,
  keyPool,
  loadX509,
  seededRandom,
  startEmulator,
  trustEmulatorCa,
  useKeyPool,
  type Emulator,
  type FaultCounts,
  type FaultRule,
  type IssuedTokens,
  type PendingRequest,
  type RandomSource,
  type RequestLogEntry,
  type Scenario,
  type ScenarioPullRequest,
  type Service,
  type Timing,
  type World
} from '../emulator/src/index.js'
