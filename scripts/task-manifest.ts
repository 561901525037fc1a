/**
 * The Azure Pipelines task's manifest (task/task.json), generated from action.yml so that the action
 * and the task never disagree: the same inputs in camelCase (`hsm-name` is `hsmName`), grouped as
 * action.yml's comments group them, with action.yml's defaults and descriptions, and its outputs as
 * output variables. The sign-in inputs are replaced by the `azureSubscription` service connection.
 */
import { readFileSync } from 'node:fs'
import { format, resolveConfig } from 'prettier'
import { isMap, isScalar, parseDocument, type Pair, type Scalar, type YAMLMap } from 'yaml'
import {
  apis,
  bootstrapIdentities,
  hsmSkus,
  identityModes,
  keySizes,
  modes,
  roleScopes
} from '../src/inputs/settings.js'
import {
  CONNECTION_INPUT,
  SUBSCRIPTION_INPUT,
  camelCase,
  inTaskWords,
  taskNameOf
} from '../src/runner/azure-pipelines-inputs.js'

export const TASK_ID = '5b8f3c2e-9d4a-4e7b-a1c6-0f2d8e4b6a93'
export const TASK_NAME = 'CosmosCmkHsm'
/** The agent version with both Node24 and Node20_1 handlers; older agents fall back to Node20_1. */
export const MINIMUM_AGENT_VERSION = '4.248.0'
export const TASK_TARGET = 'dist/index.js'

/** Inputs of the action that only make sense on GitHub (pull-request comments through its API). */
const githubOnlyInputs = ['comment-on-pr', 'github-token']

/**
 * Inputs whose default depends on the cloud of the service connection: the task gives them no
 * default, so that the agent leaves them empty and the core picks the cloud's.
 */
const cloudDependentDefaults = ['identity-mode']

/** Inputs whose values are a fixed list: a pick list in the task's editor. */
const pickLists: Record<string, readonly (string | number)[]> = {
  'hsm-sku': hsmSkus,
  'key-size': keySizes,
  api: apis,
  'identity-mode': identityModes,
  'bootstrap-identity': bootstrapIdentities,
  'role-scope': roleScopes,
  mode: modes
}

const acronyms: Record<string, string> = {
  hsm: 'HSM',
  sku: 'SKU',
  api: 'API',
  arm: 'ARM',
  id: 'ID',
  ids: 'IDs',
  pr: 'PR'
}

export interface TaskInput {
  name: string
  label: string
  type: string
  required: boolean
  defaultValue?: string
  groupName: string
  helpMarkDown: string
  options?: Record<string, string>
  properties?: Record<string, string>
  aliases?: string[]
}

export interface TaskManifest {
  id: string
  name: string
  friendlyName: string
  description: string
  helpMarkDown: string
  category: string
  author: string
  version: { Major: number; Minor: number; Patch: number }
  minimumAgentVersion: string
  runsOn: string[]
  instanceNameFormat: string
  groups: { name: string; displayName: string; isExpanded: boolean }[]
  inputs: TaskInput[]
  outputVariables: { name: string; description: string }[]
  execution: Record<string, { target: string }>
}

function label(name: string): string {
  const words = name.split('-').map(w => acronyms[w] ?? w)
  const first = words[0]!
  words[0] = first === first.toLowerCase() ? first[0]!.toUpperCase() + first.slice(1) : first
  return words.join(' ')
}

function oneLine(text: unknown): string {
  return String(text ?? '')
    .replace(/\s*\n\s*/g, ' ')
    .trim()
}

function groupName(displayName: string): string {
  const words = displayName.toLowerCase().match(/[a-z0-9]+/g) ?? ['inputs']
  return camelCase(words.join('-'))
}

interface ActionInput {
  name: string
  group: string
  description: string
  required: boolean
  default?: string
}

/** action.yml's inputs in order, each with the comment heading its group (`# Managed HSM`). */
function actionInputs(text: string): { inputs: ActionInput[]; outputs: [string, string][] } {
  const doc = parseDocument(text)
  const inputsMap = doc.get('inputs') as YAMLMap
  if (!isMap(inputsMap)) throw new Error('action.yml has no inputs map')
  let group = oneLine(inputsMap.commentBefore) || 'Inputs'
  const inputs: ActionInput[] = []
  for (const pair of inputsMap.items as Pair<Scalar, YAMLMap>[]) {
    const comment = (isScalar(pair.key) && pair.key.commentBefore) || ''
    if (comment.trim()) group = oneLine(comment.trim().split('\n').pop())
    const spec = pair.value?.toJSON() as Record<string, unknown>
    inputs.push({
      name: String(pair.key.value),
      group,
      description: oneLine(spec.description),
      required: spec.required === true,
      default: spec.default === undefined ? undefined : String(spec.default)
    })
  }
  const outputs = doc.toJS().outputs as Record<string, { description?: string }>
  return {
    inputs,
    outputs: Object.entries(outputs).map(([name, o]) => [name, oneLine(o.description)])
  }
}

