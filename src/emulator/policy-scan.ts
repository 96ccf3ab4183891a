/**
 * The emulator's own reading of C# policy expressions (`@( … )`, `@{ … }`) in a policy text, as
 * APIM documents them: C# code, so `"`, `<` and `&&` may stand inside. Where each expression ends
 * is found by C# lexing: regular, verbatim (`@"…""…"`) and interpolated (`$"…{x}…"`) strings,
 * character literals, `//` and `/* *\/` comments, balanced `()`, `{}`, `[]`. APIM returns
 * expressions XML-escaped, so inside one an entity reference (`&quot;`, `&#xA;`) is read as the
 * character it stands for. An `@(` inside an XML comment is not code.
 */

/** XML's predefined entities and numeric references: groups name, decimal, hex. Sticky. */
const REFERENCE = /&(?:(lt|gt|amp|apos|quot)|#([0-9]{1,8})|#x([0-9a-fA-F]{1,7}));/y;
const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', apos: "'", quot: '"' };

/** The character a reference match stands for; undefined for a code point Unicode lacks. */
export function referenced(m: RegExpExecArray): string | undefined {
  if (m[1]) return NAMED[m[1]];
  const code = parseInt((m[2] ?? m[3])!, m[2] ? 10 : 16);
  return code <= 0x10ffff ? String.fromCodePoint(code) : undefined;
}

/** Decodes the predefined entities and numeric references (others stay as written). */
export function decodeXmlText(s: string): string {
  if (!s.includes('&')) return s;
  const all = new RegExp(REFERENCE.source, 'g');
  return s.replace(all, (whole, ...groups: unknown[]) => {
    const m = [whole, ...groups.slice(0, 3)] as unknown as RegExpExecArray;
    return referenced(m) ?? whole;
  });
}

/** The reference at `i` (sticky match), or null. */
export function referenceAt(s: string, i: number): RegExpExecArray | null {
  REFERENCE.lastIndex = i;
  return REFERENCE.exec(s);
}

/** An expression or comment that never closes, at its offset. */
export class ScanProblem extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

/** How many text characters spelled the character `charAt` returned last (no pair allocated per character). */
let len = 1;

/** One C# character of the text at `i`; `len` says how many text characters spell it. */
function charAt(s: string, i: number): string {
  len = 1;
  const c = s[i] ?? '';
  if (c !== '&') return c;
  const m = referenceAt(s, i);
  const ch = m ? referenced(m) : undefined;
  if (ch === undefined) return c;
  len = m![0].length;
  return ch;
}

/** Up to `count` C# characters from `i`, with the text offset after each. */
function chars(s: string, i: number, count: number): { text: string; ends: number[] } {
  let text = '';
  const ends: number[] = [];
  while (ends.length < count && i < s.length) {
    text += charAt(s, i);
    i += len;
    ends.push(i);
  }
  return { text, ends };
}

function opensString(s: string, i: number): boolean {
  const first = s[i];
  if (first !== '"' && first !== '@' && first !== '$' && first !== '&') return false;
  const w = chars(s, i, 3).text;
  if (w[0] === '"') return true;
  if (w[0] !== '@' && w[0] !== '$') return false;
  return w[1] === '"' || ((w[1] === '@' || w[1] === '$') && w[2] === '"');
}

/** The offset after the C# string literal that starts at `i` (at its prefix or quote). */
function afterString(s: string, i: number): number {
  let verbatim = false;
  let interpolated = false;
  for (;;) {
    const c = charAt(s, i);
    const n = len;
    i += n;
    if (c === '@') verbatim = true;
    else if (c === '$') interpolated = true;
    else break; // the opening quote
  }
  while (i < s.length) {
    const c = charAt(s, i);
    const n = len;
    if (c === '"') {
      const next = charAt(s, i + n);
      const m = len;
      if (verbatim && next === '"') {
        i += n + m;
        continue;
      }
      return i + n;
    }
    if (c === '\\' && !verbatim) {
      charAt(s, i + n);
      i += n + len;
      continue;
    }
    if (interpolated && c === '{') {
      const next = charAt(s, i + n);
      const m = len;
      if (next === '{') {
        i += n + m;
        continue;
      }
      const end = afterCode(s, i + n, '}');
      if (end < 0) return s.length;
      i = end;
      continue;
    }
    // A regular string cannot span lines in C#.
    if (c === '\n' && !verbatim) return i;
    i += n;
  }
  return s.length;
}

const CLOSER: Record<string, string> = { '(': ')', '{': '}', '[': ']' };
const CHAR_LITERAL = /^'(\\.[^']*|[^'\\])'/;

/** The offset after the bracket `close` that balances the one before `i`; -1 when it never comes. */
function afterCode(s: string, i: number, close: string): number {
  const open = [close];
  while (i < s.length) {
    if (opensString(s, i)) {
      i = afterString(s, i);
      continue;
    }
    const c = charAt(s, i);
    const n = len;
    if (c === "'") {
      const w = chars(s, i, 12);
      const m = CHAR_LITERAL.exec(w.text);
      i = m ? w.ends[m[0].length - 1]! : i + n;
      continue;
    }
    if (c === '/') {
      const next = charAt(s, i + n);
      const m = len;
      if (next === '/') {
        i += n + m;
        while (i < s.length && charAt(s, i) !== '\n') i += len;
        continue;
      }
      if (next === '*') {
        i += n + m;
        while (i < s.length) {
          const d = charAt(s, i);
          const dn = len;
          const e = charAt(s, i + dn);
          const en = len;
          if (d === '*' && e === '/') {
            i += dn + en;
            break;
          }
          i += dn;
        }
        continue;
      }
    }
    if (c === '(' || c === '{' || c === '[') open.push(CLOSER[c]!);
    else if (c === open[open.length - 1]) {
      open.pop();
      if (open.length === 0) return i + n;
    }
    i += n;
  }
  return -1;
}

/** Half-open [start, end) ranges of every expression in `text`, in order. */
export function expressionSpans(text: string): Array<{ start: number; end: number }> {
  const spans: Array<{ start: number; end: number }> = [];
  let i = 0;
  let comment = -2; // the next "<!--" at or after i (-1: none left)
  while (i < text.length) {
    const at = text.indexOf('@', i);
    if (comment !== -1 && comment < i) comment = text.indexOf('<!--', i);
    if (comment >= 0 && (at < 0 || comment < at)) {
      const close = text.indexOf('-->', comment + 4);
      if (close < 0) throw new ScanProblem('XML comment "<!--" is never closed with "-->"', comment);
      i = close + 3;
      continue;
    }
    if (at < 0) break;
    const kind = text[at + 1];
    if (kind !== '(' && kind !== '{') {
      i = at + 1;
      continue;
    }
    const close = kind === '(' ? ')' : '}';
    const end = afterCode(text, at + 2, close);
    if (end < 0) throw new ScanProblem(`policy expression "@${kind}" is never closed: no matching "${close}"`, at);
    spans.push({ start: at, end });
    i = end;
  }
  return spans;
}
