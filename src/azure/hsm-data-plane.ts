import type { TokenCredential } from '@azure/core-auth'
import { bearerTokenAuthenticationPolicy, type PipelinePolicy } from '@azure/core-rest-pipeline'
import { keyVaultAuthenticationPolicy } from '@azure/keyvault-common'
import { KeyClient, type KeyRotationPolicy, type KeyVaultKey } from '@azure/keyvault-keys'
import { scopeOf, type AzureCloud } from '../cloud.js'
import { isNotFound, statusOf, unlessAbsent } from '../errors.js'
import { normaliseScope } from '../roles.js'
import type {
  HsmDataPlane,
  HsmKeysApi,
  HsmKeyState,
  HsmRbacApi,
  HsmSettingsApi,
  RoleAssignment,
  RoleDefinition,
  RotationPolicy,
  SecurityDomainApi,
  SecurityDomainStatus
} from './api.js'
import { transportOptions } from './http.js'
import type { TransportSettings } from './transport.js'
import { createJsonClient, eitherSignal, type JsonClient } from './rest.js'

/** The api-version @azure/keyvault-admin uses for local RBAC; the security domain accepts it too. */
const hsmAdminApiVersion = '7.6'

export interface HsmSetup {
  hsmUri: string
  credential: TokenCredential
  transport: TransportSettings
  signal?: AbortSignal
  /** The run's cloud: an HSM in its Managed HSM domain gets its token without a challenge. */
  cloud?: Pick<AzureCloud, 'managedHsmResource' | 'managedHsmDnsSuffix'>
}

export function createHsmDataPlane(setup: HsmSetup): HsmDataPlane {
  // One pipeline serves RBAC and the security domain.
  const client = createJsonClient({
    baseUrl: setup.hsmUri,
    auth: hsmAuthentication(setup),
    transport: setup.transport,
    signal: setup.signal,
    fixedQuery: `api-version=${hsmAdminApiVersion}`
  })
  return {
    rbac: createHsmRbacApi(client),
    securityDomain: createSecurityDomainApi(client),
    keys: createHsmKeysApi(setup),
    settings: createSettingsApi(client)
  }
}

/**
 * An HSM under the cloud's Managed HSM domain takes the cloud's HSM token, sent with the first
 * request; any other host (a custom domain) names its resource in a challenge, which is answered
 * only after its domain is checked against the request's.
 */
function hsmAuthentication(setup: HsmSetup): PipelinePolicy {
  const { cloud, credential } = setup
  const host = new URL(setup.hsmUri).hostname.toLowerCase()
  if (cloud && host.endsWith(`.${cloud.managedHsmDnsSuffix}`)) {
    return bearerTokenAuthenticationPolicy({
      credential,
      scopes: scopeOf(cloud.managedHsmResource)
    })
  }
  return keyVaultAuthenticationPolicy(credential)
}

function createSettingsApi(client: JsonClient): HsmSettingsApi {
  const path = (name: string) => `/settings/${encodeURIComponent(name)}`
  return {
    async get(name) {
      const response = await unlessAbsent(() => client.send<{ value?: string }>('GET', path(name)))
      return response?.body?.value
    },
    async update(name, value) {
      await client.send('PATCH', path(name), { body: { value } })
    }
  }
}

interface WireRoleAssignment {
  id?: string
  name?: string
  properties?: { scope?: string; roleDefinitionId?: string; principalId?: string }
}

interface WireList<T> {
  value?: T[]
  nextLink?: string
}

function assignmentsPath(scope: string): string {
  const s = normaliseScope(scope)
  return `${s === '/' ? '' : s}/providers/Microsoft.Authorization/roleAssignments`
}

interface WireRoleDefinition {
  id?: string
  name?: string
  properties?: { roleName?: string }
}

function definitionsPath(scope: string): string {
  const s = normaliseScope(scope)
  return `${s === '/' ? '' : s}/providers/Microsoft.Authorization/roleDefinitions`
}

function toDefinition(wire: WireRoleDefinition): RoleDefinition {
  return { id: wire.id ?? '', name: wire.name ?? '', roleName: wire.properties?.roleName ?? '' }
}

function toAssignment(wire: WireRoleAssignment): RoleAssignment {
  return {
    id: wire.id ?? '',
    name: wire.name ?? '',
    scope: normaliseScope(wire.properties?.scope ?? '/'),
    roleDefinitionId: wire.properties?.roleDefinitionId ?? '',
    principalId: (wire.properties?.principalId ?? '').toLowerCase()
  }
}

