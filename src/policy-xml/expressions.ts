/**
 * Finds APIM policy expressions — `@( … )` and `@{ … }` — in a policy document as written.
 *
 * Expressions are C#: they may hold `"`, `<`, `&&` and even whole XML documents inside strings,
 * which is why a third of real policy files are not well-formed XML until the expressions are
 * taken out. The scanner understands C# regular, verbatim (`@"…""…"`) and interpolated
 * (`$"…{expr}…"`) strings, character literals, `//` and `/* *\/` comments, and balances
 * `()`, `{}`, `[]` to find where each expression ends. XML comments are skipped: an `@(` inside
 * `<!-- … -->` is not code.
 */

import { REFERENCE, referencedChar } from './entities.js';

/** Half-open character range [start, end) of one expression in the scanned text. */
export interface ExpressionSpan {
  start: number;
  end: number;
}

/** A lexical problem at a character offset of the scanned text. */
export class ScanError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

const CLOSER: Record<string, string> = { '(': ')', '{': '}', '[': ']' };
const CHAR_LITERAL = /^'(\\.[^']*|[^'\\])'/;

/** How many characters of the document spelled the character `charAt` returned last. */
let spelled = 1;

/**
 * The C# character at `i`; `spelled` says how many characters of the document spell it. APIM
 * returns expressions XML-escaped (`&quot;`, `&#xA;`), so inside an expression an entity
 * reference is read as the character it stands for; otherwise a `//` in an escaped string would
 * look like a comment and an escaped `"` would not open a string. (A module variable rather than
 * a returned pair: this runs for every character of every expression.)
 */
function charAt(s: string, i: number): string {
  spelled = 1;
  const c = s[i] ?? '';
  if (c !== '&') return c;
  REFERENCE.lastIndex = i;
  const m = REFERENCE.exec(s);
  if (!m) return c;
  const char = referencedChar(m[1], m[2], m[3]);
  if (char === undefined) return c;
  spelled = m[0].length;
  return char;
}

/** Up to `count` decoded characters from `i`, with the raw end offset after each. */
function window(s: string, i: number, count: number): { text: string; ends: number[] } {
  let text = '';
  const ends: number[] = [];
  while (ends.length < count && i < s.length) {
    text += charAt(s, i);
    i += spelled;
    ends.push(i);
  }
  return { text, ends };
}

function stringPrefixLength(s: string, i: number): number {
  const first = s[i];
  if (first !== '"' && first !== '@' && first !== '$' && first !== '&') return -1;
  const w = window(s, i, 3).text;
  if (w[0] === '"') return 0;
  if (w[0] !== '@' && w[0] !== '$') return -1;
  if (w[1] === '"') return 1;
  return (w[1] === '@' || w[1] === '$') && w[2] === '"' ? 2 : -1;
}

/** Skips a C# string literal starting at `i` (at its `@`/`$` prefix or quote); returns the index after it. */
function skipString(s: string, i: number): number {
  let verbatim = false;
  let interpolated = false;
  for (;;) {
    const c = charAt(s, i);
    const len = spelled;
    if (c === '@') verbatim = true;
    else if (c === '$') interpolated = true;
    else {
      i += len; // the opening quote
      break;
    }
    i += len;
  }
  const n = s.length;
  while (i < n) {
    const c = charAt(s, i);
    const len = spelled;
    if (c === '"') {
      if (verbatim && charAt(s, i + len) === '"') {
        i += len + spelled;
        continue;
      }
      return i + len;
    }
    if (c === '\\' && !verbatim) {
      charAt(s, i + len);
      i += len + spelled;
      continue;
    }
    if (interpolated && c === '{') {
      if (charAt(s, i + len) === '{') {
        i += len + spelled;
        continue;
      }
      i = skipCode(s, i + len, '}');
      if (i < 0) return n;
      continue;
    }
    // A regular string cannot span lines: C# would not compile it, so stop scanning it here.
    if (c === '\n' && !verbatim) return i;
    i += len;
  }
  return n;
}

/**
 * Skips C# code until the bracket `close` that balances the one just before `i`.
 * Returns the index after that bracket, or -1 when it never comes.
 */
function skipCode(s: string, i: number, close: string): number {
  const stack = [close];
  const n = s.length;
  while (i < n) {
    if (stringPrefixLength(s, i) >= 0) {
      i = skipString(s, i);
      continue;
    }
    const c = charAt(s, i);
    const len = spelled;
    if (c === "'") {
      const w = window(s, i, 12);
      const m = CHAR_LITERAL.exec(w.text);
      i = m ? w.ends[m[0].length - 1]! : i + len;
      continue;
    }
    if (c === '/') {
      const next = charAt(s, i + len);
      if (next === '/') {
        i += len + spelled;
        while (i < n && charAt(s, i) !== '\n') i += spelled;
        continue;
      }
      if (next === '*') {
        i += len + spelled;
        while (i < n) {
          const d = charAt(s, i);
          const dLen = spelled;
          if (d === '*' && charAt(s, i + dLen) === '/') {
            i += dLen + spelled;
            break;
          }
          i += dLen;
        }
        continue;
      }
    }
    if (c === '(' || c === '{' || c === '[') {
      stack.push(CLOSER[c]!);
    } else if ((c === ')' || c === '}' || c === ']') && c === stack[stack.length - 1]) {
      stack.pop();
      if (stack.length === 0) return i + len;
    }
    i += len;
  }
  return -1;
}

/**
 * Every policy expression in `text`, in order. Throws `ScanError` for an expression or an XML
 * comment that is never closed, at the offset where it starts.
 */
export function findExpressions(text: string): ExpressionSpan[] {
  const spans: ExpressionSpan[] = [];
  const n = text.length;
  let i = 0;
  let comment = -2;
  while (i < n) {
    const at = text.indexOf('@', i);
    if (comment !== -1 && comment < i) comment = text.indexOf('<!--', i);
    if (comment >= 0 && (at < 0 || comment < at)) {
      const close = text.indexOf('-->', comment + 4);
      if (close < 0) throw new ScanError('XML comment "<!--" is never closed with "-->"', comment);
      i = close + 3;
      continue;
    }
    if (at < 0) break;
    const next = text[at + 1];
    if (next !== '(' && next !== '{') {
      i = at + 1;
      continue;
    }
    const end = skipCode(text, at + 2, next === '(' ? ')' : '}');
    if (end < 0) {
      const closer = next === '(' ? ')' : '}';
      throw new ScanError(`policy expression "@${next}" is never closed: no matching "${closer}" before the end of the file ` + '(check brackets and string quotes inside the expression)', at);
    }
    spans.push({ start: at, end });
    i = end;
  }
  return spans;
}
