/**
 * The three Reflect metadata functions that tsyringe (a dependency of @peculiar/x509) checks for at
 * load time. Installed only when no polyfill is present; must be imported before @peculiar/x509.
 */
type Key = string | symbol | undefined
const store = new WeakMap<object, Map<Key, Map<unknown, unknown>>>()

function own(target: object, property: Key, create: boolean): Map<unknown, unknown> | undefined {
  let byProperty = store.get(target)
  if (!byProperty) {
    if (!create) return undefined
    byProperty = new Map()
    store.set(target, byProperty)
  }
  let entries = byProperty.get(property)
  if (!entries && create) {
    entries = new Map()
    byProperty.set(property, entries)
  }
  return entries
}

const reflect = Reflect as unknown as Record<string, unknown>
if (typeof reflect.getMetadata !== 'function') {
  reflect.defineMetadata = (key: unknown, value: unknown, target: object, property?: Key) => {
    own(target, property, true)!.set(key, value)
  }
  reflect.getOwnMetadata = (key: unknown, target: object, property?: Key) =>
    own(target, property, false)?.get(key)
  reflect.getMetadata = (key: unknown, target: object, property?: Key) => {
    for (let t: object | null = target; t; t = Object.getPrototypeOf(t) as object | null) {
      const entries = own(t, property, false)
      if (entries?.has(key)) return entries.get(key)
    }
    return undefined
  }
}

export {}
