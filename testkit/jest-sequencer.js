/**
 * The order Jest hands test files to its workers: Jest's own (files that failed last time first,
 * then the longest by the durations it recorded on this machine, then the largest), except that
 * the files below always start first. They take longer than all the others, mostly waiting on the
 * action's own pauses rather than using the CPU, so on a machine where Jest has recorded no
 * durations yet (a fresh clone, CI) they would otherwise start near the end (they are small files)
 * and the run would end waiting for them.
 */
import TestSequencer from '@jest/test-sequencer'

export const STARTED_FIRST = [
  // Five key creations cut off in turn: the action waits 10 s for each to show, then backs off.
  '__tests__/resilience/cut-offs.test.ts'
]

const rank = path => {
  const at = STARTED_FIRST.findIndex(file => path.endsWith(`/${file}`))
  return at < 0 ? STARTED_FIRST.length : at
}

export default class StartWaitingFilesFirst extends TestSequencer {
  sort(tests) {
    // Array.prototype.sort is stable: the other files keep Jest's order.
    return [...super.sort(tests)].sort((a, b) => rank(a.path) - rank(b.path))
  }
}
