import type { ManagedHsm, World } from '../core/world.js'
import type {
  Scenario,
  ScenarioCosmosAccount,
  ScenarioHsm,
  ScenarioKey,
  ScenarioResourceGroup
} from '../core/scenario-types.js'
import { COSMOS_TYPE, HSM_TYPE, UAI_TYPE, resourceGroupKey, resourceId, worldKey } from './ids.js'
import { HSM_SETTING_NAMES, addManagedHsm, hsmSettingName, setHsmSetting } from './hsms.js'
import { RSA_KEY_SIZES, generateKeyMaterialSync, isEcCurve, type KeyShape } from './key-material.js'
import { keyOfUri } from './cosmos-cmk.js'
import { addKeyVersion, keyOperations, latestVersion } from './keys.js'
import { addManagedIdentityPrincipal } from './principals.js'
import { addRoleAssignment, normalizeScope } from './rbac.js'
import { readRotationPolicy } from './rotation.js'
import { findBuiltInRole } from './role-definitions.js'
import { findRegion } from './regions.js'

export interface SeedEnv {
  now(): number
  newGuid(): string
  random(): number
}

function regionName(location: string | undefined, fallback: string): string {
  return findRegion(location ?? fallback)?.name ?? location ?? fallback
}

function seedHsm(
  world: World,
  env: SeedEnv,
  sub: string,
  rgName: string,
  rgLocation: string,
  s: ScenarioHsm
): void {
  const now = env.now()
  const admins = (s.initialAdminObjectIds ?? []).map(id => id.toLowerCase())
  const hsm: ManagedHsm = {
    id: resourceId(sub, rgName, HSM_TYPE, s.name),
    name: s.name,
    subscriptionId: sub,
    resourceGroup: rgName,
    location: regionName(s.location, rgLocation),
    tags: {},
    skuName: 'Standard_B1',
    tenantId: world.tenantId,
    initialAdminObjectIds: admins,
    enableSoftDelete: s.enableSoftDelete ?? true,
    softDeleteRetentionInDays: s.softDeleteRetentionInDays ?? 90,
    enablePurgeProtection: s.enablePurgeProtection ?? true,
    publicNetworkAccess: 'Enabled',
    provisioningState: 'Succeeded',
    activationStatus: s.activationStatus ?? 'Active',
    createdAt: now,
    createdBy: admins[0] ?? ''
  }
  const plane = addManagedHsm(world, hsm, () => env.newGuid(), now)
  for (const [name, value] of Object.entries(s.settings ?? {})) {
    const setting = hsmSettingName(name)
    if (!setting || typeof value !== 'boolean') {
      throw new Error(
        `HSM ${s.name}: settings: '${name}' is not a setting (${HSM_SETTING_NAMES.join(', ')}: true or false)`
      )
    }
    setHsmSetting(plane, setting, value)
  }
  for (const ra of s.roleAssignments ?? []) {
    const role = findBuiltInRole(ra.role)
    const scope = normalizeScope(ra.scope)
    if (!role) throw new Error(`HSM ${s.name}: unknown Managed HSM role '${ra.role}'`)
    if (!scope) throw new Error(`HSM ${s.name}: invalid role assignment scope '${ra.scope}'`)
    const name = ra.name ?? env.newGuid()
    addRoleAssignment(
      plane,
      { name, scope, roleGuid: role.guid, principalId: ra.principalId },
      now,
      now
    )
  }
  for (const k of s.keys ?? []) {
    const shape = seededKeyShape(s.name, k)
    const ops = keyOperations(shape.kty)
    const bad = k.ops?.find(op => !ops.allowed.includes(op))
    if (bad !== undefined) {
      throw new Error(`HSM ${s.name}: key ${k.name}: a ${shape.kty} key cannot allow '${bad}'`)
    }
    const exp = k.expires ? Math.floor(Date.parse(k.expires) / 1000) : undefined
    const { key } = addKeyVersion(
      plane,
      k.name,
      {
        ...shape,
        ops: k.ops ?? ops.defaults,
        enabled: k.enabled ?? true,
        ...(exp !== undefined && !Number.isNaN(exp) ? { exp } : {}),
        tags: {}
      },
      generateKeyMaterialSync(shape),
      env.newGuid().replace(/-/g, ''),
      Math.floor(now / 1000)
    )
    if (k.rotationPolicy) {
      const read = readRotationPolicy(k.rotationPolicy, now)
      if ('problem' in read)
        throw new Error(`HSM ${s.name}: key ${k.name}: rotationPolicy: ${read.problem}`)
      if (read.policy) {
        const seconds = Math.floor(now / 1000)
        key.rotationPolicy = { ...read.policy, created: seconds, updated: seconds }
      }
    }
  }
}