function createHsmRbacApi(client: JsonClient): HsmRbacApi {
  async function listAll<T>(path: string, query: string, signal?: AbortSignal): Promise<T[]> {
    const items: T[] = []
    let response = await client.send<WireList<T>>('GET', path, { query, signal })
    items.push(...(response.body?.value ?? []))
    let next = response.body?.nextLink
    while (next) {
      const url = new URL(next)
      const nextQuery = url.search
        .replace(/^\?/, '')
        .replace(/(^|&)api-version=[^&]*/i, '')
        .replace(/^&/, '')
      response = await client.send<WireList<T>>('GET', url.pathname, { query: nextQuery, signal })
      items.push(...(response.body?.value ?? []))
      next = response.body?.nextLink
    }
    return items
  }

  return {
    async listForPrincipal(scope, principalId, options) {
      const filter = encodeURIComponent(`principalId eq '${principalId}'`)
      const wire = await listAll<WireRoleAssignment>(
        assignmentsPath(scope),
        `$filter=${filter}`,
        options?.signal
      )
      return wire.map(toAssignment).filter(a => a.principalId === principalId.toLowerCase())
    },
    async get(scope, name) {
      const response = await unlessAbsent(() =>
        client.send<WireRoleAssignment>('GET', `${assignmentsPath(scope)}/${name}`)
      )
      return response?.body ? toAssignment(response.body) : undefined
    },
    async create(scope, name, roleDefinitionId, principalId) {
      const response = await client.send<WireRoleAssignment>(
        'PUT',
        `${assignmentsPath(scope)}/${name}`,
        {
          body: { properties: { roleDefinitionId, principalId } }
        }
      )
      return toAssignment(response.body ?? {})
    },
    async delete(scope, name) {
      try {
        await client.send('DELETE', `${assignmentsPath(scope)}/${name}`)
      } catch (error) {
        if (!isNotFound(error)) throw error
      }
    },
    async listRoleDefinitions(scope) {
      const wire = await listAll<WireRoleDefinition>(definitionsPath(scope), '')
      return wire.map(toDefinition)
    },
    async getRoleDefinition(scope, name) {
      const response = await unlessAbsent(() =>
        client.send<WireRoleDefinition>('GET', `${definitionsPath(scope)}/${name}`)
      )
      return response?.body ? toDefinition(response.body) : undefined
    }
  }
}

function createSecurityDomainApi(client: JsonClient): SecurityDomainApi {
  return {
    async download(certificates, quorum) {
      const response = await client.send<{ value?: string }>('POST', '/securitydomain/download', {
        body: { certificates, required: quorum }
      })
      const value = response.body?.value
      if (!value)
        throw new Error('The security domain download answered without a security domain.')
      return { value }
    },
    async downloadStatus() {
      try {
        const response = await client.send<{ status?: string; status_details?: string }>(
          'GET',
          '/securitydomain/download/pending'
        )
        if (!response.body?.status) return undefined
        return {
          status: response.body.status,
          statusDetails: response.body.status_details
        } satisfies SecurityDomainStatus
      } catch (error) {
        // No download was ever started on this HSM.
        const status = statusOf(error)
        if (status === 404 || status === 400) return undefined
        throw error
      }
    }
  }
}

function createHsmKeysApi(setup: HsmSetup): HsmKeysApi {
  const client = new KeyClient(setup.hsmUri, setup.credential, transportOptions(setup.transport))
  return {
    async get(name, options) {
      const key = await unlessAbsent(() =>
        client.getKey(name, { abortSignal: eitherSignal(setup.signal, options?.signal) })
      )
      return key && toKeyState(key)
    },
    async createRsa(name, size, keyOps, tags) {
      return toKeyState(
        await client.createRsaKey(name, {
          hsm: true,
          keySize: size,
          keyOps: keyOps as ('wrapKey' | 'unwrapKey')[],
          tags,
          abortSignal: setup.signal
        })
      )
    },
    async getRotationPolicy(name) {
      const policy = await unlessAbsent(() =>
        client.getKeyRotationPolicy(name, { abortSignal: setup.signal })
      )
      return policy?.id || policy?.lifetimeActions?.length ? fromWirePolicy(policy) : undefined
    },
    async setRotationPolicy(name, policy) {
      const rotate = policy.rotateAfter
        ? { timeAfterCreate: policy.rotateAfter }
        : { timeBeforeExpiry: policy.rotateBeforeExpiry }
      const set = await client.updateKeyRotationPolicy(
        name,
        { lifetimeActions: [{ action: 'Rotate', ...rotate }], expiresIn: policy.expireAfter },
        { abortSignal: setup.signal }
      )
      return fromWirePolicy(set)
    },
    async rotate(name) {
      return toKeyState(await client.rotateKey(name, { abortSignal: setup.signal }))
    },
    async versions(name) {
      const versions: HsmKeyState[] = []
      for await (const properties of client.listPropertiesOfKeyVersions(name, {
        abortSignal: setup.signal
      })) {
        versions.push({
          id: properties.id ?? '',
          name,
          version: properties.version ?? '',
          kty: '',
          keyOps: [],
          enabled: properties.enabled !== false,
          notBefore: properties.notBefore,
          expiresOn: properties.expiresOn,
          createdOn: properties.createdOn
        })
      }
      return versions.sort((a, b) => (a.createdOn?.getTime() ?? 0) - (b.createdOn?.getTime() ?? 0))
    }
  }
}

function fromWirePolicy(policy: KeyRotationPolicy): RotationPolicy {
  const rotate = policy.lifetimeActions?.find(a => a.action.toLowerCase() === 'rotate')
  return {
    rotateAfter: rotate?.timeAfterCreate,
    rotateBeforeExpiry: rotate?.timeBeforeExpiry,
    expireAfter: policy.expiresIn
  }
}

function toKeyState(key: KeyVaultKey): HsmKeyState {
  const n = key.key?.n
  let size: number | undefined
  if (n && n.length) {
    let start = 0
    while (start < n.length - 1 && n[start] === 0) start++
    size = (n.length - start) * 8
  }
  return {
    id: key.id ?? key.key?.kid ?? '',
    name: key.name,
    version: key.properties.version ?? '',
    kty: key.keyType ?? key.key?.kty ?? '',
    keySize: size,
    keyOps: key.keyOperations ?? key.key?.keyOps ?? [],
    enabled: key.properties.enabled !== false,
    notBefore: key.properties.notBefore,
    expiresOn: key.properties.expiresOn,
    createdOn: key.properties.createdOn
  }
}
