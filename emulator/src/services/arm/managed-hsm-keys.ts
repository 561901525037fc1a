import { azureError, type AzureError } from '../../core/errors.js'
import type { EmuResponse } from '../../core/service.js'
import type { HsmDataPlane, HsmKey, KeyVersion, ManagedHsm } from '../../core/world.js'
import { hsmSetting } from '../../model/hsms.js'
import { HSM_TYPE, hsmHost, resourceId, worldKey } from '../../model/ids.js'
import { generateKeyMaterial } from '../../model/key-material.js'
import {
  KEY_NAME_PATTERN,
  addKeyVersion,
  findKey,
  findVersion,
  keyAttributes,
  latestVersion,
  rsaKeySpec,
  type KeySpec
} from '../../model/keys.js'
import { DataActions, principalMayPerform } from '../../model/rbac.js'
import {
  authorize,
  findResourceGroup,
  jsonBody,
  requireRegistered,
  type ArmRequest
} from './context.js'
import { badRequest } from './errors.js'

/*
 * ManagedHsmKeys_* (Microsoft.KeyVault 2026-02-01): keys of a Managed HSM through Azure Resource
 * Manager. They are the HSM's own keys (the same world state the data plane serves), and ARM
 * reaches them on the caller's behalf, so a request must pass three checks:
 *
 * 1. ARM RBAC: `Microsoft.KeyVault/managedHSMs/keys/read` (Get, List), `.../keys/write`
 *    (CreateIfNotExist) and `.../keys/versions/read` (GetVersion, ListVersions), as the resource
 *    provider operations list names them (learn.microsoft.com/azure/role-based-access-control/
 *    permissions/security#microsoftkeyvault).
 * 2. The HSM must trust ARM: "Azure Managed HSM does not trust Azure Resource Manager by default"
 *    until a Managed HSM administrator sets AllowKeyManagementOperationsThroughARM to true, and ARM
 *    then "acts on behalf of the user" (learn.microsoft.com/azure/key-vault/managed-hsm/
 *    authorize-azure-resource-manager).
 * 3. Because ARM acts on the caller's behalf, the HSM's local RBAC applies to the caller as on the
 *    data plane: keys/read/action to read, keys/create to create.
 *
 * Failures the HSM itself reports come back through ARM with the HSM's code and a message in the
 * form `[Code (Reason)] message`, as Key Vault's do through Microsoft.KeyVault/vaults/keys (e.g.
 * ForbiddenByRbac answered with 400, pulumi/pulumi-azure-native#890); a missing key stays a 404.
 */

const KEYS_TYPE = `${HSM_TYPE}/keys`
const VERSIONS_TYPE = `${KEYS_TYPE}/versions`
const ARM_KEYS_READ = `${KEYS_TYPE}/read`
const ARM_KEYS_WRITE = `${KEYS_TYPE}/write`
const ARM_VERSIONS_READ = `${VERSIONS_TYPE}/read`
const TRUST_SETTING = 'AllowKeyManagementOperationsThroughARM' as const

type Params = Record<string, string>

/** An HSM-side failure as ARM passes it on. */
function fromHsm(status: 403 | 404 | 503, code: string, message: string): AzureError {
  const reason = { 403: 'Forbidden', 404: 'NotFound', 503: 'ServiceUnavailable' }
  return azureError(status === 404 ? 404 : 400, code, `[${code} (${reason[status]})] ${message}`)
}

function keyNotFound(name: string): AzureError {
  return fromHsm(
    404,
    'KeyNotFound',
    `A key with (name/id) ${name} was not found in this key vault. If you recently deleted this ` +
      'key you may be able to recover it using the correct recovery command. For help resolving ' +
      'this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182'
  )
}

interface HsmTarget {
  hsm: ManagedHsm
  plane: HsmDataPlane
}

/** The resource id of the HSM a request names (it need not exist). */
function hsmIdOf(a: ArmRequest, p: Params): string {
  const group = findResourceGroup(a, p.sub!, p.rg!)
  return resourceId(group.subscriptionId, group.name, HSM_TYPE, p.name!)
}

/** The HSM, once ARM has authorized the caller; a nested resource's missing parent is a 404. */
function parentHsm(a: ArmRequest, hsmId: string, name: string): HsmTarget {
  const hsm = a.world.managedHsms[worldKey(hsmId)]
  const plane = hsm && a.world.hsmDataPlanes[hsm.name.toLowerCase()]
  if (!hsm || !plane) {
    throw azureError(
      404,
      'ParentResourceNotFound',
      `Can not perform requested operation on nested resource. Parent resource '${name}' not found.`
    )
  }
  return { hsm, plane }
}

