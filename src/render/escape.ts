/**
 * Text from the tree or from live (file and folder names, addresses, policy content, messages),
 * made inert before it goes into a PR comment or a job summary. Anyone who can open a pull
 * request chooses that text: in the comment our bot posts it must not notify people (`@user`,
 * `@org/team`), link an issue (`#12`), break our HTML (`</details>`, `<img>`), forge a link
 * (`[click](https://…)`), add table cells (`|`) or start a new block (a newline).
 *
 * One function per place text can go: prose (`mdText`, also in table cells), a code span
 * (`mdCode`; `table` in a cell), HTML text and code inside our `<summary>` (`htmlText`, `htmlCode`)
 * and a fenced block (`codeBlock`). GitHub never notifies or links inside code, so code keeps the text as it is.
 */

/** U+200D: invisible, and a mention or reference needs a name right after `@` or `#`. */
const JOINER = '\u200D';

/** Line breaks end a list item, a blockquote line, a table row or an HTML block: one line only. */
function oneLine(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\r\n|[\r\n\u2028\u2029]/g, ' ').replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g, '\uFFFD');
}

/** `@name` and `#12` (and `org/repo#12`) that GitHub would turn into a notification or a cross-reference. */
function unmention(s: string): string {
  return s.replace(/@(?=[A-Za-z0-9_-])/g, `@${JOINER}`).replace(/#(?=\d)/g, `#${JOINER}`);
}

/**
 * Markdown prose (a list item, a blockquote line, a table cell): every character that starts
 * inline markup escaped (emphasis, code, links, strikethrough, cells). Text is one line and never
 * starts one (it follows `- ` or `> `), so block markers (`#`, `+`, `1.`) cannot act, and without
 * `[` no link or image can form: `(…)` stays as written, readable in the markdown source too.
 */
export function mdText(s: string): string {
  const escaped = oneLine(s)
    .replace(/[\\`*_[\]|~]/g, (c) => `\\${c}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
  return unmention(escaped);
}

/**
 * A code span: the text exactly as it is, between backtick fences longer than any backtick run
 * inside. In a table cell `|` is escaped even here (GitHub splits cells before it reads code,
 * and puts the `|` back without the backslash).
 */
export function mdCode(s: string, options: { table?: boolean } = {}): string {
  let text = oneLine(s);
  if (text === '') return '';
  if (options.table) text = text.replace(/\|/g, '\\|');
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((m) => m.length));
  const fence = '`'.repeat(longest + 1);
  // A span that starts or ends with a backtick needs a space: GitHub strips one from each side.
  const pad = /^`|`$/.test(text) || /^ .*[^ ].* $/.test(text) ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

function htmlEscape(s: string): string {
  return oneLine(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * Text inside our own HTML (the `<summary>` of a diff): entities for `& < > "`, one line, no
 * mentions; `[` and `]` as entities too, so no renderer that reads markdown in HTML finds a link.
 */
export function htmlText(s: string): string {
  return unmention(htmlEscape(s).replace(/\[/g, '&#91;').replace(/\]/g, '&#93;'));
}

/** `<code>` inside our own HTML: the text as it is (GitHub does not look for mentions in code). */
export function htmlCode(s: string): string {
  return `<code>${htmlEscape(s)}</code>`;
}

/**
 * A fenced code block whose fence no line of `content` can close: longer than any backtick run in
 * it (at least three). Inside, HTML and `</details>` are shown, not read.
 */
export function codeBlock(content: string, info = ''): string {
  const longest = Math.max(2, ...(content.match(/`+/g) ?? []).map((m) => m.length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${info}\n${content}\n${fence}`;
}
