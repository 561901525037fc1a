import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEmulator } from '../emulator/src/index.js'
import { runAction } from '../scripts/lib/run-action.js'
import { defaultScenario, names } from '../__tests__/support/scenarios.js'

const dir = mkdtempSync(join(tmpdir(), 'probe-'))
const s = defaultScenario()
const emulator = await startEmulator({ scenario: s, stateDir: join(dir, 'state'), quiet: true })
const env = emulator.env
const inputs = (account: string, extra: Record<string,string> = {}) => ({
  'client-id': env.AZURE_CLIENT_ID, 'tenant-id': env.AZURE_TENANT_ID, 'subscription-id': env.AZURE_SUBSCRIPTION_ID,
  'resource-group': names.resourceGroup, location: names.location, 'hsm-name': names.hsm,
  'key-name': 'cosmos-cmk', 'account-name': account, ...extra })
const mode = process.argv[2] ?? 'one'
if (mode === 'one') {
  const r = await runAction(inputs('acct-one', {'identity-mode':'system-assigned'}), { env })
  console.log(r.code, r.durationMs)
  console.log(r.stdout)
  const w = emulator.requests().filter(e => e.kind === 'write')
  console.log(w.map(e => `${e.method} ${e.host} ${e.path} ${e.status}`).join('\n'))
} else {
  const t = Date.now()
  const runs = await Promise.all(Array.from({length: 8}, (_, i) => runAction(inputs(i < 2 ? 'acct-same' : `acct-${i}`, {'identity-mode': ['first-party','system-assigned','user-assigned'][i%3], 'user-assigned-identity': names.identity}), { env })))
  console.log(Date.now() - t, runs.map(r => `${r.code} ${r.durationMs}`))
  for (const r of runs) if (r.code) console.log(r.stdout.slice(-2000))
  const plane = emulator.store.world.hsmDataPlanes[names.hsm]
  console.log('versions', plane.keys['cosmos-cmk']?.versions.length)
  console.log(Object.values(plane.roleAssignments).map(a => `${a.principalId} ${a.roleDefinitionId.slice(-36)} ${a.scope}`).join('\n'))
}
await emulator.stop()
