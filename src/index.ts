import { transportFromEnv } from './azure/transport.js'
import { run } from './main.js'

await run(undefined, {
  transport: transportFromEnv(process.env),
  sdkLog: line => process.stderr.write(line)
})
