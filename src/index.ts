import { transportFromEnv } from './azure/http.js'
import { sanitizeSdkLog } from './azure/sdkLog.js'
import { run } from './main.js'

sanitizeSdkLog(line => process.stderr.write(line))
await run(undefined, { transport: transportFromEnv(process.env) })
