import { existsSync, readFileSync } from 'node:fs'
import { posix } from 'node:path'
import { fileURLToPath } from 'node:url'
import AjvModule from 'ajv'

const SPECS = fileURLToPath(new URL('../../specs/', import.meta.url))
const BASE = 'https://specs.local/'

type Json = Record<string, unknown>
type AjvInstance = import('ajv').default
const Ajv = ((AjvModule as unknown as { default?: unknown }).default ??
  AjvModule) as unknown as new (options: Record<string, unknown>) => AjvInstance

interface Operation {
  path: string
  method: string
  responses: Record<string, { schema?: Json }>
}

/**
 * Validates bodies against Swagger 2.0 response schemas with ajv. Swagger-only constructs are
 * turned into JSON Schema: `$ref`s become absolute (so files reference each other), enums with
 * `x-ms-enum.modelAsString: true` are open (extensible), and `x-nullable` admits null.
 */
export class SwaggerValidator {
  private ajv = new Ajv({
    strict: false,
    allErrors: true,
    validateFormats: false,
    validateSchema: false
  })
  private docs = new Map<string, Json>()

  constructor(readonly file: string) {
    this.load(file)
  }

  private load(rel: string): void {
    if (this.docs.has(rel)) return
    const full = posix.join(SPECS, rel)
    if (!existsSync(full)) return // an upstream reference that no served schema reaches
    const doc = JSON.parse(readFileSync(full, 'utf8')) as Json
    this.docs.set(rel, doc)
    const refs = new Set<string>()
    const definitions = this.transform(doc.definitions ?? {}, rel, refs)
    this.ajv.addSchema({ $id: `${BASE}${rel}`, definitions }, `${BASE}${rel}`)
    for (const other of refs) this.load(other)
  }

  private transform(node: unknown, rel: string, refs: Set<string>): unknown {
    if (Array.isArray(node)) return node.map(n => this.transform(n, rel, refs))
    if (typeof node !== 'object' || node === null) return node
    const out: Json = {}
    for (const [k, v] of Object.entries(node as Json)) {
      if (k === '$ref' && typeof v === 'string') {
        const [file, fragment = ''] = v.split('#')
        const target = file ? posix.normalize(posix.join(posix.dirname(rel), file)) : rel
        if (file) refs.add(target)
        out.$ref = `${BASE}${target}#${fragment}`
      } else if (k === 'format' || k === 'example' || k === 'x-ms-examples') {
        continue
      } else if (k === 'properties' && typeof v === 'object' && v !== null) {
        // a property map: its keys are names, not keywords
        out.properties = Object.fromEntries(
          Object.entries(v as Json).map(([name, schema]) => [
            name,
            this.transform(schema, rel, refs)
          ])
        )
      } else {
        out[k] = this.transform(v, rel, refs)
      }
    }
    const xmsEnum = out['x-ms-enum'] as { modelAsString?: boolean } | undefined
    if (xmsEnum?.modelAsString === true) delete out.enum
    if (out['x-nullable'] === true) {
      if (typeof out.type === 'string') out.type = [out.type, 'null']
      else return { anyOf: [out, { type: 'null' }] }
    }
    return out
  }

  operation(operationId: string): Operation {
    const doc = this.docs.get(this.file)!
    for (const [path, item] of Object.entries(doc.paths as Record<string, Json>)) {
      for (const [method, op] of Object.entries(item)) {
        if ((op as Json)?.operationId === operationId) {
          return { path, method, responses: (op as Json).responses as Operation['responses'] }
        }
      }
    }
    throw new Error(`${operationId} is not in ${this.file}`)
  }

  /** Problems with `body` as the answer `status` of `operationId`; empty when it conforms. */
  check(operationId: string, status: number, body: unknown): string[] {
    const op = this.operation(operationId)
    const declared = op.responses[String(status)]
    const response = declared ?? (status >= 400 ? op.responses.default : undefined)
    if (!response) return [`${operationId}: status ${status} is not a documented response`]
    if (!response.schema) {
      return body === undefined || body === null || body === '' || declared !== undefined
        ? []
        : [`${operationId}: status ${status} documents no body`]
    }
    return this.validate(
      this.transform(response.schema, this.file, new Set()) as Json,
      body,
      operationId
    )
  }

  /** Problems with `body` as an instance of `#/definitions/{name}` of this file. */
  checkDefinition(name: string, body: unknown): string[] {
    return this.validate({ $ref: `${BASE}${this.file}#/definitions/${name}` }, body, name)
  }

  private validate(schema: Json, body: unknown, label: string): string[] {
    const validate = this.ajv.compile(schema)
    if (validate(body)) return []
    return (validate.errors ?? []).map(
      e => `${label}: ${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`
    )
  }
}

export const Specs = {
  resources:
    'specification/resources/resource-manager/Microsoft.Resources/resources/stable/2025-04-01/resources.json',
  keyVaultRm:
    'specification/keyvault/resource-manager/Microsoft.KeyVault/KeyVault/stable/2026-02-01/openapi.json',
  msi: 'specification/msi/resource-manager/Microsoft.ManagedIdentity/ManagedIdentity/stable/2024-11-30/ManagedIdentity.json',
  cosmos:
    'specification/cosmos-db/resource-manager/Microsoft.DocumentDB/DocumentDB/stable/2025-10-15/cosmos-db.json',
  keys: 'specification/keyvault/data-plane/Keys/stable/2026-04-01/keys.json',
  administration:
    'specification/keyvault/data-plane/Administration/stable/2026-04-01/administration.json',
  securityDomain:
    'specification/keyvault/data-plane/SecurityDomain/stable/2026-04-01/securitydomain.json',
  authorization:
    'specification/authorization/resource-manager/Microsoft.Authorization/stable/2022-04-01/authorization-RoleDefinitionsCalls.json'
} as const