/** An RSA key (3072 bits unless `size` says otherwise) or, for kty EC or EC-HSM, an EC key. */
function seededKeyShape(hsmName: string, k: ScenarioKey): KeyShape {
  const at = `HSM ${hsmName}: key ${k.name}`
  if (k.kty === 'EC-HSM' || k.kty === 'EC') {
    if (k.size !== undefined) throw new Error(`${at}: an EC key has a curve, not a size`)
    const curve = k.curve ?? 'P-256'
    if (!isEcCurve(curve)) throw new Error(`${at}: unknown curve '${String(curve)}'`)
    return { kty: 'EC-HSM', curve }
  }
  if (k.kty !== undefined && k.kty !== 'RSA-HSM' && k.kty !== 'RSA') {
    throw new Error(`${at}: key type '${String(k.kty)}' is not emulated (RSA, RSA-HSM, EC, EC-HSM)`)
  }
  if (k.curve !== undefined) throw new Error(`${at}: an RSA key has a size, not a curve`)
  const size = k.size ?? 3072
  if (!RSA_KEY_SIZES.includes(size)) throw new Error(`${at}: RSA keys have 2048, 3072 or 4096 bits`)
  return { kty: 'RSA-HSM', size }
}

const BACKUP_POLICIES = ['Periodic', 'Continuous7Days', 'Continuous30Days']

/** User-assigned identities of a seeded account, by name in its resource group or by id. */
function seededUserAssigned(sub: string, rgName: string, s: ScenarioCosmosAccount): string[] {
  const ids = (s.identity?.userAssigned ?? []).map(ref =>
    ref.startsWith('/') ? ref : resourceId(sub, rgName, UAI_TYPE, ref)
  )
  const fromDefault = /^UserAssignedIdentity=(.+)$/i.exec(s.defaultIdentity ?? '')?.[1]
  if (fromDefault && !ids.some(id => id.toLowerCase() === fromDefault.toLowerCase())) {
    ids.push(fromDefault)
  }
  return ids
}

