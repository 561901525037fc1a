// Mutation testing of src/ (`npm run mutate`): each mutant runs only against the in-process tests
// (__tests__/unit) that cover it. The child-process suites (e2e, resilience) run the bundle in
// dist/, which a mutant of src/ never reaches, so they are left out.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'jest',
  testRunnerNodeArgs: ['--experimental-vm-modules', '--no-warnings'],
  jest: {
    projectType: 'custom',
    configFile: 'jest.config.js',
    config: {
      testMatch: ['<rootDir>/__tests__/unit/**/*.test.ts'],
      // Whole runs against the local Azure take seconds per mutant, and reach little that the
      // tests on fakes and azure-adapters.test.ts do not (runProvisioning building its own clients).
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/__tests__/unit/in-process-run.test.ts']
    },
    enableFindRelatedTests: false
  },
  coverageAnalysis: 'perTest',
  // A mutant in code that runs on import (constants, patterns) is covered by every test and would
  // take half of the run; `npm run mutate -- --ignoreStatic false` tests those too.
  ignoreStatic: true,
  checkers: ['typescript'],
  // src/ alone, so that a mutant is type-checked against the code it changes, not the whole tree.
  tsconfigFile: 'src/tsconfig.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  mutate: [
    'src/**/*.ts',
    // Entry points: they only wire process.env and stdio to run(), and run on import.
    '!src/index.ts',
    '!src/task.ts',
    '!src/auth/agent-ca-restart.ts'
  ],
  ignorePatterns: ['dist', 'reports', 'coverage', '.tmp', '.emulator-state', 'bench/results'],
  reporters: ['clear-text', 'progress', 'html', 'json'],
  clearTextReporter: { allowColor: false, logTests: false, reportTests: false, skipFull: true },
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 90, low: 80, break: null },
  timeoutMS: 5_000,
  // Re-runs test only the mutants whose code or covering tests changed (`--force` for all).
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always'
}
