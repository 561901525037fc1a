import type { ServerResponse } from 'node:http'
import type { EmuResponse } from '../core/service.js'

/** Serialises an EmuResponse: JSON unless the body is a string or Buffer; never a body on 204/304/HEAD. */
export function writeResponse(
  res: ServerResponse,
  response: EmuResponse,
  defaults: Record<string, string>,
  method: string
): void {
  const headers: Record<string, string> = {}
  const put = (name: string, value: string) => {
    for (const k of Object.keys(headers))
      if (k.toLowerCase() === name.toLowerCase()) delete headers[k]
    headers[name] = value
  }
  for (const [k, v] of Object.entries(defaults)) put(k, v)
  for (const [k, v] of Object.entries(response.headers ?? {})) put(k, v)

  let payload: Buffer | undefined
  const { body } = response
  if (body !== undefined && body !== null) {
    if (Buffer.isBuffer(body)) {
      payload = body
      if (!hasHeader(headers, 'content-type')) put('content-type', 'application/octet-stream')
    } else if (typeof body === 'string') {
      payload = Buffer.from(body, 'utf8')
      if (!hasHeader(headers, 'content-type')) put('content-type', 'text/plain; charset=utf-8')
    } else {
      payload = Buffer.from(JSON.stringify(body), 'utf8')
      if (!hasHeader(headers, 'content-type'))
        put('content-type', 'application/json; charset=utf-8')
    }
  }
  const noBody = response.status === 204 || response.status === 304 || method === 'HEAD'
  if (noBody) payload = undefined
  if (!noBody) put('content-length', String(payload?.length ?? 0))
  res.writeHead(response.status, headers)
  res.end(payload)
}

function hasHeader(headers: Record<string, string>, name: string): boolean {
  return Object.keys(headers).some(k => k.toLowerCase() === name)
}
