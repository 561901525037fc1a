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
  // Jest's default on two cores is one worker: every file in turn, in Jest's own process. The
  // child-process suites spend most of their time waiting on the local Azure, so two files run
  // side by side.
  maxWorkers: 2,
  verbose: false
}
