// First: on Node 20 with Agent.CAInfo, restarts the task in a process that trusts that CA.
import './auth/agent-ca-restart.js'
import { transportFromEnv } from './azure/transport.js'
import { describeError } from './errors.js'
import { run } from './main.js'
import { azurePipelinesRunner, useAgentNetwork } from './runner/azure-pipelines.js'

/** The Azure Pipelines task: the action's procedure, run through the agent's Runner. */
async function main(): Promise<void> {
  const runner = azurePipelinesRunner()
  try {
    for (const warning of useAgentNetwork(runner)) runner.warning(warning)
  } catch (error) {
    runner.setFailed(describeError(error))
    return
  }
  await run(runner, {
    transport: transportFromEnv(process.env),
    sdkLog: line => process.stderr.write(line)
  })
}

await main()
