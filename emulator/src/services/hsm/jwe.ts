import {
  constants,
  createCipheriv,
  createDecipheriv,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  type KeyObject
} from 'node:crypto'

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url')
}

function aesGcm(key: Buffer, header: string, plaintext: Buffer): string[] {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  cipher.setAAD(Buffer.from(header, 'ascii'))
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()])
  return [b64url(iv), b64url(ciphertext), b64url(cipher.getAuthTag())]
}

/** Compact JWE with `alg: dir`, `enc: A256GCM` under a 256-bit key. */
export function jweDirect(key: Buffer, plaintext: Buffer, kid: string): string {
  const header = b64url(JSON.stringify({ alg: 'dir', enc: 'A256GCM', kid }))
  return [header, '', ...aesGcm(key, header, plaintext)].join('.')
}

/** Compact JWE with `alg: RSA-OAEP-256`, `enc: A256GCM` to an RSA public key. */
export function jweRsaOaep256(publicKey: KeyObject, plaintext: Buffer, kid: string): string {
  const header = b64url(JSON.stringify({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid }))
  const cek = randomBytes(32)
  const encryptedKey = publicEncrypt(
    { key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
    cek
  )
  return [header, b64url(encryptedKey), ...aesGcm(cek, header, plaintext)].join('.')
}

/** Opens a compact JWE made by the functions above (`key` is the CEK or the RSA private key). */
export function jweDecrypt(jwe: string, key: Buffer | KeyObject): Buffer {
  const [header, encryptedKey, iv, ciphertext, tag] = jwe.split('.') as [
    string,
    string,
    string,
    string,
    string
  ]
  const cek = Buffer.isBuffer(key)
    ? key
    : privateDecrypt(
        { key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
        Buffer.from(encryptedKey, 'base64url')
      )
  const decipher = createDecipheriv('aes-256-gcm', cek, Buffer.from(iv, 'base64url'))
  decipher.setAAD(Buffer.from(header, 'ascii'))
  decipher.setAuthTag(Buffer.from(tag, 'base64url'))
  return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()])
}
