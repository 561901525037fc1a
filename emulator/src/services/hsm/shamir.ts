import { randomBytes } from 'node:crypto'

// Shamir secret sharing over GF(2^8) with the AES polynomial x^8 + x^4 + x^3 + x + 1.
const EXP = new Uint8Array(512)
const LOG = new Uint8Array(256)
{
  let x = 1
  for (let i = 0; i < 255; i++) {
    EXP[i] = x
    LOG[x] = i
    x ^= (x << 1) ^ (x & 0x80 ? 0x11b : 0) // multiply by the generator 3
    x &= 0xff
  }
  for (let i = 255; i < 512; i++) EXP[i] = EXP[i - 255]!
}

function mul(a: number, b: number): number {
  return a === 0 || b === 0 ? 0 : EXP[LOG[a]! + LOG[b]!]!
}

function div(a: number, b: number): number {
  return a === 0 ? 0 : EXP[LOG[a]! + 255 - LOG[b]!]!
}

/** Splits `secret` into `count` shares, any `threshold` of which rebuild it. Share = [x, y...]. */
export function splitSecret(secret: Buffer, count: number, threshold: number): Buffer[] {
  const shares = Array.from({ length: count }, (_, i) => {
    const share = Buffer.alloc(secret.length + 1)
    share[0] = i + 1
    return share
  })
  for (let byte = 0; byte < secret.length; byte++) {
    const coefficients = [secret[byte]!, ...randomBytes(threshold - 1)]
    for (const share of shares) {
      const x = share[0]!
      let y = 0
      for (let c = coefficients.length - 1; c >= 0; c--) y = mul(y, x) ^ coefficients[c]!
      share[byte + 1] = y
    }
  }
  return shares
}

/** Rebuilds the secret from at least `threshold` shares (Lagrange interpolation at x = 0). */
export function combineShares(shares: Buffer[]): Buffer {
  const length = shares[0]!.length - 1
  const secret = Buffer.alloc(length)
  for (let byte = 0; byte < length; byte++) {
    let value = 0
    for (const [i, si] of shares.entries()) {
      let basis = 1
      for (const [j, sj] of shares.entries()) {
        if (i !== j) basis = mul(basis, div(sj[0]!, sj[0]! ^ si[0]!))
      }
      value ^= mul(si[byte + 1]!, basis)
    }
    secret[byte] = value
  }
  return secret
}
