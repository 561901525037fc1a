import type { CosmosAccountState, HsmRbacApi } from '../azure/api.js'
import { ActionError } from '../errors.js'
import { buildOutputs, type ActionOutputs } from '../outputs.js'
import { hsmRoles, roleAssignmentName } from '../roles.js'
import { sameIdentity } from '../steps/account-state.js'
import { dataPlaneUri, record, runKeyUri, type Phases, type StepContext } from '../steps/context.js'
import { keyScopeOf } from '../steps/grants.js'
import { Step } from '../steps/names.js'
import { StepGraph } from './step-graph.js'
import { observe, type Observation } from '../steps/observe.js'
import { firstPartyPrincipalId } from '../steps/principals.js'
import { sameKey } from '../key-uri.js'

/** The tag the action puts on what it creates (see the runners' resourceTags). */
const CREATED_BY = { name: 'created-by', value: 'cosmos-cmk-hsm-action' }

/** Where a teardown notes, before it deletes the account, which grants it will remove next. */
const pendingTag = (account: string) => `cmk-teardown-${account}`

/** A grant teardown removes: the principal, and why only this account needed it. */
interface Removal {
  principalId: string
  label: string
}

/**
 * Removes a PR environment: the Cosmos DB account first (so that no backup loses writes), then
 * only the HSM role assignments this action made for it, under their deterministic names, when no
 * other account still needs them. Keys, key versions and the HSM are never touched. Before the
 * account is deleted, the grants to remove are noted on the HSM, so that a run cut off in between
 * finishes the job when it runs again.
 */
export async function teardown(ctx: StepContext, { phase }: Phases): Promise<ActionOutputs> {
  const name = ctx.inputs.account.name
  const { seen, removed } = await new StepGraph()
    .add('seen', [], () => phase(Step.Observe, () => observe(ctx)))
    .add('targets', ['seen'], ({ seen }) => teardownTargets(ctx, seen))
    .add('deleted', ['seen', 'targets'], ({ seen: { account, hsm }, targets: { removals } }) =>
      phase(Step.AccountDeletion, async () => {
        if (!account) {
          record(ctx, {
            step: Step.AccountDeletion,
            observed: 'absent',
            action: 'none',
            result: 'ok'
          })
          return
        }
        const action = `delete Cosmos DB account '${name}' (its data with it)`
        if (ctx.plan) {
          record(ctx, {
            step: Step.AccountDeletion,
            observed: 'present',
            action,
            result: 'would-change'
          })
          return
        }
        if (hsm && removals.length) {
          await ctx.apis.managedHsms.mergeTags(hsm.id, {
            [pendingTag(name)]: removals.map(r => r.principalId).join(',')
          })
        }
        await ctx.apis.cosmos.delete(ctx.inputs.resourceGroup, name)
        record(ctx, { step: Step.AccountDeletion, observed: 'present', action, result: 'changed' })
      })
    )
    .add('removed', ['seen', 'targets', 'deleted'], ({ seen: { hsm }, targets }) =>
      phase(Step.GrantRemoval, async () => {
        const rbac =
          hsm?.activationStatus === 'Active' ? ctx.apis.hsm(dataPlaneUri(ctx, hsm)).rbac : undefined
        const ids: string[] = []
        for (const removal of targets.removals) {
          const id = rbac && (await removeGrant(ctx, rbac, removal))
          if (id) ids.push(id)
        }
        if (hsm && targets.noted !== undefined && !ctx.plan) {
          await ctx.apis.managedHsms.deleteTags(hsm.id, { [pendingTag(name)]: targets.noted })
        }
        return ids
      })
    )
    .run()
  const { account, hsm } = seen
  record(ctx, {
    step: Step.Teardown,
    observed: `key '${ctx.inputs.key.name}', its versions and Managed HSM '${ctx.inputs.hsm.name}'`,
    action: 'keep them: teardown never deletes, purges or disables a key or an HSM',
    result: 'skipped'
  })
  return {
    ...buildOutputs({
      hsmUri: dataPlaneUri(ctx, hsm),
      keyUri: runKeyUri(ctx, hsm),
      adminPrincipalId: ctx.principal.objectId,
      account,
      assignments: [],
      changed: ctx.changed
    }),
    'role-assignment-ids': JSON.stringify(removed)
  }
}

/**
 * What the teardown of the account removes: the grants this action made for it (from the account,
 * or from the note left on the HSM by a run cut off after the deletion), and why any are kept.
 */
async function teardownTargets(
  ctx: StepContext,
  seen: Observation
): Promise<{ removals: Removal[]; noted?: string }> {
  const { account, hsm } = seen
  if (account) refuseForeign(ctx, account)
  const noted = hsm?.tags[pendingTag(ctx.inputs.account.name)]
  const removals = account ? await grantsOf(ctx, seen, account) : parseNoted(noted)
  const kept = account ? await keptGrants(ctx, seen, account) : []
  for (const reason of kept) {
    record(ctx, { step: Step.GrantRemoval, observed: reason, action: 'keep it', result: 'skipped' })
  }
  return { removals, noted }
}

