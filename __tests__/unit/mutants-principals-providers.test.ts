/** The Azure Cosmos DB principal, resource providers and role assignments, beyond the main paths. */
import { describe, expect, it } from '@jest/globals'

import { ActionError } from '../../src/errors.js'
import { hsmRoles, roleAssignmentName } from '../../src/roles.js'
import { WaitTimeoutError } from '../../src/wait.js'
import {
  FakeAzure,
  baseInputs,
  ids,
  restError,
  systemAssignedInputs,
  withUserAssigned
} from './fakes.js'
import { expectRow, failure, rowOf } from './outcomes.js'
import { harness } from './helpers.js'

/** The base inputs with the Azure Cosmos DB principal given as cosmos-principal-id. */
const givenPrincipal = () =>
  baseInputs({ identity: { ...baseInputs().identity, cosmosPrincipalId: ids.cosmosSp } })

/** An Azure with an active HSM whose Microsoft.DocumentDB provider is in `state`. */
const documentDbProvider = (state: string) => {
  const azure = new FakeAzure().withActiveHsm()
  azure.providerStates['Microsoft.DocumentDB'] = state
  return azure
}

describe('the Azure Cosmos DB principal', () => {
  it('is refused when the tenant has none, saying how one comes about', async () => {
    const azure = new FakeAzure().withActiveHsm()
    azure.graphCosmosSp = undefined
    const error = await failure(harness(azure).run())
    expect(error.cause).toBeInstanceOf(ActionError)
    expect(error.message).toBe(
      'The Azure Cosmos DB service principal (application a232010e-820c-4083-83bb-3ace5fc29d0b) does not exist in ' +
        `tenant ${ids.tenant}. Registering the Microsoft.DocumentDB resource provider creates it; or set cosmos-principal-id.`
    )
    expect(azure.writes()).toEqual([])
  })

  it('suggests cosmos-principal-id on a 401 from Graph too, and fails as it is on other errors', async () => {
    const unauthorized = new FakeAzure().withActiveHsm()
    unauthorized.failAlways('graph.servicePrincipal', () =>
      restError(401, 'InvalidAuthenticationToken', 'no')
    )
    expect((await failure(harness(unauthorized).run())).message).toMatch(
      /^Microsoft Graph refused to look up the Azure Cosmos DB service principal \(InvalidAuthenticationToken \(HTTP 401\): no\)/
    )
    const broken = new FakeAzure().withActiveHsm()
    broken.failAlways('graph.servicePrincipal', () => restError(503, 'ServiceUnavailable', 'later'))
    const error = await failure(harness(broken).run())
    expect(error.cause).toMatchObject({ statusCode: 503 })
  })

  it('takes a given cosmos-principal-id unchecked when the directory may not be read', async () => {
    const azure = new FakeAzure().withActiveHsm()
    azure.failAlways('graph.servicePrincipalById', () =>
      restError(403, 'Authorization_RequestDenied', 'no')
    )
    const result = await harness(azure).run(givenPrincipal())
    expectRow(
      result.records,
      'Cosmos DB principal',
      `cosmos-principal-id ${ids.cosmosSp}; the directory may not be read to check it`,
      'none',
      'ok'
    )
    expect(azure.calls).not.toContain('read graph.servicePrincipal')
  })

  it('fails as it is when checking a given cosmos-principal-id fails otherwise', async () => {
    const azure = new FakeAzure().withActiveHsm()
    azure.failAlways('graph.servicePrincipalById', () =>
      restError(500, 'InternalError', 'Graph broke')
    )
    const error = await failure(harness(azure).run(givenPrincipal()))
    expect(error.cause).toMatchObject({ statusCode: 500, message: 'Graph broke' })
  })

  it('is looked up once per run, however many steps need it', async () => {
    const azure = new FakeAzure().withActiveHsm()
    await harness(azure).run(systemAssignedInputs(true))
    expect(azure.calls.filter(c => c === 'read graph.servicePrincipal')).toHaveLength(1)
  })
})

describe('resource providers', () => {
  it('waits for one that is already registering without registering it again', async () => {
    const azure = documentDbProvider('Registering')
    azure.registeringPolls = 2
    const h = harness(azure)
    await h.run()
    expect(azure.writes()).not.toContain('providers.register Microsoft.DocumentDB')
    expect(azure.providerStates['Microsoft.DocumentDB']).toBe('Registered')
    expect(h.runner.logs).toContainEqual(
      'info: Waiting for resource provider Microsoft.DocumentDB to be registered: registrationState Registering'
    )
  })

  it('fails a run whose registration never completes, blaming the providers step', async () => {
    const azure = documentDbProvider('NotRegistered')
    azure.registeringPolls = Infinity
    const error = await failure(harness(azure).run())
    expect(error.step).toBe('Resource providers')
    expect(error.cause).toBeInstanceOf(WaitTimeoutError)
    expect(error.message).toMatch(
      /^Gave up after 15 min 0 s waiting for resource provider Microsoft\.DocumentDB to be registered\. Last observation: registrationState Registering\. Check the provider/
    )
    expect(azure.writes()).not.toContain('account.create')
  })

  it('fails as it is when a registration fails for another reason than a refusal', async () => {
    const azure = documentDbProvider('NotRegistered')
    azure.failAlways('providers.register Microsoft.DocumentDB', () =>
      restError(409, 'Conflict', 'busy')
    )
    const error = await failure(harness(azure).run())
    expect(error.cause).toMatchObject({ statusCode: 409, message: 'busy' })
    expect(error.step).toBe('Resource providers')
  })

  it('in plan mode lists what it would register, and registers nothing', async () => {
    const azure = documentDbProvider('NotRegistered')
    azure.providerStates['Microsoft.KeyVault'] = 'Unregistered'
    const result = await harness(azure).run({ ...baseInputs(), mode: 'plan' })
    expect(rowOf(result.records, 'Resource providers')).toEqual({
      step: 'Resource providers',
      observed: 'Microsoft.DocumentDB NotRegistered, Microsoft.KeyVault Unregistered',
      action: 'register Microsoft.DocumentDB, Microsoft.KeyVault',
      result: 'would-change'
    })
    expect(azure.writes()).toEqual([])
  })
})

