/** The local Azure's end state, reduced to what the action is responsible for, and what "converged" means. */
import {
  advanceWorld,
  COSMOS_FIRST_PARTY_APP_ID,
  defaultNames,
  HSM_ROLES,
  type Emulator,
  type World
} from './emulator.js'
import type { IdentityMode } from './inputs.js'
import { KEY_NAME } from './scenarios.js'

const { hsmName, userAssignedIdentity } = defaultNames

export interface AccountExpectation {
  name: string
  mode: IdentityMode
}

/** The parts of the world the action is responsible for, with generated ids replaced by roles. */
export interface EndState {
  providers: Record<string, string>
  keyVersions: { kty: string; keySize: number; keyOps: string[]; enabled: boolean }[]
  /** `principal role scope`, sorted; duplicates kept, so that they show. */
  assignments: string[]
  accounts: {
    name: string
    keyVaultKeyUri?: string
    defaultIdentity: string
    identityType: string
    userAssignedIdentities: string[]
    provisioningState: string
  }[]
}

/** The Azure Cosmos DB first-party service principal of the world's tenant. */
export function cosmosServicePrincipal(
  world: World
): World['servicePrincipals'][string] | undefined {
  return Object.values(world.servicePrincipals).find(
    sp => sp.appId.toLowerCase() === COSMOS_FIRST_PARTY_APP_ID
  )
}

/** The world as it stands now (time-driven states moved forward), reduced for comparison. */
export function endState(emulator: Emulator): EndState {
  const world = emulator.store.snapshot()
  advanceWorld(world, emulator.now())
  const label = principalLabels(world)
  const plane = world.hsmDataPlanes[hsmName]
  const providers: Record<string, string> = {}
  for (const sub of Object.values(world.subscriptions)) {
    for (const [ns, p] of Object.entries(sub.providers)) providers[ns] = p.state
  }
  return {
    providers,
    keyVersions: (plane?.keys[KEY_NAME]?.versions ?? []).map(v => ({
      kty: v.kty,
      keySize: v.keySize,
      keyOps: [...v.keyOps].sort(),
      enabled: v.enabled
    })),
    assignments: Object.values(plane?.roleAssignments ?? {})
      .map(a => `${label(a.principalId)} ${a.roleDefinitionId.split('/').pop()} ${a.scope}`)
      .sort(),
    accounts: Object.values(world.cosmosAccounts)
      .map(a => ({
        name: a.name,
        keyVaultKeyUri: a.keyVaultKeyUri,
        defaultIdentity: a.defaultIdentity.replace(/=.*$/, '=' + userAssignedIdentity),
        identityType: a.identityType,
        userAssignedIdentities: a.userAssignedIdentities.map(id => id.split('/').pop() ?? id),
        provisioningState: a.provisioningState
      }))
      .sort((x, y) => x.name.localeCompare(y.name))
  }
}

function principalLabels(world: World): (id: string) => string {
  const known = new Map<string, string>()
  for (const app of Object.values(world.applications)) {
    known.set(app.servicePrincipalId.toLowerCase(), `app:${app.displayName}`)
  }
  const firstParty = cosmosServicePrincipal(world)
  if (firstParty) known.set(firstParty.id.toLowerCase(), 'cosmos-first-party')
  for (const uai of Object.values(world.userAssignedIdentities)) {
    known.set(uai.principalId.toLowerCase(), `uai:${uai.name}`)
  }
  for (const account of Object.values(world.cosmosAccounts)) {
    if (account.systemAssignedPrincipalId) {
      known.set(account.systemAssignedPrincipalId.toLowerCase(), `system:${account.name}`)
    }
  }
  return id => known.get(id.toLowerCase()) ?? `unknown:${id}`
}

/** Role assignments that stand more than once (each extra one counts). */
export function duplicateAssignments(state: EndState): number {
  return state.assignments.length - new Set(state.assignments).size
}

/** Key versions beyond the one the action must create. */
export function extraKeyVersions(state: EndState): number {
  return Math.max(0, state.keyVersions.length - 1)
}

/** Accounts that stand more than once under one name. */
export function duplicateAccounts(state: EndState): number {
  return state.accounts.length - new Set(state.accounts.map(a => a.name)).size
}

/**
 * Everything "converged" means: providers registered, exactly one key version fit for Cosmos DB,
 * exactly one assignment per (principal, role, scope), no grant to a principal the directory does
 * not know, the pipeline's key access, and each account once, on the key, with the default
 * identity of its mode and that identity granted the key. Answers the problems found (none when
 * converged).
 */
export function convergenceProblems(state: EndState, accounts: AccountExpectation[]): string[] {
  const problems: string[] = []
  const keyUri = `https://${hsmName}.managedhsm.azure.net/keys/${KEY_NAME}`
  for (const [ns, s] of Object.entries(state.providers)) {
    if (s !== 'Registered') problems.push(`provider ${ns} is ${s}`)
  }
  if (state.keyVersions.length !== 1) {
    problems.push(`key has ${state.keyVersions.length} versions`)
  }
  for (const v of state.keyVersions) {
    if (v.kty !== 'RSA-HSM' || v.keySize !== 3072 || !v.enabled) {
      problems.push(`key version ${JSON.stringify(v)}`)
    }
    if (!v.keyOps.includes('wrapKey') || !v.keyOps.includes('unwrapKey')) {
      problems.push(`key ops ${v.keyOps.join(',')}`)
    }
  }
  const seen = new Set<string>()
  for (const a of state.assignments) {
    if (seen.has(a)) problems.push(`duplicate assignment ${a}`)
    seen.add(a)
    if (a.startsWith('unknown:')) problems.push(`assignment to an unknown principal: ${a}`)
  }
  const holds = (principal: string) =>
    state.assignments.some(
      a =>
        a.startsWith(`${principal} ${HSM_ROLES.serviceEncryptionUser} `) &&
        (a.endsWith(` /keys/${KEY_NAME}`) || a.endsWith(' /keys'))
    )
  if (!state.assignments.includes(`app:github-deployer ${HSM_ROLES.cryptoUser} /keys`)) {
    problems.push('the pipeline has no Crypto User at /keys')
  }
  for (const expected of accounts) {
    const found = state.accounts.filter(a => a.name === expected.name)
    if (found.length !== 1) {
      problems.push(`account ${expected.name} found ${found.length} times`)
      continue
    }
    const account = found[0]
    if (account.keyVaultKeyUri !== keyUri) {
      problems.push(`account ${account.name} key ${account.keyVaultKeyUri}`)
    }
    if (account.provisioningState !== 'Succeeded') {
      problems.push(`account ${account.name} is ${account.provisioningState}`)
    }
    const wanted = {
      'first-party': ['FirstPartyIdentity', 'cosmos-first-party'],
      'user-assigned': [
        `UserAssignedIdentity=${userAssignedIdentity}`,
        `uai:${userAssignedIdentity}`
      ],
      'system-assigned': ['SystemAssignedIdentity', `system:${account.name}`]
    }[expected.mode]
    if (account.defaultIdentity !== wanted[0]) {
      problems.push(`account ${account.name} default identity ${account.defaultIdentity}`)
    }
    if (!holds(wanted[1])) problems.push(`${wanted[1]} cannot reach the key`)
  }
  return problems
}
