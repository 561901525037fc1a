/**
 * The local Azure's admin API, for what a test plays out on Azure's side (a key disabled or
 * rotated, a grant taken away) and for an account's state as of the emulator's clock.
 */
import type { Emulator, World } from './emulator.js'

export interface AdminReply {
  status: number
  json: { version?: string; removed?: unknown[]; error?: { code: string; message: string } }
}

/** `method` on the admin route `path` (e.g. `/hsm-key`), with `body` as JSON. */
export async function adminRequest(
  emulator: Emulator,
  path: string,
  method: string,
  body?: unknown
): Promise<AdminReply> {
  const res = await fetch(`${emulator.adminUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  return { status: res.status, json: (await res.json()) as AdminReply['json'] }
}

type CosmosAccount = World['cosmosAccounts'][string]

/** The Cosmos DB account `name` as the world holds it right now (not moved to the clock). */
export function cosmosAccount(emulator: Emulator, name: string): CosmosAccount {
  const found = Object.values(emulator.store.world.cosmosAccounts).find(a => a.name === name)
  if (!found) throw new Error(`no Cosmos DB account ${name}`)
  return found
}

/**
 * The account `name` as of the emulator's clock: `GET /_emulator/state` first moves the world to
 * it (the version in use after a rotation's lag, a revocation and its recovery).
 */
export async function cosmosAccountNow(emulator: Emulator, name: string): Promise<CosmosAccount> {
  const id = cosmosAccount(emulator, name).id.toLowerCase()
  const world = (await fetch(`${emulator.adminUrl}/state`).then(r => r.json())) as World
  const account = world.cosmosAccounts[id]
  if (!account) throw new Error(`no Cosmos DB account ${name} in the state`)
  return account
}
