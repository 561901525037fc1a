/**
 * How the Azure Pipelines task names the action's inputs and outputs: task.json allows only
 * camelCase names (`hsm-name` is `hsmName`), and the sign-in inputs come from the service
 * connection instead of from the task's inputs.
 */

/** The task input that names the Azure Resource Manager service connection (as Azure's own tasks call it). */
export const CONNECTION_INPUT = 'azureSubscription'

/** Action inputs the task takes from its service connection, never from a task input. */
export const connectionInputs: readonly string[] = [
  'auth-type',
  'client-id',
  'tenant-id',
  'audience',
  'environment'
]

/** The task input that overrides the connection's subscription. */
export const SUBSCRIPTION_INPUT = 'subscriptionId'

export function camelCase(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase())
}

/** The task input (or output variable) for an action input (or output); undefined for sign-in inputs. */
export function taskNameOf(actionName: string): string | undefined {
  return connectionInputs.includes(actionName) ? undefined : camelCase(actionName)
}

/**
 * A message of the core in the task's words: every hyphenated action input or output it names
 * (`hsm-name`, `create-hsm: true`, `key-uri`) as the task spells it (`hsmName`, `createHsm: true`,
 * `keyUri`). Names inside paths are left alone.
 */
export function inTaskWords(text: string, actionNames: readonly string[]): string {
  const hyphenated = actionNames.filter(n => n.includes('-') && taskNameOf(n))
  if (!hyphenated.length) return text
  const pattern = new RegExp(`(?<![\\w./-])(${hyphenated.join('|')})(?![\\w/-])`, 'g')
  return text.replace(pattern, name => camelCase(name))
}