function seedCosmos(
  world: World,
  env: SeedEnv,
  sub: string,
  rgName: string,
  rgLocation: string,
  s: ScenarioCosmosAccount
): void {
  const location = regionName(s.location, rgLocation)
  const defaultIdentity = s.defaultIdentity ?? 'FirstPartyIdentity'
  const userAssigned = seededUserAssigned(sub, rgName, s)
  const systemAssigned =
    s.identity?.systemAssigned === true || /^SystemAssignedIdentity$/i.test(defaultIdentity)
  if (s.backupPolicy !== undefined && !BACKUP_POLICIES.includes(s.backupPolicy)) {
    throw new Error(
      `Cosmos DB account ${s.name}: backupPolicy '${String(s.backupPolicy)}' is not one of ${BACKUP_POLICIES.join(', ')}`
    )
  }
  const regions = (s.locations ?? [location]).map(name => {
    const region = findRegion(name)
    if (!region) throw new Error(`Cosmos DB account ${s.name}: unknown region '${name}'`)
    return region.name
  })
  const systemPrincipalId = systemAssigned ? env.newGuid() : undefined
  if (systemPrincipalId) {
    addManagedIdentityPrincipal(world, {
      id: systemPrincipalId,
      appId: env.newGuid(),
      displayName: s.name,
      replicatedAt: env.now()
    })
  }
  const id = resourceId(sub, rgName, COSMOS_TYPE, s.name)
  const key = s.keyVaultKeyUri ? keyOfUri(world, s.keyVaultKeyUri) : undefined
  world.cosmosAccounts[worldKey(id)] = {
    id,
    name: s.name,
    subscriptionId: sub,
    resourceGroup: rgName,
    location,
    tags: {},
    kind: s.kind ?? 'GlobalDocumentDB',
    capabilities: s.capabilities ?? [],
    locations: regions.map((locationName, failoverPriority) => ({
      locationName,
      failoverPriority,
      isZoneRedundant: false
    })),
    ...(s.keyVaultKeyUri ? { keyVaultKeyUri: s.keyVaultKeyUri } : {}),
    defaultIdentity,
    identityType:
      systemAssigned && userAssigned.length > 0
        ? 'SystemAssigned,UserAssigned'
        : systemAssigned
          ? 'SystemAssigned'
          : userAssigned.length > 0
            ? 'UserAssigned'
            : 'None',
    ...(systemPrincipalId ? { systemAssignedPrincipalId: systemPrincipalId } : {}),
    userAssignedIdentities: userAssigned,
    provisioningState: 'Succeeded',
    instanceId: env.newGuid(),
    createdAt: env.now(),
    backupPolicy: s.backupPolicy ?? 'Periodic',
    enableAnalyticalStorage: s.enableAnalyticalStorage === true,
    ...(s.materializedViews ? { materializedViews: true } : {}),
    ...(s.allVersionsAndDeletesChangeFeed ? { allVersionsAndDeletesChangeFeed: true } : {}),
    ...(key && 'key' in key ? { keyVersionInUse: latestVersion(key.key).version } : {})
  }
}

function seedResourceGroup(
  world: World,
  env: SeedEnv,
  sub: string,
  rg: ScenarioResourceGroup
): void {
  const record = world.resourceGroups[resourceGroupKey(sub, rg.name)]
  const subscriptionId = record?.subscriptionId ?? sub
  const rgName = record?.name ?? rg.name
  const rgLocation = record?.location ?? rg.location
  for (const u of rg.userAssignedIdentities ?? []) {
    const id = resourceId(subscriptionId, rgName, UAI_TYPE, u.name)
    const principalId = (u.principalId ?? env.newGuid()).toLowerCase()
    const clientId = (u.clientId ?? env.newGuid()).toLowerCase()
    world.userAssignedIdentities[worldKey(id)] = {
      id,
      name: u.name,
      subscriptionId,
      resourceGroup: rgName,
      location: regionName(u.location, rgLocation),
      tags: {},
      principalId,
      clientId,
      tenantId: world.tenantId
    }
    addManagedIdentityPrincipal(world, {
      id: principalId,
      appId: clientId,
      displayName: u.name,
      replicatedAt: env.now()
    })
  }
  for (const h of rg.managedHsms ?? []) seedHsm(world, env, subscriptionId, rgName, rgLocation, h)
  for (const c of rg.cosmosAccounts ?? [])
    seedCosmos(world, env, subscriptionId, rgName, rgLocation, c)
}

/**
 * Seeds user-assigned identities (with their service principals), HSMs (ARM record, data plane
 * with real RSA keys, role assignments effective at once, initial administrators as Managed HSM
 * Administrator at "/") and Cosmos DB accounts. Subscriptions, resource groups, applications and
 * their service principals are already in the world.
 */
export function seedResources(world: World, scenario: Scenario, env: SeedEnv): void {
  for (const sub of scenario.subscriptions) {
    for (const rg of sub.resourceGroups ?? []) seedResourceGroup(world, env, sub.subscriptionId, rg)
  }
}
