import { constants, lstatSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { dirname } from 'node:path'

/**
 * What is at a path: nothing; an empty regular file (the place an earlier run reserved, which holds
 * nothing yet); a regular file with content; or anything else (a link, a folder, a device).
 */
export type FileState = 'absent' | 'empty' | 'written' | 'not-a-file'

/** A file created for a secret before the secret exists, so that the secret cannot be lost to it. */
export interface ReservedFile {
  /** Writes the content, syncs it to disk and closes the file. */
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
        try {
          await handle.writeFile(content)
          await handle.sync()
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
