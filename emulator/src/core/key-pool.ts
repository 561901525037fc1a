import {
  createPrivateKey,
  generateKeyPair,
  generateKeyPairSync,
  randomBytes,
  type KeyObject
} from 'node:crypto'
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'

const generateKeyPairAsync = promisify(generateKeyPair)

/**
 * RSA keys generated ahead of time and kept in a folder, for test suites that create many keys:
 * generating an RSA key costs from a tenth of a second (2048 bits) to a second (4096 bits) of CPU.
 *
 * Every key is a real RSA key that OpenSSL generated (public exponent 65537), kept as PKCS#8 PEM.
 * One pool hands out each of its keys at most once: the nth key of a size and purpose it hands
 * out is the folder's nth, generated and added to the folder when the folder has no such key yet
 * (or holds something else there). Other pools on the same folder, in this process or another,
 * hand out the same keys again: only keys of one pool are told apart.
 */
export class KeyPool {
  private readonly taken = new Map<string, number>()

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 })
  }

  /** The next RSA private key of `size` bits for `purpose`, read from the folder or generated. */
  rsaKeySync(size: number, purpose = 'key'): KeyObject {
    const path = this.nextPath(size, purpose)
    return readRsaKey(path, size) ?? save(path, generateKeyPairSync('rsa', rsa(size)).privateKey)
  }

  /** The same, generating a missing key off the event loop. */
  async rsaKey(size: number, purpose = 'key'): Promise<KeyObject> {
    const path = this.nextPath(size, purpose)
    return (
      readRsaKey(path, size) ??
      save(path, (await generateKeyPairAsync('rsa', rsa(size))).privateKey)
    )
  }

  /** How many keys of `size` bits for `purpose` this pool has handed out. */
  handedOut(size: number, purpose = 'key'): number {
    return this.taken.get(`${purpose}-rsa-${size}`) ?? 0
  }

  private nextPath(size: number, purpose: string): string {
    if (!/^[a-z][a-z0-9-]*$/.test(purpose)) throw new Error(`Bad key purpose '${purpose}'.`)
    const name = `${purpose}-rsa-${size}`
    const index = this.taken.get(name) ?? 0
    this.taken.set(name, index + 1)
    return join(this.dir, `${name}-${index}.pem`)
  }
}

const rsa = (size: number) => ({ modulusLength: size, publicExponent: 0x10001 })

/** The key at `path` if it is an RSA private key of `size` bits with exponent 65537. */
function readRsaKey(path: string, size: number): KeyObject | undefined {
  let pem: string
  try {
    pem = readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
  try {
    const key = createPrivateKey(pem)
    const details = key.asymmetricKeyDetails
    const fits =
      key.asymmetricKeyType === 'rsa' &&
      details?.modulusLength === size &&
      details.publicExponent === 0x10001n
    return fits ? key : undefined
  } catch {
    return undefined
  }
}

/** Adds the key to the folder through a temporary file, so that no reader sees half a key. */
function save(path: string, key: KeyObject): KeyObject {
  const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`
  try {
    writeFileSync(temp, key.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 })
    renameSync(temp, path)
  } catch {
    // A folder that cannot be written to only means the key is generated again next time.
    rmSync(temp, { force: true })
  }
  return key
}

let installed: KeyPool | undefined

/**
 * Makes this module instance draw RSA keys (HSM keys and the token signing keys of a new state
 * folder) from a pool: a new one on the folder `pool`, or the pool given; undefined goes back to
 * generating each key when it is created.
 */
export function useKeyPool(pool: string | KeyPool | undefined): void {
  installed = typeof pool === 'string' ? new KeyPool(pool) : pool
}

/** The pool installed by useKeyPool, if any. */
export function keyPool(): KeyPool | undefined {
  return installed
}
