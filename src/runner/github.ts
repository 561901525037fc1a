import * as core from '@actions/core'
import { context } from '@actions/github'
import type { Runner } from './runner.js'

export function githubRunner(): Runner {
  return {
    getInput: name => core.getInput(name),
    setOutput: (name, value) => core.setOutput(name, value),
    info: message => core.info(message),
    warning: message => core.warning(message),
    error: message => core.error(message),
    debug: message => core.debug(message),
    group: (name, fn) => core.group(name, fn),
    setSecret: value => core.setSecret(value),
    getIdToken: audience => core.getIDToken(audience),
    summary: async markdown => {
      if (!process.env.GITHUB_STEP_SUMMARY) return
      await core.summary.addRaw(markdown, true).write()
    },
    setFailed: message => core.setFailed(message),
    resourceTags
  }
}

function resourceTags(): Record<string, string> {
  const tags: Record<string, string> = { 'created-by': 'cosmos-cmk-hsm-action' }
  // context.repo throws when GITHUB_REPOSITORY is unset (e.g. a local run).
  if (!process.env.GITHUB_REPOSITORY) return tags
  const { owner, repo } = context.repo
  tags['github-repository'] = `${owner}/${repo}`
  if (context.runId) {
    tags['github-run-url'] = `${context.serverUrl}/${owner}/${repo}/actions/runs/${context.runId}`
  }
  return tags
}
