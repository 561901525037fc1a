import { writeSecurityDomainCertificates, startLab, agentEnvOf, runTask, taskInputs, emptySubscriptionScenario, defaultNames } from './testkit/index.js'
const s = emptySubscriptionScenario()

for (const app of s.applications ?? []) for (const fc of app.federatedCredentials ?? []) fc.issuer = fc.issuer.replace('login.microsoftonline.com', 'login.microsoftonline.us')
for (const sc of s.azureDevOps?.serviceConnections ?? []) sc.environment = 'AzureUSGovernment'
const lab = await startLab(s)
const env = agentEnvOf(lab)
const certs = await writeSecurityDomainCertificates('/tmp', 3)
const run = await runTask(taskInputs(env, 'cosmos-gov', undefined, { createHsm: 'true', hsmRetentionDays: '7', securityDomainCertificates: certs.join('\n'), securityDomainQuorum: '2', securityDomainFile: '/tmp/sd-gov-' + Date.now() + '.json' }), { env, timeoutMs: 40000, onStdout: c => process.stdout.write(c.split('\n').filter(l => !l.includes('setsecret') && !l.includes('task.debug')).join('\n')) })
console.log(run.stderr.slice(-3000)); console.log(run.result, run.variables)
for (const r of lab.emulator.requests()) console.log(r.method, r.host, r.path, r.status, r.error ?? '')
await lab.stop()
