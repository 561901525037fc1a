/** A child process run to its end: what it wrote and how it ended. */
import type { ChildProcessByStdio } from 'node:child_process'
import type { Readable } from 'node:stream'

export interface ChildOutcome {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/**
 * Collects `child`'s stdout (handing each chunk to `onStdout` as it arrives) and stderr until it
 * closes; SIGKILLs it once it has run `timeoutMs`.
 */
export async function outcomeOf(
  child: ChildProcessByStdio<null, Readable, Readable>,
  options: { timeoutMs: number; onStdout?: (chunk: string) => void }
): Promise<ChildOutcome> {
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
    options.onStdout?.(chunk)
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs)
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>(done =>
    child.on('close', (c, s) => done([c, s]))
  )
  clearTimeout(timer)
  return { code, signal, stdout, stderr }
}
