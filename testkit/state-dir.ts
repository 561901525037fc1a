/**
 * State folders (a CA, the host certificates it issued, token signing keys) that every local Azure
 * a test starts shares with the others of its kind on this machine, so that none creates a CA or
 * signing keys of its own.
 */
import { existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { startEmulator } from './emulator.js'

const stateDirs = new Map<string, Promise<string>>()

/**
 * The state folder `<name>-<uid>` in the temporary folder: the first process builds it aside and
 * renames it into place (whoever renames first wins), later ones only read it (and add the
 * certificates of hosts it does not have yet), so that local Azures started side by side agree on
 * the CA.
 */
export function sharedStateDir(name: string): Promise<string> {
  let dir = stateDirs.get(name)
  if (!dir) {
    dir = buildOnce(join(tmpdir(), `${name}-${userInfo().uid}`))
    stateDirs.set(name, dir)
  }
  return dir
}

async function buildOnce(dir: string): Promise<string> {
  if (existsSync(join(dir, 'ca.pem'))) return dir
  const aside = mkdtempSync(`${dir}-`)
  const first = await startEmulator({ stateDir: aside, quiet: true })
  await first.stop()
  try {
    renameSync(aside, dir)
  } catch {
    rmSync(aside, { recursive: true, force: true })
  }
  return dir
}