describe('role assignments', () => {
  it('a principal the directory does not know, when it cannot be new, fails at once naming the input', async () => {
    const azure = new FakeAzure().withActiveHsm()
    azure.unknownPrincipals.add(ids.cosmosSp)
    const error = await failure(harness(azure).run(givenPrincipal()))
    expect(error.message).toMatch(
      new RegExp(
        `^The directory does not know the Azure Cosmos DB service principal ${ids.cosmosSp} \\(input 'cosmos-principal-id'\\), ` +
          "so it cannot be assigned 'Managed HSM Crypto Service Encryption User' at /keys/cosmos-key"
      )
    )
    expect(azure.writes().filter(w => w === 'rbac.create')).toHaveLength(2)
  })

  it('a looked-up principal the directory does not know names no input', async () => {
    const azure = new FakeAzure().withActiveHsm()
    azure.unknownPrincipals.add(ids.cosmosSp)
    const error = await failure(harness(azure).run())
    expect(error.message).toMatch(
      new RegExp(
        `^The directory does not know the Azure Cosmos DB service principal ${ids.cosmosSp}, so`
      )
    )
  })

  it('a new user-assigned identity is waited for until the directory knows it', async () => {
    const azure = new FakeAzure().withActiveHsm().withUai()
    azure.unknownPrincipals.add(ids.uaiPrincipal)
    let tries = 0
    azure.before['rbac.create'] = () => {
      if (++tries === 3) azure.unknownPrincipals.clear()
    }
    const h = harness(azure)
    await h.run(withUserAssigned('user-assigned'))
    expect(azure.assignments.some(a => a.principalId === ids.uaiPrincipal)).toBe(true)
    expect(h.runner.logs).toContainEqual(
      expect.stringMatching(/the directory does not know the principal yet$/)
    )
  })

  it('a conflict whose assignment cannot be found is reported as such', async () => {
    const azure = new FakeAzure().withActiveHsm()
    azure.failAlways('rbac.create', () => restError(409, 'Conflict', 'exists elsewhere'))
    const error = await failure(harness(azure).run())
    expect(error.cause).toBeInstanceOf(ActionError)
    expect(error.message).toMatch(
      /^Assigning 'Managed HSM Crypto (Service Encryption )?User' at \/keys.* conflicted with an assignment that cannot be found: Conflict \(HTTP 409\): exists elsewhere$/
    )
  })

  it('a conflict is read back by the assignments of the principal when not under its name', async () => {
    const azure = new FakeAzure().withActiveHsm().withKey()
    azure.failNext('rbac.create', () => {
      azure.grant(hsmRoles.cryptoUser.id, ids.signedIn, '/keys', 'made-by-a-parallel-run')
      return restError(409, 'RoleAssignmentExists', 'exists')
    })
    const result = await harness(azure).run()
    expect(JSON.parse(result.outputs['role-assignment-ids']!)).toContain(
      '/providers/Microsoft.Authorization/roleAssignments/made-by-a-parallel-run'
    )
  })

  it('a 403 reading the assignments explains what the principal needs', async () => {
    const azure = new FakeAzure().withActiveHsm({ initialAdminObjectIds: [] })
    azure.failAlways('rbac.list', () => restError(403, 'Forbidden', 'may not read'))
    const error = await failure(harness(azure).run({ ...baseInputs(), mode: 'plan' }))
    expect(error.message).toBe(
      `The signed-in principal ${ids.signedIn} may not read role assignments on Managed HSM 'hsm-cmk' ` +
        "(Forbidden (HTTP 403): may not read). It needs 'Managed HSM Administrator' at '/': ask an HSM " +
        `administrator to run az keyvault role assignment create --hsm-name hsm-cmk --role "Managed HSM Administrator" --assignee-object-id ${ids.signedIn} --scope /`
    )
  })

  it('any other failure creating an assignment is passed on as it is', async () => {
    const azure = new FakeAzure().withActiveHsm()
    azure.failAlways('rbac.create', () => restError(500, 'InternalError', 'HSM broke'))
    const error = await failure(harness(azure).run())
    expect(error.cause).toMatchObject({ statusCode: 500, message: 'HSM broke' })
  })

  it('names the grant it would make in plan mode', async () => {
    const azure = new FakeAzure().withActiveHsm()
    const result = await harness(azure).run({ ...baseInputs(), mode: 'plan' })
    const name = roleAssignmentName('hsm-cmk', '/keys', hsmRoles.cryptoUser.id, ids.signedIn)
    expectRow(
      result.records,
      'Admin key access',
      `'Managed HSM Crypto User' at /keys for the signed-in principal ${ids.signedIn} absent`,
      `assign as ${name}`,
      'would-change'
    )
  })
})
