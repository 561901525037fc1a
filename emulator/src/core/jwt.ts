import { createHash, createSign, createVerify, type KeyObject } from 'node:crypto'

export type JwtClaims = Record<string, unknown>

interface JwtHeader {
  alg: string
  typ?: string
  kid?: string
  x5t?: string
}

interface DecodedJwt {
  header: JwtHeader
  payload: JwtClaims
  signingInput: string
  signature: Buffer
}

export function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url')
}

export function signJwt(
  payload: JwtClaims,
  key: KeyObject,
  header: Omit<JwtHeader, 'alg'>
): string {
  const head = base64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', ...header }))
  const body = base64url(JSON.stringify(payload))
  const signer = createSign('RSA-SHA256')
  signer.update(`${head}.${body}`)
  return `${head}.${body}.${signer.sign(key).toString('base64url')}`
}

/** Parses a compact JWS without checking anything; undefined when it is not one. */
export function decodeJwt(token: string): DecodedJwt | undefined {
  const parts = token.split('.')
  if (parts.length !== 3 || parts.some(p => !/^[A-Za-z0-9_-]*$/.test(p))) return undefined
  try {
    const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as unknown
    const payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as unknown
    if (!isObject(header) || !isObject(payload) || typeof header.alg !== 'string') return undefined
    return {
      header: header as unknown as JwtHeader,
      payload,
      signingInput: `${parts[0]}.${parts[1]}`,
      signature: Buffer.from(parts[2]!, 'base64url')
    }
  } catch {
    return undefined
  }
}

export function verifyJwtSignature(jwt: DecodedJwt, publicKey: KeyObject): boolean {
  if (jwt.header.alg !== 'RS256') return false
  const verifier = createVerify('RSA-SHA256')
  verifier.update(jwt.signingInput)
  return verifier.verify(publicKey, jwt.signature)
}

/** A key id derived from the public key, stable across restarts with the same key. */
export function keyIdOf(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' })
  return createHash('sha1').update(der).digest('base64url')
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
