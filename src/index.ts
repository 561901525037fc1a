import { transportFromEnv } from './azure/http.js'
import { sanitizeSdkLog } from './azure/sdk-log.js'
import { run } from './main.js'

sanitizeSdkLog(line => process.stderr.write(line))
await run(undefined, { transport: transportFromEnv(process.env) })
