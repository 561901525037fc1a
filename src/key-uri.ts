import { hsmUriFor, type AzureCloud } from './cloud.js'

/**
 * Cosmos DB wants the versionless key URI without a trailing slash:
 * `https://<hsm>.managedhsm.azure.net/keys/<key>`.
 */
export function versionlessKeyUri(uri: string): string {
  const url = new URL(uri)
  const [keys, name] = url.pathname.split('/').filter(Boolean)
  if (keys?.toLowerCase() !== 'keys' || !name) throw new Error(`Not a key URI: ${uri}`)
  return `https://${url.host.toLowerCase()}/keys/${name}`
}

export function keyUriFor(hsmBaseUri: string, keyName: string): string {
  return `${hsmBaseUri.replace(/\/+$/, '')}/keys/${keyName}`
}

/** Whether a key URI names a specific version. */
export function isVersioned(uri: string): boolean {
  try {
    return new URL(uri).pathname.split('/').filter(Boolean).length > 2
  } catch {
    return false
  }
}

/** Same key: host compared case-insensitively, versions and trailing slashes ignored. */
export function sameKey(a: string, b: string): boolean {
  try {
    return versionlessKeyUri(a).toLowerCase() === versionlessKeyUri(b).toLowerCase()
  } catch {
    return false
  }
}

/** Base URI of an HSM's data plane, without a trailing slash: ARM's `hsmUri` when known. */
export function hsmBaseUri(cloud: AzureCloud, hsmName: string, hsmUri?: string): string {
  return (hsmUri || hsmUriFor(cloud, hsmName)).replace(/\/+$/, '')
}
