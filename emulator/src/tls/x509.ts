import { webcrypto } from 'node:crypto'
import type * as X509 from '@peculiar/x509'
import './reflect-metadata.js'

export type X509Module = typeof X509

let loaded: Promise<X509Module> | undefined

/**
 * Loads @peculiar/x509 lazily: its dependency tsyringe checks for Reflect metadata when it loads,
 * and a static import could be evaluated before the shim (CommonJS dependencies of ES modules are
 * loaded while linking under some loaders).
 */
export function loadX509(): Promise<X509Module> {
  loaded ??= import('@peculiar/x509').then(m => {
    const mod = ((m as unknown as { default?: X509Module }).default ?? m) as X509Module
    mod.cryptoProvider.set(webcrypto as never)
    return mod
  })
  return loaded
}
