/** HSM role assignments: which assignment counts as the grant, the rows, and the grants' refusals. */
import { describe, expect, it } from '@jest/globals'
import type { RoleAssignment } from '../../src/azure/api.js'
import type { Inputs } from '../../src/inputs/settings.js'
import { hsmRoles, roleAssignmentName } from '../../src/roles.js'
import { ensureRoleAssignment, type RoleGrant } from '../../src/steps/role-assignment.js'
import { WaitTimeoutError } from '../../src/wait.js'
import { FakeAzure, baseInputs, ids, restError, uaiId, withUserAssigned } from './fakes.js'
import { harness } from './helpers.js'
import { expectRow, failure, rowOf } from './outcomes.js'
import { stepContext } from './step-context.js'

const role = hsmRoles.cryptoServiceEncryptionUser
const lettered = 'abcdefab-cdef-4abc-8def-abcdefabcdef'
const grant: RoleGrant = {
  step: 'Cosmos DB key access',
  role,
  scope: '/keys/cosmos-key',
  principalId: lettered,
  principalLabel: 'the test principal',
  mayBeNew: true
}
const name = roleAssignmentName('hsm-cmk', '/keys/cosmos-key', role.id, lettered)
const what = `'${role.name}' at /keys/cosmos-key for the test principal ${lettered}`
const assignment = (principalId: string, scope = '/keys'): RoleAssignment => ({
  id: `${scope}/providers/Microsoft.Authorization/roleAssignments/existing`,
  name: 'existing',
  scope,
  roleDefinitionId: `Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/${role.id}`,
  principalId
})
const afterElapsed = (message: string) => message.replace(/^Gave up after .+? waiting for /, '')

describe('ensureRoleAssignment', () => {
  it("finds the principal's covering assignment whatever the case of its id, and changes nothing", async () => {
    const { ctx, azure } = stepContext()
    const found = assignment(lettered.toUpperCase())
    const outcome = await ensureRoleAssignment(ctx, azure.hsm().rbac, grant, [found])
    expect(outcome).toEqual({ assignment: found, name, created: false })
    expect(azure.writes()).toEqual([])
    expectRow(
      ctx.records,
      'Cosmos DB key access',
      `${what} present (existing at /keys)`,
      'none',
      'ok'
    )
  })

  it("does not count another principal's assignment of the same role", async () => {
    const { ctx, azure } = stepContext()
    const outcome = await ensureRoleAssignment(ctx, azure.hsm().rbac, grant, [
      assignment(ids.uaiPrincipal)
    ])
    expect(outcome).toMatchObject({ name, created: true })
    expect(azure.writes()).toEqual(['rbac.create'])
    expectRow(
      ctx.records,
      'Cosmos DB key access',
      `${what} absent`,
      `assigned as ${name}`,
      'changed'
    )
  })

  it('in plan mode, creates nothing and says it would assign it under its name', async () => {
    const { ctx, azure } = stepContext(baseInputs({ mode: 'plan' }))
    const outcome = await ensureRoleAssignment(ctx, azure.hsm().rbac, grant, [])
    expect(outcome).toEqual({ name, created: false })
    expect(azure.writes()).toEqual([])
  })

  it('gives up on a principal the directory never learns, saying what to check', async () => {
    const { ctx, azure } = stepContext()
    azure.unknownPrincipals.add(lettered)
    const failed = ensureRoleAssignment(ctx, azure.hsm().rbac, grant, [])
    await expect(failed).rejects.toThrow(WaitTimeoutError)
    const message = await failed.then(
      () => '',
      (e: Error) => e.message
    )
    expect(afterElapsed(message)).toBe(
      `the test principal ${lettered} to be known to the directory. Last observation: the directory does ` +
        'not know the principal yet. A new identity can take minutes to replicate; check that the principal id is right.'
    )
  })

  it('explains a refusal to create the assignment, with the command an HSM administrator runs', async () => {
    const { ctx, azure } = stepContext()
    azure.failAlways('rbac.create', () => restError(403, 'Forbidden', 'not an administrator'))
    await expect(ensureRoleAssignment(ctx, azure.hsm().rbac, grant, [])).rejects.toThrow(
      `The signed-in principal ${ids.signedIn} may not create role assignments on Managed HSM 'hsm-cmk' ` +
        "(Forbidden (HTTP 403): not an administrator). It needs 'Managed HSM Administrator' at '/': ask an " +
        'HSM administrator to run az keyvault role assignment create --hsm-name hsm-cmk --role "Managed HSM ' +
        `Administrator" --assignee-object-id ${ids.signedIn} --scope /`
    )
  })
})

