/**
 * Imported first by the task entry, before the task library loads (it moves the inputs out of the
 * environment): on Node 20 with Agent.CAInfo set, the task restarts in a process that trusts it.
 */
import { restartToTrustAgentCa } from './agent-network.js'

restartToTrustAgentCa()
