/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }]
  },
  testMatch: ['<rootDir>/__tests__/**/*.test.ts', '<rootDir>/emulator/test/**/*.test.ts'],
  // RSA keys of the local Azures come from a pool of real keys generated ahead of time.
  setupFiles: ['<rootDir>/testkit/jest-key-pool.ts'],
  testTimeout: 60000,
  // The files that spend the longest waiting start first (see the sequencer).
  testSequencer: '<rootDir>/testkit/jest-sequencer.js',
  // Jest's default on two cores is one worker: every file in turn, in Jest's own process. The
  // child-process suites spend much of their time waiting on the action's own pauses, one of them
  // (cut-offs) longer than all the rest take on one worker, so three files run side by side: the
  // waiting one's worker leaves the two cores to the others.
  maxWorkers: 3,
  verbose: false
}