function taskInput(input: ActionInput, names: string[]): TaskInput {
  const name = taskNameOf(input.name)!
  const values = pickLists[input.name]
  const bool = input.default === 'true' || input.default === 'false'
  const multiLine = /separated by commas or new lines/i.test(input.description)
  const result: TaskInput = {
    name,
    label: label(input.name),
    type: values ? 'pickList' : bool ? 'boolean' : multiLine ? 'multiLine' : 'string',
    required: input.required,
    groupName: groupName(input.group),
    helpMarkDown: inTaskWords(input.description, names)
  }
  if (
    input.default !== undefined &&
    input.default !== '' &&
    !cloudDependentDefaults.includes(input.name)
  ) {
    result.defaultValue = input.default
  }
  if (values) {
    result.options = Object.fromEntries(values.map(v => [String(v), String(v)]))
    result.properties = { EditableOptions: 'False' }
  }
  if (multiLine) result.properties = { resizable: 'true', rows: '3' }
  return result
}

export function taskManifest(actionYml: string, extensionVersion: string): TaskManifest {
  const manifest = parseDocument(actionYml).toJS() as {
    name: string
    description: string
    author?: string
  }
  const { inputs, outputs } = actionInputs(actionYml)
  const usable = inputs.filter(i => taskNameOf(i.name) && !githubOnlyInputs.includes(i.name))
  const names = [...inputs.map(i => i.name), ...outputs.map(([name]) => name)]
  const signInGroup = groupName(inputs[0]?.group ?? 'Sign-in')
  const taskInputs: TaskInput[] = [
    {
      name: CONNECTION_INPUT,
      label: 'Azure subscription',
      type: 'connectedService:AzureRM',
      required: true,
      groupName: signInGroup,
      helpMarkDown:
        'Azure Resource Manager service connection of type workload identity federation. Its app ' +
        'registration (or managed identity), tenant, subscription and cloud are used to sign in.',
      properties: { EndpointFilterRule: 'ScopeLevel != ManagementGroup' }
    },
    ...usable.map(input => {
      const task = taskInput(input, names)
      if (task.name !== SUBSCRIPTION_INPUT) return task
      return {
        ...task,
        required: false,
        helpMarkDown: `${task.helpMarkDown} Defaults to the service connection's subscription.`
      }
    })
  ]
  const groupNames = [...new Set(taskInputs.map(i => i.groupName))]
  const displayNames = new Map(inputs.map(i => [groupName(i.group), i.group]))
  const [major, minor, patch] = extensionVersion.split('.').map(Number)
  return {
    id: TASK_ID,
    name: TASK_NAME,
    friendlyName: 'Cosmos DB CMK on Managed HSM',
    description: oneLine(manifest.description),
    helpMarkDown:
      'Encrypts an Azure Cosmos DB account with a customer-managed key in Azure Managed HSM, signed ' +
      'in through a workload identity federation service connection. See the README of the project.',
    category: 'Deploy',
    author: manifest.author ?? 'cosmos-cmk-hsm-action',
    version: { Major: major ?? 1, Minor: minor ?? 0, Patch: patch ?? 0 },
    minimumAgentVersion: MINIMUM_AGENT_VERSION,
    runsOn: ['Agent'],
    instanceNameFormat: 'Cosmos DB CMK on Managed HSM: $(accountName)',
    groups: groupNames.map(name => ({
      name,
      displayName: displayNames.get(name) ?? name,
      isExpanded: name === signInGroup || name === groupNames[1]
    })),
    inputs: taskInputs,
    outputVariables: outputs.map(([name, description]) => ({
      name: camelCase(name),
      description: inTaskWords(description, names)
    })),
    execution: {
      Node24: { target: TASK_TARGET },
      Node20_1: { target: TASK_TARGET }
    }
  }
}

/** task.json's text, formatted as `npm run format` formats it. */
export async function taskManifestText(
  actionYmlPath = 'action.yml',
  extensionPath = 'vss-extension.json'
): Promise<string> {
  const extension = JSON.parse(readFileSync(extensionPath, 'utf8')) as { version: string }
  const manifest = taskManifest(readFileSync(actionYmlPath, 'utf8'), extension.version)
  const filepath = 'task/task.json'
  return format(JSON.stringify(manifest, null, 2), { ...(await resolveConfig(filepath)), filepath })
}
