import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

const DEFAULT_STATE_DIR = '.emulator-state'

export function resolveStateDir(stateDir: string | undefined): string {
  const dir = resolve(stateDir ?? DEFAULT_STATE_DIR)
  mkdirSync(dir, { recursive: true })
  return dir
}

export function readStateFile(stateDir: string, name: string): string | undefined {
  try {
    return readFileSync(join(stateDir, name), 'utf8')
  } catch {
    return undefined
  }
}

/** Writes through a temporary file, so that a concurrent reader never sees half a file. */
export function writeStateFile(
  stateDir: string,
  name: string,
  content: string,
  mode = 0o644
): string {
  mkdirSync(stateDir, { recursive: true })
  const target = join(stateDir, name)
  const temp = `${target}.${process.pid}.${Date.now()}.tmp`
  writeFileSync(temp, content, { mode })
  renameSync(temp, target)
  return target
}
