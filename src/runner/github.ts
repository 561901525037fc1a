import * as core from '@actions/core'
import { plainText } from '../escape.js'
import { idTokenWithRetries } from './github-id-token.js'
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
    getIdToken: audience => idTokenWithRetries(audience, m => core.debug(m)),
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
      // Loaded only here: Octokit is large, and most runs write no comment.
      const [{ context }, { publishRunComment }] = await Promise.all([
        import('@actions/github'),
        import('../pr-comment/publish.js')
      ])
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

/** The run that created a resource, from the variables the runner sets (as `github.context` reads them). */
function resourceTags(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const tags: Record<string, string> = { 'created-by': 'cosmos-cmk-hsm-action' }
  const repository = env.GITHUB_REPOSITORY
  if (!repository) return tags
  tags['github-repository'] = repository
  const runId = env.GITHUB_RUN_ID
  if (runId && /^\d+$/.test(runId)) {
    const server = env.GITHUB_SERVER_URL || 'https://github.com'
    tags['github-run-url'] = `${server}/${repository}/actions/runs/${runId}`
  }
  return tags
}
