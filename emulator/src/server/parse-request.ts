import type { IncomingMessage } from 'node:http'
import type { EmuRequest } from '../core/service.js'

/** Splits a request target into a normalised path and decoded query parameters. */
export function parseTarget(rawUrl: string): { path: string; query: URLSearchParams } {
  let target = rawUrl
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) {
    const u = new URL(target)
    target = u.pathname + u.search
  }
  const q = target.indexOf('?')
  const rawPath = q < 0 ? target : target.slice(0, q)
  const rawQuery = q < 0 ? '' : target.slice(q + 1)
  let path = rawPath.replace(/\/{2,}/g, '/')
  try {
    path = decodeURIComponent(path)
  } catch {
    // A malformed escape is left as sent; the service will not find such a path anyway.
  }
  if (!path.startsWith('/')) path = `/${path}`
  // URLSearchParams decodes names as well as values: `api%2Dversion` becomes `api-version`.
  return { path: path.replace(/\/{2,}/g, '/'), query: new URLSearchParams(rawQuery) }
}

export function toEmuRequest(host: string, req: IncomingMessage, body: Buffer): EmuRequest {
  const rawUrl = req.url ?? '/'
  const { path, query } = parseTarget(rawUrl)
  return {
    method: (req.method ?? 'GET').toUpperCase(),
    host: host.toLowerCase(),
    path,
    rawUrl,
    query,
    headers: req.headers,
    body
  }
}

const MAX_BODY_BYTES = 32 * 1024 * 1024

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) {
        reject(new Error('request body too large'))
        req.destroy()
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}
