import * as core from '@actions/core'
import { context } from '@actions/github'
import { plainText } from '../escape.js'
import { publishRunComment } from '../pr-comment/index.js'
import type { Runner } from './runner.js'

export function githubRunner(): Runner {
  return {
    getInput: name => core.getInput(name),
    setOutput: (name, value) => core.setOutput(name, value),
    info: message => core.info(plainText(message)),
    warning: message => core.warning(plainText(message)),
    error: message => core.error(plainText(message)),
    debug: message => core.debug(plainText(message)),
    group: (name, fn) => core.group(plainText(name), fn),
    setSecret: value => core.setSecret(value),
    getIdToken,
    summary: async markdown => {
      if (!process.env.GITHUB_STEP_SUMMARY) return
      await core.summary.addRaw(markdown, true).write()
    },
    setFailed: message => core.setFailed(plainText(message)),
    resourceTags,
    commentOnPullRequest: async comment => {
      if (!comment.token) {
        return {
          outcome: 'skipped',
          reason: 'no github-token was given, so no pull-request comment was written'
        }
      }
      core.setSecret(comment.token)
      return publishRunComment({
        token: comment.token,
        context,
        body: comment.markdown,
        marker: { account: comment.account, environment: comment.environment },
        log: { info: m => core.info(plainText(m)), debug: m => core.debug(plainText(m)) }
      })
    }
  }
}

/**
 * core.getIDToken retries only 5xx answers; a throttled (429) or cut-off request to the runner's
 * token endpoint is retried here with a short backoff. A missing permission is not retried.
 */
async function getIdToken(audience: string): Promise<string> {
  const delays = [1_000, 2_000, 4_000, 8_000]
  for (let attempt = 0; ; attempt++) {
    try {
      return await core.getIDToken(audience)
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      const permanent = /ACTIONS_ID_TOKEN_REQUEST_(URL|TOKEN)/.test(message)
      if (permanent || attempt >= delays.length) throw error
      core.debug(`Getting an ID token failed (${message.split('\n')[0]}); retrying.`)
      await new Promise(resolve => setTimeout(resolve, delays[attempt]))
    }
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
