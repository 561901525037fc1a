/**
 * Jest setup file (jest.config.js `setupFiles`): every local Azure a test file starts draws its RSA
 * keys (HSM keys, and the token signing keys of a new state folder) from one pool of real keys
 * generated ahead of time and kept on this machine, instead of generating each one as it is
 * created (a tenth of a second to a second of CPU each); so do the security-domain certificates.
 * Within a test file no key is handed out twice; the pool grows when a file needs more keys than
 * it holds. See emulator/src/core/key-pool.ts.
 */
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { useKeyPool } from './emulator.js'

export const KEY_POOL_DIR = join(tmpdir(), `cmk-testkit-key-pool-${userInfo().uid}`)

try {
  useKeyPool(KEY_POOL_DIR)
} catch {
  // No folder for it here: every key is generated when it is created, as without a pool.
  useKeyPool(undefined)
}
