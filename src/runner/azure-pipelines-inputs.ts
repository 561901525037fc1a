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
