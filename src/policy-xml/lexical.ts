/**
 * The lexical pass over a policy document (expressions already masked out): character and entity
 * references, markup that XML forbids, and how deep elements nest — what APIM's parser refuses
 * before any element is read.
 */
import { REFERENCE } from './entities.js';

/** Deepest element nesting accepted (fast-xml-parser would otherwise throw a plain Error). */
export const MAX_NESTING = 200;

// Characters XML 1.0 forbids anywhere in a document (tab, LF and CR are allowed).
// eslint-disable-next-line no-control-regex
export const FORBIDDEN_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

function checkReference(s: string, i: number): string | null {
  REFERENCE.lastIndex = i;
  const m = REFERENCE.exec(s);
  if (m) {
    const code = m[2] ? parseInt(m[2], 10) : m[3] ? parseInt(m[3], 16) : -1;
    if (code === -1) return null;
    if (code > 0x10ffff || FORBIDDEN_CHAR.test(String.fromCodePoint(Math.min(code, 0x10ffff))) || code === 0) {
      return `character reference "${m[0]}" names a character XML does not allow`;
    }
    return null;
  }
  if (/^&#x?[0-9a-fA-F]+;/.test(s.slice(i, i + 16))) return 'character reference names a character XML does not allow';
  const name = /^&([A-Za-z_][\w.-]*);/.exec(s.slice(i, i + 40));
  if (name) {
    return `undefined entity "&${name[1]};": policies know only &lt; &gt; &amp; &quot; &apos; and numeric ` + 'references such as &#160;';
  }
  return 'a bare "&" must be written as &amp; (or be part of a policy expression @( … ))';
}

/**
 * Well-formedness checks fast-xml-parser's validator does not make: entity references, "<" in
 * attribute values, comment and CDATA syntax, DOCTYPE and processing instructions.
 * Returns the first problem with its offset in the masked text.
 */
export function checkLexical(s: string, markup: MarkupStats): { offset: number; reason: string } | null {
  const n = s.length;
  let depth = 0;
  let i = 0;
  while (i < n) {
    const lt = s.indexOf('<', i);
    const amp = s.indexOf('&', i);
    if (amp >= 0 && (lt < 0 || amp < lt)) {
      const reason = checkReference(s, amp);
      if (reason) return { offset: amp, reason };
      i = amp + 1;
      continue;
    }
    if (lt < 0) return null;
    if (s.startsWith('<!--', lt)) {
      const close = s.indexOf('-->', lt + 4);
      if (close < 0) return { offset: lt, reason: 'XML comment "<!--" is never closed with "-->"' };
      const body = s.slice(lt + 4, close);
      const dash = body.indexOf('--');
      if (dash >= 0 || body.endsWith('-')) {
        return {
          offset: lt,
          reason: 'an XML comment may not contain "--" (is this comment missing its closing "-->"?)',
        };
      }
      i = markup.end = close + 3;
      continue;
    }
    if (s.startsWith('<![CDATA[', lt)) {
      const close = s.indexOf(']]>', lt + 9);
      if (close < 0) return { offset: lt, reason: 'CDATA section "<![CDATA[" is never closed with "]]>"' };
      i = markup.end = close + 3;
      continue;
    }
    if (s.startsWith('<!', lt)) {
      const doctype = /^<!DOCTYPE/i.test(s.slice(lt, lt + 9));
      return {
        offset: lt,
        reason: doctype ? 'DOCTYPE declarations are not allowed in policies (entities are never expanded); remove it' : 'unexpected "<!"; only comments "<!-- -->" and "<![CDATA[ ]]>" start this way',
      };
    }
    if (s.startsWith('<?', lt)) {
      const close = s.indexOf('?>', lt + 2);
      if (close < 0) return { offset: lt, reason: 'processing instruction "<?" is never closed with "?>"' };
      if (!(lt === 0 && /^<\?xml\s/.test(s.slice(0, 6)))) {
        return {
          offset: lt,
          reason: 'processing instructions are not allowed here; only an XML declaration at the very start',
        };
      }
      i = markup.end = close + 2;
      continue;
    }
    // A tag: walk to its ">" honouring quotes, checking attribute values.
    let j = lt + 1;
    while (j < n && s[j] !== '>') {
      const q = s[j];
      if (q === '"' || q === "'") {
        const end = s.indexOf(q, j + 1);
        if (end < 0) return null; // unterminated quote: the validator reports it with its position
        for (let k = j + 1; k < end; k++) {
          if (s[k] === '<') {
            return {
              offset: k,
              reason: '"<" inside an attribute value: write &lt;, or check that the policy expression ' + 'before it is closed',
            };
          }
          if (s[k] === '&') {
            const reason = checkReference(s, k);
            if (reason) return { offset: k, reason };
          }
        }
        j = end + 1;
        continue;
      }
      if (q === '<') return { offset: j, reason: 'tag is not closed with ">" before the next "<"' };
      j++;
    }
    if (s[lt + 1] === '/') depth--;
    else if (s[j - 1] !== '/' && ++depth > MAX_NESTING && markup.deep < 0) markup.deep = lt;
    i = markup.end = j + 1;
  }
  return null;
}

/** What the lexical pass learns about the markup of well-formed text. */
export interface MarkupStats {
  /** Offset of the first start tag nested deeper than MAX_NESTING, or -1. */
  deep: number;
  /** Offset just after the last tag, comment, CDATA section or declaration. */
  end: number;
}

/**
 * The elements still open where the text ends, outermost first, with the offsets of their start
 * tags (comments, CDATA, processing instructions and quoted attribute values skipped): what a
 * truncated file leaves, for a message in the user's words.
 */
export function unclosedElements(s: string): Array<{ name: string; offset: number }> {
  const stack: Array<{ name: string; offset: number }> = [];
  const tag = /<!--[\s\S]*?(?:-->|$)|<!\[CDATA\[[\s\S]*?(?:\]\]>|$)|<\?[\s\S]*?(?:\?>|$)|<\/([^\s>]+)\s*>|<([^\s/>!?]+)(?:[^>"']|"[^"]*"|'[^']*')*?(\/?)>/g;
  for (let m = tag.exec(s); m; m = tag.exec(s)) {
    if (m[1] !== undefined) {
      const at = stack.map((e) => e.name).lastIndexOf(m[1]);
      if (at >= 0) stack.length = at;
    } else if (m[2] !== undefined && !m[3]) stack.push({ name: m[2], offset: m.index });
  }
  return stack;
}