/** What the HSM checks when ARM calls it on the caller's behalf (see the top of this file). */
function onBehalfOfCaller(a: ArmRequest, t: HsmTarget, dataAction: string, scope: string): void {
  const { hsm, plane } = t
  if (hsm.provisioningState !== 'Succeeded' && hsm.provisioningState !== 'Updating') {
    throw fromHsm(
      503,
      'ServiceUnavailable',
      `The managed HSM '${hsm.name}' is not available: its provisioning state is ${hsm.provisioningState}.`
    )
  }
  if (hsm.activationStatus !== 'Active') {
    throw fromHsm(
      403,
      'HSMNotActivated',
      `The managed HSM '${hsm.name}' is not activated, so it cannot be used for key management yet.`
    )
  }
  if (!hsmSetting(plane, TRUST_SETTING)) {
    throw badRequest(
      `The managed HSM '${hsm.name}' does not allow key management operations through Azure ` +
        `Resource Manager. A Managed HSM administrator must enable the setting '${TRUST_SETTING}' ` +
        `(az keyvault setting update --hsm-name ${hsm.name} --name ${TRUST_SETTING} --value true).`
    )
  }
  if (!principalMayPerform(a.world, hsm.name, a.callerId, dataAction, scope, a.now)) {
    throw fromHsm(
      403,
      'AccessDenied',
      `Not authorized to access ${dataAction} on ${scope} (Activity ID: ${a.ctx.newGuid()})`
    )
  }
}

function keyUri(hsm: ManagedHsm, key: HsmKey, v?: KeyVersion): string {
  const base = `https://${hsmHost(hsm.name)}:443/keys/${key.name}`
  return v ? `${base}/${v.version}` : base
}

/** `full`: Get, GetVersion and CreateIfNotExist describe the key; the lists only point at it. */
function keyProperties(hsm: ManagedHsm, key: HsmKey, v: KeyVersion, full: boolean) {
  return {
    attributes: keyAttributes(hsm, v, false),
    ...(full
      ? {
          kty: v.kty,
          keyOps: v.keyOps,
          ...(v.kty === 'EC-HSM' ? { curveName: v.crv } : { keySize: v.keySize })
        }
      : {}),
    keyUri: keyUri(hsm, key)
  }
}

function tagsOfVersion(v: KeyVersion) {
  return Object.keys(v.tags).length > 0 ? { tags: v.tags } : {}
}

/** A ManagedHsmKey: the key at its current version. */
function keyBody(hsm: ManagedHsm, key: HsmKey, full = true): Record<string, unknown> {
  const v = latestVersion(key)
  const properties = keyProperties(hsm, key, v, full)
  return {
    id: `${hsm.id}/keys/${key.name}`,
    name: key.name,
    type: KEYS_TYPE,
    ...tagsOfVersion(v),
    properties: full ? { ...properties, keyUriWithVersion: keyUri(hsm, key, v) } : properties
  }
}

/** A ManagedHsmKey for one version of the key. */
function versionBody(hsm: ManagedHsm, key: HsmKey, v: KeyVersion, full: boolean) {
  return {
    id: `${hsm.id}/keys/${key.name}/versions/${v.version}`,
    name: v.version,
    type: VERSIONS_TYPE,
    ...tagsOfVersion(v),
    properties: { ...keyProperties(hsm, key, v, full), keyUriWithVersion: keyUri(hsm, key, v) }
  }
}

/** ManagedHsmKeys_List: one page, `{value}` without nextLink. */
export function listManagedHsmKeys(a: ArmRequest, p: Params): EmuResponse {
  const hsmId = hsmIdOf(a, p)
  authorize(a, ARM_KEYS_READ, hsmId)
  const target = parentHsm(a, hsmId, p.name!)
  onBehalfOfCaller(a, target, DataActions.keysRead, '/keys')
  const value = Object.values(target.plane.keys).map(k => keyBody(target.hsm, k, false))
  return { status: 200, body: { value } }
}

/** ManagedHsmKeys_Get (GET) and ManagedHsmKeys_CreateIfNotExist (PUT). */
export function managedHsmKey(a: ArmRequest, p: Params): EmuResponse | Promise<EmuResponse> {
  const hsmId = hsmIdOf(a, p)
  const scope = `${hsmId}/keys/${p.keyName}`
  if (a.ctx.req.method === 'PUT') return createIfNotExist(a, p, hsmId, scope)
  authorize(a, ARM_KEYS_READ, scope)
  const target = parentHsm(a, hsmId, p.name!)
  onBehalfOfCaller(a, target, DataActions.keysRead, `/keys/${p.keyName}`)
  const key = findKey(target.plane, p.keyName!)
  if (!key) throw keyNotFound(p.keyName!)
  return { status: 200, body: keyBody(target.hsm, key) }
}

