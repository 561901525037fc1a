import { accessSync, constants, existsSync, lstatSync, readFileSync, statSync } from 'node:fs'
import { ActionError } from '../errors.js'
import { inputDefaults, type InputName } from './settings.js'

export interface InputSource {
  getInput(name: string): string
}

/** File access for certificate and output-path checks; injectable for tests. */
export interface InputFiles {
  exists(path: string): boolean
  isDirectory(path: string): boolean
  /** Whether the path is a symbolic link (dangling or not). */
  isLink(path: string): boolean
  /** Whether this process may create files in the folder. */
  isWritableFolder(path: string): boolean
  read(path: string): string
  cwd(): string
}

export const nodeFiles: InputFiles = {
  exists: path => existsSync(path),
  isDirectory: path => existsSync(path) && statSync(path).isDirectory(),
  isLink: path => {
    try {
      return lstatSync(path).isSymbolicLink()
    } catch {
      return false
    }
  },
  isWritableFolder: path => {
    try {
      accessSync(path, constants.W_OK | constants.X_OK)
      return true
    } catch {
      return false
    }
  },
  read: path => readFileSync(path, 'utf8'),
  cwd: () => process.cwd()
}

/** Every problem found in the inputs, reported together. */
export class InputError extends ActionError {
  constructor(readonly problems: string[]) {
    super(
      problems.length === 1
        ? problems[0]
        : `${problems.length} inputs are invalid:\n${problems.map(p => `- ${p}`).join('\n')}`
    )
    this.name = 'InputError'
  }
}

export const guidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
export const GUID_RULE = 'must be a GUID like 00000000-0000-0000-0000-000000000000'

/**
 * Reads inputs by name and collects what is wrong with them instead of stopping at the first
 * problem. Each reader answers a usable fallback when the value is invalid, so that parsing goes
 * on and every problem is found.
 */
export class InputReader {
  readonly problems: string[] = []

  constructor(
    private readonly source: InputSource,
    readonly files: InputFiles
  ) {}

  /** The trimmed value, or the default when empty. */
  raw(name: InputName): string {
    const value = (this.source.getInput(name) ?? '').trim()
    return value === '' ? inputDefaults[name] : value
  }

  /** GitHub passes action.yml defaults as if they were set, so "given" means "differs from the default". */
  given(name: InputName): boolean {
    const value = (this.source.getInput(name) ?? '').trim()
    return value !== '' && value !== inputDefaults[name]
  }

  problem(message: string): void {
    this.problems.push(message)
  }

  fail(name: InputName, rule: string, value = this.raw(name)): void {
    this.problems.push(`Input '${name}' is '${value}': ${rule}.`)
  }

  missing(name: InputName, when?: string): void {
    this.problems.push(`Input '${name}' is required${when ? ` ${when}` : ''}.`)
  }

  oneOf<T extends string | number>(name: InputName, allowed: readonly T[]): T {
    const value = this.raw(name)
    const match = allowed.find(a => String(a).toLowerCase() === value.toLowerCase())
    if (match === undefined) {
      this.fail(name, `must be one of ${allowed.join(', ')}`)
      return allowed[0]
    }
    return match
  }

  bool(name: InputName): boolean {
    const value = this.raw(name)
    if (/^(true|True|TRUE)$/.test(value)) return true
    if (/^(false|False|FALSE)$/.test(value)) return false
    this.fail(name, 'must be true or false')
    return false
  }

  /** A GUID in lower case; `when` makes it required and says when. */
  guid(name: InputName, when?: string): string | undefined {
    const value = this.raw(name)
    if (!value) {
      if (when !== undefined) this.missing(name, when)
      return undefined
    }
    if (!guidPattern.test(value)) {
      this.fail(name, GUID_RULE)
      return undefined
    }
    return value.toLowerCase()
  }

  integer(name: InputName, min: number, max: number, rule?: string): number | undefined {
    const value = this.raw(name)
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
      this.fail(name, rule ?? `must be a whole number from ${min} to ${max}`)
      return undefined
    }
    return Number(value)
  }

  /** A required text matching `pattern`. */
  text(name: InputName, pattern: RegExp, rule: string, when = ''): string {
    const value = this.raw(name)
    if (!value) {
      this.missing(name, when)
      return ''
    }
    if (!pattern.test(value)) this.fail(name, rule)
    return value
  }

  /** The entries of a list input, separated by commas or new lines. */
  list(name: InputName): string[] {
    return splitList(this.raw(name))
  }

  /** An Azure region, normalised (lower case, no spaces); `rule` names what is wrong otherwise. */
  location(name: InputName, value: string, rule: string): string | undefined {
    if (!value) return undefined
    const normalised = value.toLowerCase().replace(/\s+/g, '')
    if (!/^[a-z][a-z0-9]{2,}$/.test(normalised)) {
      this.fail(name, rule, value)
      return undefined
    }
    return normalised
  }
}

function splitList(value: string): string[] {
  return value
    .split(/[\n,]/)
    .map(v => v.trim())
    .filter(Boolean)
}
