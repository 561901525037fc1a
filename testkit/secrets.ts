/** Whether anything secret reached what the action wrote. */
import type { ActionRun } from './action.js'
import type { IssuedTokens } from './emulator.js'

const jwtShape = /eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\./g
const maskCommand = /^::add-mask::/

/** Every byte the action wrote, except the `::add-mask::` commands the runner consumes. */
export function visibleOutput(result: ActionRun): Record<string, string> {
  const stdout = result.stdout
    .split('\n')
    .filter(line => !maskCommand.test(line))
    .join('\n')
  return {
    stdout,
    stderr: result.stderr,
    outputs: Object.entries(result.outputs)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n'),
    summary: result.summary
  }
}

/**
 * Where any secret shows up in what the action wrote: each issued token (or its signature alone),
 * the extra secrets (such as the runner's ID-token request token), and anything JWT-shaped.
 */
export function secretLeaks(
  result: ActionRun,
  issued: IssuedTokens,
  extraSecrets: string[] = []
): string[] {
  const tokens = (label: string, list: string[]) =>
    list.flatMap((token, i) => [
      { label: `${label} ${i + 1}`, value: token },
      { label: `the signature of ${label} ${i + 1}`, value: token.split('.')[2] ?? token }
    ])
  const needles = [
    ...tokens('access token', issued.accessTokens),
    ...tokens('ID token', issued.idTokens),
    ...extraSecrets.map((value, i) => ({ label: `secret ${i + 1}`, value }))
  ].filter(n => n.value.length >= 16)
  const leaks: string[] = []
  for (const [where, text] of Object.entries(visibleOutput(result))) {
    for (const needle of needles) {
      if (text.includes(needle.value)) leaks.push(`${where} contains ${needle.label}`)
    }
    for (const match of text.match(jwtShape) ?? []) {
      leaks.push(`${where} contains a JWT-shaped string ${match.length} characters long`)
    }
  }
  return leaks
}
