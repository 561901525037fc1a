import type { CosmosAccountState, HsmKeyState, RoleAssignment } from './azure/api.js'

/** Every output of the action, in the order of action.yml and of the job summary. */
export const outputNames = [
  'hsm-uri',
  'key-uri',
  'key-id',
  'key-version',
  'admin-principal-id',
  'cosmos-principal-id',
  'user-assigned-principal-id',
  'system-assigned-principal-id',
  'default-identity',
  'account-id',
  'account-endpoint',
  'accounts',
  'role-assignment-ids',
  'key-version-in-use',
  'key-status-code',
  'healthy',
  'findings',
  'changed'
] as const

export type OutputName = (typeof outputNames)[number]
export type ActionOutputs = Partial<Record<OutputName, string>>

/** What a run produced, as the steps returned it. */
export interface Produced {
  hsmUri: string
  keyUri: string
  key?: HsmKeyState
  adminPrincipalId: string
  /** The principal that holds the key for the account (the one its default identity names). */
  keyHolder?: string
  userAssignedPrincipalId?: string
  systemAssignedPrincipalId?: string
  account?: CosmosAccountState
  /** Assignments made or found, without one that the run removed. */
  assignments: RoleAssignment[]
  changed: boolean
  /** mode verify: the verdict and every check. */
  verdict?: { healthy: boolean; findings: unknown[] }
  /** A fleet: every account's outcome (the account fields above then stay empty). */
  fleet?: AccountOutcome[]
}

/** What a run did for one account of a fleet. */
export interface AccountOutcome {
  name: string
  account?: CosmosAccountState
  keyHolder?: string
  changed: boolean
  /** Why the account failed (the others went on), with the step it failed in. */
  failure?: { step: string; message: string }
}

/** The `accounts` output: one entry per account name. */
function accountsOutput(p: Produced): string | undefined {
  const outcomes: AccountOutcome[] =
    p.fleet ??
    (p.account
      ? [{ name: p.account.name, account: p.account, keyHolder: p.keyHolder, changed: p.changed }]
      : [])
  if (!outcomes.length) return undefined
  const entries = outcomes.map(o => [
    o.name,
    {
      id: o.account?.id,
      endpoint: o.account?.documentEndpoint,
      defaultIdentity: o.account?.defaultIdentity,
      principalId: o.keyHolder,
      systemAssignedPrincipalId: o.account?.identity.principalId,
      changed: o.changed,
      ...(o.failure ? { error: `${o.failure.step}: ${o.failure.message}` } : {})
    }
  ])
  return JSON.stringify(Object.fromEntries(entries))
}

/** The code in a revoked account's customerManagedKeyStatus, e.g. `4002`; undefined when healthy. */
export function keyStatusCode(status: string | undefined): string | undefined {
  return /\((40\d\d)\)/.exec(status ?? '')?.[1]
}

export function buildOutputs(p: Produced): ActionOutputs {
  return {
    'hsm-uri': p.hsmUri,
    'key-uri': p.keyUri,
    'key-id': p.key?.id,
    'key-version': p.key?.version,
    'admin-principal-id': p.adminPrincipalId,
    'cosmos-principal-id': p.keyHolder,
    'user-assigned-principal-id': p.userAssignedPrincipalId,
    'system-assigned-principal-id': p.systemAssignedPrincipalId,
    'default-identity': p.account?.defaultIdentity,
    'account-id': p.account?.id,
    'account-endpoint': p.account?.documentEndpoint,
    accounts: accountsOutput(p),
    'role-assignment-ids': JSON.stringify(p.assignments.map(a => a.id)),
    'key-version-in-use': p.account?.keyVaultKeyUriVersion,
    'key-status-code': keyStatusCode(p.account?.customerManagedKeyStatus),
    healthy: p.verdict && String(p.verdict.healthy),
    findings: p.verdict && JSON.stringify(p.verdict.findings),
    changed: String(p.changed)
  }
}