describe('the grants of a run', () => {
  it('fails at once, naming the signed-in principal, when the directory does not know it', async () => {
    const azure = new FakeAzure().withActiveHsm()
    azure.unknownPrincipals.add(ids.signedIn)
    const h = harness(azure)
    const error = await failure(h.run())
    expect(error.message).toBe(
      `The directory does not know the signed-in principal ${ids.signedIn}, so it cannot be assigned ` +
        "'Managed HSM Crypto User' at /keys: check that this is the principal's object id (BadRequest " +
        `(HTTP 400): PrincipalNotFound: ${ids.signedIn} does not exist).`
    )
    // It did not wait for the directory to learn a principal that signed in.
    expect(h.runner.logs.filter(l => l.includes('to be known to the directory'))).toEqual([])
  })

  it('names the system-assigned identity in its grant row', async () => {
    const azure = new FakeAzure().withActiveHsm().withKey()
    const inputs: Inputs = baseInputs({
      identity: {
        mode: 'system-assigned',
        bootstrap: 'first-party',
        removeBootstrapAssignment: false
      }
    })
    const result = await harness(azure).run(inputs)
    expect(rowOf(result.records, 'System identity key access')?.observed).toBe(
      `'${role.name}' at /keys/cosmos-key for the account's system-assigned identity ${ids.systemPrincipal} absent`
    )
  })

  it('names the user-assigned identity in its grant row', async () => {
    const azure = new FakeAzure().withActiveHsm().withKey().withUai()
    const result = await harness(azure).run(withUserAssigned('user-assigned'))
    expect(rowOf(result.records, 'Cosmos DB key access')?.observed).toBe(
      `'${role.name}' at /keys/cosmos-key for user-assigned identity ${uaiId} ${ids.uaiPrincipal} absent`
    )
  })
})

describe('the plan of the grants and the key before the HSM exists', () => {
  const newHsm = (inputs: Inputs): Inputs => ({
    ...inputs,
    mode: 'plan',
    hsm: { ...inputs.hsm, create: true },
    securityDomain: { certificates: [], quorum: 2, file: '/work/sd.json' }
  })

  it('says what it would assign and create, and names the Cosmos DB principal', async () => {
    const result = await harness(new FakeAzure()).run(newHsm(baseInputs()))
    const notReadable = 'not readable until the HSM exists and is active'
    expectRow(
      result.records,
      'Admin key access',
      notReadable,
      `assign 'Managed HSM Crypto User' at /keys to ${ids.signedIn}`,
      'would-change'
    )
    expectRow(
      result.records,
      'Key',
      notReadable,
      "create RSA-HSM 3072 'cosmos-key' if absent",
      'would-change'
    )
    expectRow(
      result.records,
      'Cosmos DB key access',
      notReadable,
      `assign '${role.name}' at /keys/cosmos-key to the Azure Cosmos DB service principal`,
      'would-change'
    )
    expect(result.outputs['cosmos-principal-id']).toBe(ids.cosmosSp)
  })

  it('names the user-assigned identity it would assign the key', async () => {
    const azure = new FakeAzure().withUai()
    const result = await harness(azure).run(newHsm(withUserAssigned('user-assigned')))
    expect(rowOf(result.records, 'Cosmos DB key access')?.action).toBe(
      `assign '${role.name}' at /keys/cosmos-key to user-assigned identity ${uaiId}`
    )
  })
})
