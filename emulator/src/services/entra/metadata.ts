import { cloudOfHost, PUBLIC_CLOUD } from '../../core/clouds.js'
import { ENTRA_HOST } from '../../core/hosts.js'

/** The tenant's OpenID Connect discovery document, as MSAL reads it for non-built-in authorities. */
export function openIdConfiguration(
  tenant: string,
  version: 'v1' | 'v2.0',
  host: string = ENTRA_HOST
): Record<string, unknown> {
  const cloud = cloudOfHost(host) ?? PUBLIC_CLOUD
  const base = `https://${cloud.entraHost}/${tenant}`
  const v2 = version === 'v2.0'
  const oauth = v2 ? `${base}/oauth2/v2.0` : `${base}/oauth2`
  return {
    token_endpoint: `${oauth}/token`,
    token_endpoint_auth_methods_supported: [
      'client_secret_post',
      'private_key_jwt',
      'client_secret_basic'
    ],
    jwks_uri: v2 ? `${base}/discovery/v2.0/keys` : `${base}/discovery/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: v2 ? `${base}/v2.0` : `https://sts.windows.net/${tenant}/`,
    request_uri_parameter_supported: false,
    userinfo_endpoint: `https://${cloud.graphHost}/oidc/userinfo`,
    authorization_endpoint: `${oauth}/authorize`,
    device_authorization_endpoint: `${oauth}/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${oauth}/logout`,
    claims_supported: [
      'sub',
      'iss',
      'cloud_instance_name',
      'cloud_instance_host_name',
      'cloud_graph_host_name',
      'msgraph_host',
      'aud',
      'exp',
      'iat',
      'auth_time',
      'acr',
      'nonce',
      'tid',
      'ver',
      'at_hash',
      'c_hash'
    ],
    kerberos_endpoint: `${base}/kerberos`,
    tenant_region_scope: 'EU',
    cloud_instance_name: cloud.entraHost.replace(/^login\./, ''),
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: cloud.graphHost,
    rbac_url: 'https://pas.windows.net'
  }
}

/** The answer to MSAL's instance discovery (`/common/discovery/instance`). */
export function instanceDiscovery(
  authorizationEndpoint: string | null,
  host: string = ENTRA_HOST
): Record<string, unknown> {
  const entraHost = (cloudOfHost(host) ?? PUBLIC_CLOUD).entraHost
  const aliases =
    entraHost === ENTRA_HOST
      ? [ENTRA_HOST, 'login.windows.net', 'login.microsoft.com', 'sts.windows.net']
      : [entraHost]
  let tenant = 'common'
  if (authorizationEndpoint) {
    try {
      tenant = new URL(authorizationEndpoint).pathname.split('/').filter(Boolean)[0] ?? 'common'
    } catch {
      tenant = 'common'
    }
  }
  return {
    tenant_discovery_endpoint: `https://${entraHost}/${tenant}/v2.0/.well-known/openid-configuration`,
    'api-version': '1.1',
    metadata: [
      {
        preferred_network: entraHost,
        preferred_cache: entraHost === ENTRA_HOST ? 'login.windows.net' : entraHost,
        aliases
      }
    ]
  }
}
