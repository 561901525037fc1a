import { sanitize } from './sanitize.js'

const ZERO_WIDTH_SPACE = '\u200b'

/**
 * A text for the log, free of tokens, that no runner reads as a command: a line whose first
 * non-blank characters are `::` (GitHub workflow commands) or `##[` (Azure Pipelines formatting),
 * and `##vso[` anywhere (Azure Pipelines logging commands), get an invisible zero-width space that
 * breaks the command syntax and leaves the text as it reads.
 */
export function plainText(text: string): string {
  return sanitize(text)
    .replace(/^(\s*)(::|##\[)/gm, `$1${ZERO_WIDTH_SPACE}$2`)
    .replace(/##vso\[/gi, match => `##${ZERO_WIDTH_SPACE}${match.slice(2)}`)
}

// Inline markdown and HTML; block markers (#, -, >) mean nothing inside a table cell.
const markdownPunctuation = /[\\`*_[\]<>|~]/g

/**
 * A text for a markdown table cell, free of tokens, rendered as the very characters it holds:
 * markdown and HTML are escaped, pipes too, and line breaks become `<br>`.
 */
export function markdownText(text: string): string {
  return (
    sanitize(text)
      .replace(/&/g, '&amp;')
      .replace(markdownPunctuation, '\\$&')
      .replace(/\r?\n/g, '<br>') || ' '
  )
}

/** A fenced code block that no backtick run inside the text can close early. */
export function markdownFence(text: string): string {
  const longest = Math.max(2, ...(sanitize(text).match(/`+/g) ?? []).map(run => run.length))
  const fence = '`'.repeat(longest + 1)
  return `${fence}\n${sanitize(text)}\n${fence}`
}

/** Inline code that no backtick run inside the value can close early. */
export function markdownCode(text: string): string {
  const value = sanitize(text).replace(/\r?\n/g, ' ')
  const longest = Math.max(0, ...(value.match(/`+/g) ?? []).map(run => run.length))
  const ticks = '`'.repeat(longest + 1)
  return `${ticks} ${value.replace(/\|/g, '\\|')} ${ticks}`
}

// Mermaid's gantt syntax ends a title or a section name at ':', '#', ';' and a line break, reads
// '%' after its first character as a comment, and a backtick run may end the markdown block
// around the chart: each becomes a character that reads the same and means nothing there.
const mermaidLookAlikes: Record<string, string> = {
  ':': '\ua789',
  '#': '\uff03',
  ';': '\uff1b',
  '%': '\uff05',
  '`': '\u02bc',
  '<': '\u2039',
  '>': '\u203a'
}

/** A Gantt task title or section name, free of tokens, that no character of it can end early. */
export function mermaidText(text: string): string {
  return sanitize(text)
    .replace(/\s+/g, ' ')
    .replace(/[:#;%`<>]/g, c => mermaidLookAlikes[c])
    .trim()
}