/** ManagedHsmKeys_ListVersions: one page, oldest first. */
export function listManagedHsmKeyVersions(a: ArmRequest, p: Params): EmuResponse {
  const hsmId = hsmIdOf(a, p)
  authorize(a, ARM_VERSIONS_READ, `${hsmId}/keys/${p.keyName}`)
  const target = parentHsm(a, hsmId, p.name!)
  onBehalfOfCaller(a, target, DataActions.keysRead, `/keys/${p.keyName}`)
  const key = findKey(target.plane, p.keyName!)
  if (!key) throw keyNotFound(p.keyName!)
  const value = key.versions.map(v => versionBody(target.hsm, key, v, false))
  return { status: 200, body: { value } }
}

/** ManagedHsmKeys_GetVersion. */
export function managedHsmKeyVersion(a: ArmRequest, p: Params): EmuResponse {
  const hsmId = hsmIdOf(a, p)
  authorize(a, ARM_VERSIONS_READ, `${hsmId}/keys/${p.keyName}/versions/${p.version}`)
  const target = parentHsm(a, hsmId, p.name!)
  onBehalfOfCaller(a, target, DataActions.keysRead, `/keys/${p.keyName}`)
  const key = findKey(target.plane, p.keyName!)
  const v = key && findVersion(key, p.version)
  if (!key || !v) throw keyNotFound(`${p.keyName}/${p.version}`)
  return { status: 200, body: versionBody(target.hsm, key, v, true) }
}

/** ManagedHsmKeyCreateParameters, read into what a new key would be. */
function createSpec(body: Record<string, unknown>): KeySpec {
  const props = body.properties as Record<string, unknown> | undefined
  if (typeof props !== 'object' || props === null || Array.isArray(props)) {
    throw badRequest('The property "properties" is required.')
  }
  const { kty } = props
  if (kty === 'EC' || kty === 'EC-HSM') {
    throw badRequest(
      `Key type '${kty}' is not supported by the local Azure for key creation; only RSA and RSA-HSM keys are created.`
    )
  }
  if (kty !== 'RSA' && kty !== 'RSA-HSM') {
    throw badRequest(
      `The property "kty" is required and must be one of RSA, RSA-HSM, EC, EC-HSM (got '${String(kty)}').`
    )
  }
  if (props.curveName !== undefined) {
    throw badRequest('The property "curveName" applies to EC keys only.')
  }
  if (props.rotationPolicy !== undefined || props.release_policy !== undefined) {
    throw badRequest(
      'Key rotation and release policies are not emulated by the local Azure; create the key without them.'
    )
  }
  const attrs = props.attributes as Record<string, unknown> | undefined
  if (attrs?.enabled !== undefined && typeof attrs.enabled !== 'boolean') {
    throw badRequest('The attribute "enabled" must be a boolean.')
  }
  const spec = rsaKeySpec({
    size: props.keySize,
    ops: props.keyOps,
    attributes: attrs,
    tags: body.tags,
    fields: { size: 'keySize', ops: 'keyOps' }
  })
  if ('problem' in spec) throw badRequest(spec.problem)
  return spec
}

/**
 * "Creates the first version of a new key if it does not exist. If it already exists, then the
 * existing key is returned without any write operations being performed. This API does not create
 * subsequent versions, and does not update existing keys." Requests racing to create the same key
 * end with one version: whoever stores first wins, the others answer with that key.
 */
async function createIfNotExist(
  a: ArmRequest,
  p: Params,
  hsmId: string,
  scope: string
): Promise<EmuResponse> {
  authorize(a, ARM_KEYS_WRITE, scope)
  requireRegistered(a, p.sub!, 'Microsoft.KeyVault')
  const name = p.keyName!
  if (!KEY_NAME_PATTERN.test(name)) {
    throw badRequest(
      `The key name '${name}' is invalid: it must be 1-127 letters, digits and hyphens.`
    )
  }
  const spec = createSpec(jsonBody(a))
  const target = parentHsm(a, hsmId, p.name!)
  const existing = findKey(target.plane, name)
  if (existing) {
    onBehalfOfCaller(a, target, DataActions.keysRead, `/keys/${name}`)
    return { status: 200, body: keyBody(target.hsm, existing) }
  }
  onBehalfOfCaller(a, target, DataActions.keysCreate, `/keys/${name}`)
  const material = await generateKeyMaterial(spec)
  const stored = findKey(target.plane, name)
  if (stored) return { status: 200, body: keyBody(target.hsm, stored) }
  const version = a.ctx.newGuid().replace(/-/g, '')
  const { key } = addKeyVersion(
    target.plane,
    name,
    spec,
    material,
    version,
    Math.floor(a.ctx.now() / 1000)
  )
  return { status: 200, body: keyBody(target.hsm, key) }
}