/** Teardown touches only what this action provably created, and nothing protected. */
function refuseForeign(ctx: StepContext, account: CosmosAccountState): void {
  const tags = Object.fromEntries(
    Object.entries(account.tags).map(([k, v]) => [k.toLowerCase(), v])
  )
  const protectedBy = Object.entries(ctx.inputs.teardown.protectedTags).filter(
    ([k, v]) => tags[k.toLowerCase()]?.toLowerCase() === v.toLowerCase()
  )
  if (protectedBy.length) {
    throw new ActionError(
      `Cosmos DB account '${account.name}' is tagged ${protectedBy.map(([k, v]) => `${k}=${v}`).join(', ')}, ` +
        'which protected-tags puts off limits for teardown. Nothing was deleted.'
    )
  }
  if (tags[CREATED_BY.name] !== CREATED_BY.value) {
    throw new ActionError(
      `Cosmos DB account '${account.name}' does not carry the tag ${CREATED_BY.name}=${CREATED_BY.value}, so ` +
        'this action cannot prove it created it and leaves it alone. Nothing was deleted.'
    )
  }
}

/** The grants this action made for the account alone, found from the identities on the account. */
async function grantsOf(
  ctx: StepContext,
  seen: Observation,
  account: CosmosAccountState
): Promise<Removal[]> {
  const removals: Removal[] = []
  if (account.identity.principalId) {
    removals.push({
      principalId: account.identity.principalId,
      label: "the account's system-assigned identity"
    })
  }
  const shared = await sharedGrant(ctx, seen, account)
  if (shared && !(await neededElsewhere(ctx, account, shared.identity))) removals.push(shared)
  return removals
}

/** The first-party or user-assigned grant the account was created with, which others may share. */
async function sharedGrant(
  ctx: StepContext,
  seen: Observation,
  account: CosmosAccountState
): Promise<(Removal & { identity: string }) | undefined> {
  const uai = seen.userAssignedIdentity
  if (
    uai &&
    Object.keys(account.identity.userAssignedIdentities).some(
      id => id.toLowerCase() === uai.id.toLowerCase()
    )
  ) {
    return {
      principalId: uai.principalId,
      label: `user-assigned identity ${uai.id}`,
      identity: `UserAssignedIdentity=${uai.id}`
    }
  }
  if (
    ctx.inputs.identity.mode === 'first-party' ||
    ctx.inputs.identity.bootstrap === 'first-party'
  ) {
    const principalId = await firstPartyPrincipalId(ctx)
    return {
      principalId,
      label: 'the Azure Cosmos DB service principal',
      identity: 'FirstPartyIdentity'
    }
  }
  return undefined
}

/** Whether another account of the subscription reaches the key through the same identity. */
async function neededElsewhere(
  ctx: StepContext,
  account: CosmosAccountState,
  identity: string
): Promise<boolean> {
  const keyUri = account.keyVaultKeyUri
  if (!keyUri) return false
  const others = await ctx.apis.cosmos.list()
  return others.some(
    other =>
      other.id.toLowerCase() !== account.id.toLowerCase() &&
      !!other.keyVaultKeyUri &&
      sameKey(other.keyVaultKeyUri, keyUri) &&
      (sameIdentity(other.defaultIdentity, identity) ||
        Object.keys(other.identity.userAssignedIdentities).some(id =>
          identity.toLowerCase().endsWith(id.toLowerCase())
        ))
  )
}

/** What teardown leaves, and why, for the summary. */
async function keptGrants(
  ctx: StepContext,
  seen: Observation,
  account: CosmosAccountState
): Promise<string[]> {
  const shared = await sharedGrant(ctx, seen, account)
  if (!shared || !(await neededElsewhere(ctx, account, shared.identity))) return []
  return [`the grant of ${shared.label}: another account still uses the key through it`]
}

function parseNoted(noted: string | undefined): Removal[] {
  return (noted ?? '')
    .split(',')
    .filter(Boolean)
    .map(principalId => ({ principalId, label: 'a principal noted by an earlier teardown' }))
}

/** Removes the assignment under this action's deterministic name, if it is there. */
async function removeGrant(
  ctx: StepContext,
  rbac: HsmRbacApi,
  removal: Removal
): Promise<string | undefined> {
  const scope = keyScopeOf(ctx)
  const role = hsmRoles.cryptoServiceEncryptionUser
  const name = roleAssignmentName(ctx.inputs.hsm.name, scope, role.id, removal.principalId)
  const existing = await rbac.get(scope, name)
  const observed = `${name} for ${removal.label} ${removal.principalId}`
  if (!existing) {
    record(ctx, {
      step: Step.GrantRemoval,
      observed: `${observed} absent`,
      action: 'none',
      result: 'ok'
    })
    return undefined
  }
  const action = `remove '${role.name}' at ${scope}`
  if (ctx.plan) {
    record(ctx, { step: Step.GrantRemoval, observed, action, result: 'would-change' })
    return undefined
  }
  await rbac.delete(scope, name)
  record(ctx, { step: Step.GrantRemoval, observed, action, result: 'changed' })
  return existing.id
}
