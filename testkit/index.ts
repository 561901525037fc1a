/**
 * One kit for everything that runs the bundled action against the local Azure: the e2e and
 * resilience suites, the demo, the soak and the benchmark.
 *
 * - lab: start a local Azure (`startLab`), the action's inputs for it, run the action, end state
 * - action: run dist/index.js as a runner would (`runAction`), its exit and error message
 * - azure-pipelines: run the task (task/dist/index.js) as an agent would (`runTask`), its `##vso` commands
 * - inputs: the action's inputs for each identity mode from a local Azure's variables
 * - scenarios: the empty subscription, no delays, an existing key (the default scenario and its
 *   names come from the emulator's public API, re-exported here)
 * - certificates: security-domain certificates as PEM files
 * - regimes / faults: propagation regimes, fault kinds and the hosts they hit
 * - end-state: what the action is responsible for, and what "converged" means
 * - requests / interference: which request is which; crashes, cut-offs and forced races
 * - secrets: whether anything secret reached the action's output
 * - github: pull requests in the local GitHub and the events a run comment works from
 * - batches: many cases side by side
 * - admin: the local Azure's admin API (keys disabled or rotated, grants removed) and an account
 *   as of the emulator's clock
 * - timeline-chart: the job summary's "where the time went" chart, read back
 */
export * from './action.js'
export * from './admin.js'
export * from './azure-pipelines.js'
export * from './batches.js'
export * from './certificates.js'
export * from './end-state.js'
export * from './faults.js'
export * from './github.js'
export * from './inputs.js'
export * from './interference.js'
export * from './lab.js'
export * from './regimes.js'
export * from './requests.js'
export * from './scenarios.js'
export * from './secrets.js'
export * from './timeline-chart.js'
export * from './emulator.js'
