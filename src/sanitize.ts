const jwtPattern = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g
const bearerPattern = /(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi
const secretFieldPattern =
  /\b(client_assertion|access_token|id_token|refresh_token|client_secret|assertion)(["']?\s*[:=]\s*["']?)[^"'&\s,}]+/gi

/** Removes anything token-shaped from a text that may reach a log, an output or the summary. */
export function sanitize(text: string): string {
  return text
    .replace(jwtPattern, '[redacted token]')
    .replace(bearerPattern, '$1[redacted]')
    .replace(secretFieldPattern, '$1$2[redacted]')
}
