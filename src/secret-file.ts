import { randomUUID } from 'node:crypto'
import { constants, lstatSync } from 'node:fs'
import { lstat, open, rename, rm } from 'node:fs/promises'
import { dirname } from 'node:path'

/**
 * What is at a path: nothing; an empty regular file (the place an earlier run reserved, which holds
 * nothing yet); a regular file with content; or anything else (a link, a folder, a device).
 */
export type FileState = 'absent' | 'empty' | 'written' | 'not-a-file'

/** A file created for a secret before the secret exists, so that the secret cannot be lost to it. */
export interface ReservedFile {
  /**
   * Puts the content in the file, synced to disk, and closes it: all of it or, when the write fails
   * or the process dies on the way, none (the file stays empty; a process that died may leave part
   * of it beside the file, as `<file>.<id>.partial`).
   */
  write(content: string): Promise<void>
  /** Closes the file without content (it stays, empty, for a later run). */
  release(): Promise<void>
}

/** Where the encrypted security domain goes. */
export interface SecretFiles {
  state(path: string): FileState
  /**
   * Creates the file readable by its owner only, never through a link and never over content;
   * an empty file left by an earlier run is taken over. Throws when it cannot be created.
   */
  reserve(path: string): Promise<ReservedFile>
}

export const nodeSecretFiles: SecretFiles = {
  state(path) {
    try {
      const stats = lstatSync(path)
      if (!stats.isFile()) return 'not-a-file'
      return stats.size === 0 ? 'empty' : 'written'
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'absent'
      throw error
    }
  },
  async reserve(path) {
    const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_TRUNC } = constants
    const handle =
      nodeSecretFiles.state(path) === 'empty'
        ? await open(path, O_WRONLY | O_NOFOLLOW | O_TRUNC)
        : await open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600)
    try {
      await handle.chmod(0o600)
      await handle.sync()
      await syncFolder(path)
    } catch (error) {
      await handle.close()
      throw error
    }
    return {
      async write(content) {
        // Written beside the file, synced, and renamed over it: a write cut short (a full disk,
        // a killed process, a crash before the sync) must not leave part of a secret where a later
        // run would take it for all of it.
        const aside = `${path}.${randomUUID()}.partial`
        try {
          const partial = await open(aside, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600)
          try {
            await partial.chmod(0o600)
            await partial.writeFile(content)
            await partial.sync()
          } finally {
            await partial.close()
          }
          // Still the empty file reserved here, never another one (or content) put there since.
          const [reserved, current] = await Promise.all([handle.stat(), lstat(path)])
          if (current.ino !== reserved.ino || current.dev !== reserved.dev || current.size > 0) {
            throw new Error(`${path} was replaced or written to after it was reserved`)
          }
          await rename(aside, path)
        } catch (error) {
          await rm(aside, { force: true }).catch(() => {})
          throw error
        } finally {
          await handle.close()
        }
        await syncFolder(path)
      },
      release: () => handle.close()
    }
  }
}

/** Makes the file's entry in its folder durable too. */
async function syncFolder(path: string): Promise<void> {
  const folder = await open(dirname(path), constants.O_RDONLY)
  try {
    await folder.sync()
  } finally {
    await folder.close()
  }
}
