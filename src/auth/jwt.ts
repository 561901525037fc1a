/** The claims of a JWT, decoded from its payload without verifying it. Never logs the token. */
export function decodeJwtClaims(token: string): Record<string, unknown> {
  const parts = token.split('.')
  if (parts.length < 2) throw new Error('The access token is not a JWT.')
  try {
    const claims: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'))
    if (typeof claims !== 'object' || claims === null) throw new Error('not an object')
    return claims as Record<string, unknown>
  } catch {
    throw new Error('The access token payload could not be decoded.')
  }
}

export function stringClaim(claims: Record<string, unknown>, name: string): string | undefined {
  const value = claims[name]
  return typeof value === 'string' ? value : undefined
}
