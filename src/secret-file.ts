import { chmod, writeFile } from 'node:fs/promises'

/** Writes the encrypted security domain: owner-only, never over an existing file. */
export type SecretFileWriter = (path: string, content: string) => Promise<void>

export const writeSecretFileOwnerOnly: SecretFileWriter = async (path, content) => {
  await writeFile(path, content, { mode: 0o600, flag: 'wx' })
  await chmod(path, 0o600)
}
