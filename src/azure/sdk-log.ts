import { format } from 'node:util'
import { AzureLogger } from '@azure/logger'
import { sanitize } from '../sanitize.js'

/**
 * Sends the Azure SDK's own log (enabled by AZURE_LOG_LEVEL) on to `write`, token-free. The SDK
 * redacts Authorization headers, but its request log serialises the proxy agent too, and the
 * agent's sockets carry the raw headers of other requests in flight.
 */
export function sanitizeSdkLog(write: (line: string) => void): void {
  AzureLogger.log = (...args: unknown[]) => write(`${sanitize(format(...args))}\n`)
}
