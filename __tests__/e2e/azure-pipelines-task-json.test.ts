/**
 * The Azure Pipelines task's manifest and examples: task.json is what action.yml makes of it, says
 * what the agent and tfx-cli need, and the example pipelines use only its inputs and outputs.
 */
import { describe, expect, it } from '@jest/globals'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { parseDocument } from 'yaml'
import { taskManifestText } from '../../scripts/task-manifest.js'
import { camelCase } from '../../src/runner/azure-pipelines-inputs.js'

interface TaskJson {
  id: string
  name: string
  friendlyName: string
  category: string
  instanceNameFormat: string
  minimumAgentVersion: string
  inputs: {
    name: string
    type: string
    required?: boolean
    defaultValue?: string
    groupName: string
  }[]
  groups: { name: string }[]
  outputVariables: { name: string }[]
  execution: Record<string, { target: string }>
}

const taskJson = JSON.parse(readFileSync('task/task.json', 'utf8')) as TaskJson
const action = parseDocument(readFileSync('action.yml', 'utf8')).toJS() as {
  inputs: Record<string, { default?: unknown; required?: boolean }>
  outputs: Record<string, unknown>
}

describe('task/task.json', () => {
  it('is generated from action.yml (npm run build:task)', async () => {
    expect(readFileSync('task/task.json', 'utf8')).toBe(await taskManifestText())
  })

  it('says what the agent and tfx-cli check', () => {
    expect(taskJson.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
    expect(taskJson.name).toMatch(/^[A-Za-z0-9-]+$/)
    expect(taskJson.friendlyName.length).toBeLessThanOrEqual(40)
    expect(taskJson.category).toBe('Deploy')
    expect(taskJson.instanceNameFormat).toContain('$(accountName)')
    expect(Object.keys(taskJson.execution).sort()).toEqual(['Node20_1', 'Node24'])
    const targets = new Set(Object.values(taskJson.execution).map(e => e.target))
    expect(targets.size).toBe(1)
    const [target] = [...targets]
    expect(existsSync(`task/${target}`)).toBe(true)
    expect(existsSync(`task/${target!.replace(/[^/]+$/, 'lib.json')}`)).toBe(true)
    expect(existsSync('task/icon.png')).toBe(true)
    for (const name of [
      ...taskJson.inputs.map(i => i.name),
      ...taskJson.outputVariables.map(o => o.name)
    ]) {
      expect(name).toMatch(/^[A-Za-z][A-Za-z0-9]*$/)
    }
    const groups = new Set(taskJson.groups.map(g => g.name))
    expect(taskJson.inputs.filter(i => !groups.has(i.groupName))).toEqual([])
  })

  it('signs in only through a workload identity federation service connection', () => {
    const names = taskJson.inputs.map(i => i.name)
    expect(taskJson.inputs[0]).toMatchObject({
      name: 'azureSubscription',
      type: 'connectedService:AzureRM',
      required: true
    })
    for (const signIn of ['authType', 'clientId', 'tenantId', 'audience', 'environment']) {
      expect(names).not.toContain(signIn)
    }
    expect(taskJson.inputs.find(i => i.name === 'subscriptionId')?.required).toBe(false)
  })

  it('has every other input and every output of the action, in camelCase, with its default', () => {
    const inputs = new Map(taskJson.inputs.map(i => [i.name, i]))
    for (const [name, spec] of Object.entries(action.inputs)) {
      if (
        [
          'auth-type',
          'client-id',
          'tenant-id',
          'audience',
          'environment',
          'subscription-id',
          'comment-on-pr',
          'github-token'
        ].includes(name)
      )
        continue
      const input = inputs.get(camelCase(name))
      expect([name, input !== undefined]).toEqual([name, true])
      if (spec.default !== undefined && name !== 'identity-mode') {
        expect([name, input?.defaultValue]).toEqual([name, String(spec.default)])
      }
    }
    expect(taskJson.outputVariables.map(o => o.name)).toEqual(
      Object.keys(action.outputs).map(camelCase)
    )
  })
})

/** Every step of a pipeline (stages, jobs, deployment strategies, template expressions). */
function stepsOf(node: unknown): Record<string, unknown>[] {
  if (Array.isArray(node)) return node.flatMap(stepsOf)
  if (typeof node !== 'object' || node === null) return []
  const object = node as Record<string, unknown>
  const own = typeof object.task === 'string' ? [object] : []
  return [...own, ...Object.values(object).flatMap(stepsOf)]
}

describe('the Azure Pipelines examples', () => {
  const files = readdirSync('examples').filter(f => /^azure-pipelines.*\.ya?ml$/.test(f))
  const inputs = new Set(taskJson.inputs.map(i => i.name))
  const outputs = new Set(taskJson.outputVariables.map(o => o.name))

  it('exist: a deployment with an approval, a template with its pipeline, and a fleet', () => {
    expect(files.sort()).toEqual([
      'azure-pipelines-extends.yml',
      'azure-pipelines-fleet.yml',
      'azure-pipelines-template.yml',
      'azure-pipelines.yml'
    ])
  })

  it.each(files)('%s passes only inputs the task declares and reads only its outputs', file => {
    const text = readFileSync(`examples/${file}`, 'utf8')
    const doc = parseDocument(text)
    expect(doc.errors).toEqual([])
    const ours = stepsOf(doc.toJS()).filter(s => s.task === `${taskJson.name}@1`)
    if (file.endsWith('-extends.yml')) {
      expect(doc.toJS().extends.template).toMatch(/^azure-pipelines-template\.yml@/)
      return
    }
    expect(ours.length).toBeGreaterThan(0)
    for (const step of ours) {
      const given = Object.keys((step.inputs ?? {}) as Record<string, unknown>)
      expect(given.filter(name => !inputs.has(name))).toEqual([])
      expect(given).toContain('azureSubscription')
    }
    const read = [...text.matchAll(/\bcmk\.(\w+)/g)].map(m => m[1])
    expect(read.filter(name => !outputs.has(name!))).toEqual([])
  })
})
