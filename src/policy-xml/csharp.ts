/**
 * Where an XML reference stands in C# code. C# has no `&name;` tokens: outside string and character
 * literals and comments, `&quot;`, `&lt;`, `&amp;` or `&#97;` cannot compile. Such text is an
 * expression escaped once more than its document's format explains (a tool escaped it twice), and
 * APIM would refuse it (APIOps issue 14). Inside a literal, by contrast, `&amp;` is five characters
 * of a C# string, a different program from `&`.
 */

/** What an XML escaper writes as a reference: the five predefined entities and line breaks/tabs (never `&#97;` for a letter). */
const ESCAPE = /&(?:lt|gt|amp|apos|quot|#(?:x0*[9aAdD]|0*(?:9|10|13)));/y;

const ESCAPED: Record<string, string> = { lt: '<', gt: '>', amp: '&', apos: "'", quot: '"' };

/** Decodes only what an XML escaper writes (the five entities, tab, CR, LF): `&#97;` stays, it is nobody's escaping of `a`. */
export function decodeEscapes(code: string): string {
  return code.replace(/&(?:(lt|gt|amp|apos|quot)|#x0*([9aAdD])|#0*(9|10|13));/g, (_, name: string | undefined, hex: string | undefined, dec: string | undefined) =>
    name ? ESCAPED[name]! : String.fromCharCode(hex ? parseInt(hex, 16) : parseInt(dec!, 10)),
  );
}

/**
 * Offsets of the escaper's references (`&quot;`, `&lt;`, `&amp;`, `&#xA;` …) in `code` that stand
 * outside C# string/character literals and comments: the sign of an expression escaped twice.
 */
export function referencesInCode(code: string): number[] {
  const out: number[] = [];
  const n = code.length;
  // Interpolation holes `{…}` of `$"…"` strings are code: a stack of the strings we are inside.
  const strings: Array<{ verbatim: boolean; interpolated: boolean; depth: number }> = [];
  let depth = 0;
  let i = 0;
  while (i < n) {
    const c = code[i]!;
    const top = strings[strings.length - 1];
    if (top && top.depth === depth) {
      // Inside a string literal's text.
      if (c === '"') {
        if (top.verbatim && code[i + 1] === '"') i += 2;
        else {
          strings.pop();
          i++;
        }
        continue;
      }
      if (c === '\\' && !top.verbatim) {
        i += 2;
        continue;
      }
      if (top.interpolated && c === '{') {
        if (code[i + 1] === '{') i += 2;
        else {
          depth++;
          i++;
        }
        continue;
      }
      if (c === '\n' && !top.verbatim) strings.pop();
      i++;
      continue;
    }
    const prefix = /^[@$]{0,2}"/.exec(code.slice(i, i + 3));
    if (prefix && (c === '"' || code[i + prefix[0].length - 1] === '"')) {
      strings.push({ verbatim: prefix[0].includes('@'), interpolated: prefix[0].includes('$'), depth });
      i += prefix[0].length;
      continue;
    }
    if (c === "'") {
      const m = /^'(\\.[^']*|[^'\\])'/.exec(code.slice(i, i + 12));
      i += m ? m[0].length : 1;
      continue;
    }
    if (c === '/' && code[i + 1] === '/') {
      const end = code.indexOf('\n', i);
      i = end < 0 ? n : end;
      continue;
    }
    if (c === '/' && code[i + 1] === '*') {
      const end = code.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
      continue;
    }
    if (c === '{') depth++;
    else if (c === '}') {
      depth--;
      // The `}` that closes an interpolation hole returns to its string.
    } else if (c === '&') {
      ESCAPE.lastIndex = i;
      if (ESCAPE.test(code)) out.push(i);
    }
    i++;
  }
  return out;
}
