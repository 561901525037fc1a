import { ENTRA_HOST } from '../../core/hosts.js'

const AUTHORITY = `https://${ENTRA_HOST}`

/** The tenant's OpenID Connect discovery document, as MSAL reads it for non-built-in authorities. */
export function openIdConfiguration(
  tenant: string,
  version: 'v1' | 'v2.0'
): Record<string, unknown> {
  const base = `${AUTHORITY}/${tenant}`
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
    userinfo_endpoint: 'https://graph.microsoft.com/oidc/userinfo',
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
    cloud_instance_name: 'microsoftonline.com',
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: 'graph.microsoft.com',
    rbac_url: 'https://pas.windows.net'
  }
}

/** The answer to MSAL's instance discovery (`/common/discovery/instance`). */
export function instanceDiscovery(authorizationEndpoint: string | null): Record<string, unknown> {
  let tenant = 'common'
  if (authorizationEndpoint) {
    try {
      tenant = new URL(authorizationEndpoint).pathname.split('/').filter(Boolean)[0] ?? 'common'
    } catch {
      tenant = 'common'
    }
  }
  return {
    tenant_discovery_endpoint: `${AUTHORITY}/${tenant}/v2.0/.well-known/openid-configuration`,
    'api-version': '1.1',
    metadata: [
      {
        preferred_network: ENTRA_HOST,
        preferred_cache: 'login.windows.net',
        aliases: [ENTRA_HOST, 'login.windows.net', 'login.microsoft.com', 'sts.windows.net']
      }
    ]
  }
}
