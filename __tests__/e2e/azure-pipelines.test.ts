/**
 * The built Azure Pipelines task, run as an agent runs it (agent variables, a workload identity
 * federation service connection, the proxy and CA as Agent.ProxyUrl / Agent.CAInfo), against the
 * local Azure: every identity mode from an empty subscription, the no-op re-run, plan mode, ID tokens
 * that live shorter than an HSM creation, both issuer formats, and Node 20.
 */
import { describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import {
  assertSucceeded,
  defaultNames,
  emptySubscriptionScenario,
  runTaskOn,
  taskLeaksIn,
  writes,
  type IdentityMode,
  type TaskRun
} from '../../testkit/index.js'
import { hsmCreationPerFile, labPerFile } from '../../testkit/jest-lab.js'

const createHsm = hsmCreationPerFile()
const lab = labPerFile(emptySubscriptionScenario)

const DEVOPS_APP_NAME = 'azure-devops-deployer'

function run(
  account: string,
  mode?: IdentityMode,
  extra: Record<string, string> = {},
  options: { node?: string } = {}
): Promise<TaskRun> {
  return runTaskOn(lab, account, mode, { ...createHsm.taskInputs(account), ...extra }, options)
}

function accountOf(name: string) {
  return Object.values(lab.emulator.store.world.cosmosAccounts).find(a => a.name === name)
}

function devOpsPrincipal(): string {
  const app = Object.values(lab.emulator.store.world.applications).find(
    a => a.displayName === DEVOPS_APP_NAME
  )
  return app!.servicePrincipalId
}

describe('fresh provisioning from an empty subscription', () => {
  it('first-party identity: creates and activates the HSM, the key, the grants and the account', async () => {
    const result = await run('cosmos-ado-fp')
    assertSucceeded(result)
    const vars = result.variables
    const hsm = Object.values(lab.emulator.store.world.managedHsms)[0]
    expect(vars.hsmUri).toBe(`https://${defaultNames.hsmName}.managedhsm.azure.net/`)
    expect(vars.keyUri).toBe(`https://${defaultNames.hsmName}.managedhsm.azure.net/keys/cosmos-cmk`)
    expect(vars.keyId).toBe(`${vars.keyUri}/${vars.keyVersion}`)
    expect(vars.adminPrincipalId).toBe(devOpsPrincipal())
    expect(vars.cosmosPrincipalId).toBe(defaultNames.cosmosObjectId)
    expect(vars.defaultIdentity).toBe('FirstPartyIdentity')
    expect(vars.changed).toBe('true')
    expect(JSON.parse(vars.roleAssignmentIds)).toHaveLength(2)
    expect(hsm).toMatchObject({ activationStatus: 'Active', enablePurgeProtection: true })
    expect(hsm.initialAdminObjectIds).toContain(devOpsPrincipal())
    expect(hsm.tags).toMatchObject({
      'created-by': 'cosmos-cmk-hsm-task',
      'azure-devops-project': 'https://dev.azure.com/contoso/cosmos-cmk',
      'azure-devops-run-url': 'https://dev.azure.com/contoso/cosmos-cmk/_build/results?buildId=4242'
    })
    expect(accountOf('cosmos-ado-fp')?.keyVaultKeyUri).toBe(vars.keyUri)

    // every output declared in task.json is set as an output variable
    const declared = result.commands
      .filter(c => c.command === 'task.setvariable')
      .map(c => [c.properties.variable, c.properties.isOutput, c.properties.issecret])
    expect(declared).toContainEqual(['keyUri', 'true', 'false'])
    // one log group per phase, progress on the way, the summary as a named attachment
    expect(result.stdout).toMatch(/^##\[group\]Managed HSM$/m)
    expect(result.stdout).toMatch(/^##\[endgroup\]$/m)
    expect(result.progress).toEqual(expect.arrayContaining(['Managed HSM', 'HSM activation']))
    expect(result.summaries).toHaveLength(1)
    expect(result.summaries[0]!.name).toBe('Cosmos DB customer-managed key')
    expect(result.summaries[0]!.text).toContain('cosmos-ado-fp')
    expect(result.summaries[0]!.text).toContain('| keyUri |')
    // every token masked, none printed
    expect(result.secrets.length).toBeGreaterThan(2)
    expect(taskLeaksIn(lab, result)).toEqual([])
  }, 120_000)

  it('user-assigned identity: the account uses the identity as its default identity', async () => {
    const result = await run('cosmos-ado-ua', 'user-assigned')
    assertSucceeded(result)
    const identity = Object.values(lab.emulator.store.world.userAssignedIdentities)[0]
    expect(result.variables.userAssignedPrincipalId).toBe(identity?.principalId)
    expect(result.variables.cosmosPrincipalId).toBe(identity?.principalId)
    expect(result.variables.defaultIdentity).toBe(`UserAssignedIdentity=${identity?.id}`)
    expect(accountOf('cosmos-ado-ua')?.defaultIdentity).toBe(`UserAssignedIdentity=${identity?.id}`)
    expect(taskLeaksIn(lab, result)).toEqual([])
  }, 120_000)

  it('system-assigned identity: switches the account to its own identity', async () => {
    const result = await run('cosmos-ado-sa', 'system-assigned', {
      removeBootstrapAssignment: 'true'
    })
    assertSucceeded(result)
    const account = accountOf('cosmos-ado-sa')
    expect(account?.defaultIdentity).toBe('SystemAssignedIdentity')
    expect(result.variables.systemAssignedPrincipalId).toBe(account?.systemAssignedPrincipalId)
    expect(result.variables.defaultIdentity).toBe('SystemAssignedIdentity')
    expect(taskLeaksIn(lab, result)).toEqual([])
  }, 120_000)
})

describe('re-runs and plans', () => {
  it('a second run with the same inputs changes nothing and writes nothing', async () => {
    assertSucceeded(await run('cosmos-ado-rerun'))
    const before = lab.emulator.store.snapshot()
    lab.emulator.clearRequests()
    const again = await run('cosmos-ado-rerun')
    assertSucceeded(again)
    expect(again.variables.changed).toBe('false')
    expect(writes(lab.emulator.requests())).toEqual([])
    expect(lab.emulator.store.snapshot()).toEqual(before)
  }, 120_000)

  it('plan mode observes, writes nothing and says what apply would do', async () => {
    const result = await run('cosmos-ado-plan', undefined, { mode: 'plan' })
    assertSucceeded(result)
    expect(writes(lab.emulator.requests())).toEqual([])
    expect(Object.keys(lab.emulator.store.world.managedHsms)).toHaveLength(0)
    expect(result.variables.changed).toBe('true')
    expect(result.stdout).toMatch(/Managed HSM: absent -> create .*\[would\]/)
    expect(result.summaries[0]!.text).toMatch(/plan: nothing was written/)
  }, 60_000)
})

describe('ID tokens', () => {
  it('asks Azure DevOps for a fresh ID token whenever an access token is needed', async () => {
    const issuedBefore = lab.emulator.tokens.issued().idTokens.length
    lab.emulator.setTiming({
      hsmCreate: 5_000,
      idTokenLifetimeSeconds: 2,
      accessTokenLifetimeSeconds: 3
    })
    const result = await run('cosmos-ado-tokens')
    assertSucceeded(result)
    const requests = lab.emulator.requests()
    const idTokenRequests = requests.filter(r => r.host === 'dev.azure.com')
    const hsmCreation = requests.filter(
      r => r.method === 'PUT' && /managedHSMs\/[^/]+$/i.test(r.path)
    )
    expect(hsmCreation).toHaveLength(1)
    // ID tokens of 2 s and access tokens of 3 s over a run with a 5 s HSM creation
    expect(idTokenRequests.length).toBeGreaterThan(3)
    expect(idTokenRequests.every(r => r.status === 200)).toBe(true)
    const assertions = new Set(lab.emulator.tokens.issued().idTokens.slice(issuedBefore))
    expect(assertions.size).toBe(idTokenRequests.length)
    expect(taskLeaksIn(lab, result)).toEqual([])
  }, 120_000)

  it("signs in with a connection of Azure DevOps' own issuer (sc:// subject) as well", async () => {
    lab.emulator.azureDevOps!.serviceConnections[0]!.issuer = 'azure-devops'
    const result = await run('cosmos-ado-vstoken', undefined, { mode: 'plan' })
    assertSucceeded(result)
    const [idToken] = lab.emulator.tokens.issued().idTokens.slice(-1)
    const claims = JSON.parse(Buffer.from(idToken!.split('.')[1]!, 'base64url').toString())
    expect(claims.iss).toMatch(/^https:\/\/vstoken\.dev\.azure\.com\/[0-9a-f-]{36}$/)
    expect(claims.sub).toBe('sc://contoso/cosmos-cmk/sc-cosmos-cmk')
    expect(taskLeaksIn(lab, result)).toEqual([])
  }, 60_000)
})

/** Node 20 on PATH (the agent's Node20_1 handler), if this machine has one. */
function node20(): string | undefined {
  try {
    return execFileSync('which', ['-a', 'node'], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .find(path => execFileSync(path, ['--version'], { encoding: 'utf8' }).startsWith('v20.'))
  } catch {
    return undefined
  }
}

describe('the Node20_1 handler', () => {
  const node = node20()
  ;(node ? it : it.skip)(
    'runs on Node 20, trusting Agent.CAInfo in a restarted process',
    async () => {
      const result = await run('cosmos-ado-node20', undefined, { mode: 'plan' }, { node })
      assertSucceeded(result, 'task on Node 20')
      expect(result.variables.changed).toBe('true')
      expect(taskLeaksIn(lab, result)).toEqual([])
    },
    60_000
  )
})
