/**
 * The emulator's own reading of a policy text sent to (or stored by) APIM: expressions are taken
 * out first (policy-scan.ts), the rest must be well-formed XML with a `<policies>` root (or
 * `<fragment>` for a fragment, which may also arrive without its wrapper). What APIM refuses is a
 * `PolicyTextError` with line and column, which a PUT answers as 400 `ValidationError`.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { ScanProblem, decodeXmlText, expressionSpans, referenceAt, referenced } from './policy-scan.js';

/**
 * Literal text (entity-decoded) or an expression: `source` as written (line breaks as LF), `code`
 * the C# APIM stores for it — one XML decode of `source` in a `format=xml` text, `source` itself
 * in a `rawxml` one.
 */
export type Segment = { expression: false; text: string } | { expression: true; source: string; code: string };
export interface ApimElement {
  type: 'element';
  name: string;
  attributes: Array<{ name: string; segments: Segment[] }>;
  children: ApimNode[];
}
export type ApimNode = ApimElement | { type: 'text'; segments: Segment[] } | { type: 'cdata'; text: string } | { type: 'comment'; text: string };
export interface ApimDocument {
  root: ApimElement;
  /** Comments before and after the root element. */
  leading: Array<{ text: string }>;
  trailing: Array<{ text: string }>;
}

export class PolicyTextError extends Error {
  constructor(
    readonly reason: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`${reason} (line ${line}, column ${column})`);
  }
}

/** APIM's limit for a policy document. */
const MAX_BYTES = 256 * 1024;
const MAX_NESTING = 200;
// eslint-disable-next-line no-control-regex
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;
/** Also the two private-use characters the placeholders use. */
const FORBIDDEN = new RegExp(`${NOT_XML.source.slice(0, -1)}\uE000\uE001]`);
const PLACEHOLDER = /\uE000(\d+)\uE001/g;

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  allowBooleanAttributes: false,
  trimValues: false,
  processEntities: false,
  htmlEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  commentPropName: '#comment',
  cdataPropName: '#cdata',
  ignoreDeclaration: true,
  ignorePiTags: true,
  maxNestedTags: MAX_NESTING + 1,
});

type FxpNode = Record<string, unknown> & { ':@'?: Record<string, string> };

/** The text with every expression replaced by a placeholder, and how to find source offsets again. */
class Masked {
  readonly text: string;
  readonly expressions: string[] = [];
  private readonly at: Array<{ masked: number; source: number; maskedLen: number; sourceLen: number }> = [];

  constructor(
    source: string,
    private readonly shift: number,
    private readonly lineStarts: number[],
    private readonly format: 'xml' | 'rawxml',
  ) {
    let out = '';
    let last = 0;
    for (const span of expressionSpans(source)) {
      out += source.slice(last, span.start);
      const placeholder = `\uE000${this.expressions.length}\uE001`;
      this.at.push({ masked: out.length, source: span.start, maskedLen: placeholder.length, sourceLen: span.end - span.start });
      out += placeholder;
      this.expressions.push(source.slice(span.start, span.end));
      last = span.end;
    }
    this.text = out + source.slice(last);
  }

  /** Line and column in the text as sent of an offset in the masked text. */
  position(offset: number): { line: number; column: number } {
    let source = offset;
    for (const a of this.at) {
      if (a.masked > offset) break;
      source = offset < a.masked + a.maskedLen ? a.source : a.source + a.sourceLen + (offset - a.masked - a.maskedLen);
    }
    return lineColumn(this.lineStarts, Math.max(0, source - this.shift));
  }

  unmask(s: string): string {
    return s.replace(PLACEHOLDER, (_m, k: string) => this.expressions[Number(k)]!);
  }

  segments(s: string, attribute: boolean): Segment[] {
    const out: Segment[] = [];
    const literal = (raw: string) => {
      if (!raw) return;
      // Raw tab and LF in an attribute value read as spaces (references such as &#xA; stay).
      const text = decodeXmlText(attribute ? raw.replace(/[\t\n]/g, ' ') : raw);
      const prev = out[out.length - 1];
      if (prev && !prev.expression) prev.text += text;
      else out.push({ expression: false, text });
    };
    let last = 0;
    for (const m of s.matchAll(PLACEHOLDER)) {
      literal(s.slice(last, m.index));
      const source = this.expressions[Number(m[1])]!;
      out.push({ expression: true, source, code: (this.format === 'xml' ? decodeXmlText(source) : source).replace(/\r\n?/g, '\n') });
      last = m.index! + m[0].length;
    }
    literal(s.slice(last));
    return out;
  }
}

function lineStartsOf(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

function lineColumn(starts: number[], offset: number): { line: number; column: number } {
  let line = 0;
  while (line + 1 < starts.length && starts[line + 1]! <= offset) line++;
  return { line: line + 1, column: offset - starts[line]! + 1 };
}

/** A reference problem at `i` (`&` that is not a predefined entity or a valid character reference). */
function badReference(s: string, i: number): string | null {
  const m = referenceAt(s, i);
  if (m) {
    const ch = referenced(m);
    return m[1] || (ch !== undefined && ch !== '\u0000' && !NOT_XML.test(ch)) ? null : `character reference "${m[0]}" names a character XML does not allow`;
  }
  if (/^&#x?[0-9a-fA-F]+;/.test(s.slice(i, i + 16))) return 'character reference names a character XML does not allow';
  const name = /^&([A-Za-z_][\w.-]*);/.exec(s.slice(i, i + 40));
  return name ? `undefined entity "&${name[1]};"` : 'a bare "&" must be written as &amp;';
}

/**
 * What the XML validator does not check: references, "<" in attribute values, comment, CDATA,
 * DOCTYPE and processing-instruction syntax, nesting depth, text after the root. Throws at the
 * first problem (offset in the masked text).
 */
function checkMarkup(s: string, fail: (offset: number, reason: string) => never): void {
  let depth = 0;
  let end = 0;
  let i = 0;
  while (i < s.length) {
    const lt = s.indexOf('<', i);
    const amp = s.indexOf('&', i);
    if (amp >= 0 && (lt < 0 || amp < lt)) {
      const reason = badReference(s, amp);
      if (reason) fail(amp, reason);
      i = amp + 1;
      continue;
    }
    if (lt < 0) break;
    let close: number;
    if (s.startsWith('<!--', lt)) {
      close = s.indexOf('-->', lt + 4);
      if (close < 0) fail(lt, 'XML comment "<!--" is never closed with "-->"');
      const body = s.slice(lt + 4, close);
      if (body.includes('--') || body.endsWith('-')) fail(lt, 'an XML comment may not contain "--"');
      i = end = close + 3;
      continue;
    }
    if (s.startsWith('<![CDATA[', lt)) {
      close = s.indexOf(']]>', lt + 9);
      if (close < 0) fail(lt, 'CDATA section "<![CDATA[" is never closed with "]]>"');
      i = end = close + 3;
      continue;
    }
    if (s.startsWith('<!', lt)) fail(lt, /^<!DOCTYPE/i.test(s.slice(lt, lt + 9)) ? 'DOCTYPE declarations are not allowed' : 'unexpected "<!"');
    if (s.startsWith('<?', lt)) {
      close = s.indexOf('?>', lt + 2);
      if (close < 0) fail(lt, 'processing instruction "<?" is never closed with "?>"');
      if (!(lt === 0 && /^<\?xml\s/.test(s.slice(0, 6)))) fail(lt, 'processing instructions are not allowed, only an XML declaration at the start');
      i = end = close + 2;
      continue;
    }
    let j = lt + 1;
    while (j < s.length && s[j] !== '>') {
      const q = s[j]!;
      if (q === '"' || q === "'") {
        const qEnd = s.indexOf(q, j + 1);
        if (qEnd < 0) return; // the validator reports an unterminated value
        for (let k = j + 1; k < qEnd; k++) {
          if (s[k] === '<') fail(k, '"<" inside an attribute value');
          if (s[k] === '&') {
            const reason = badReference(s, k);
            if (reason) fail(k, reason);
          }
        }
        j = qEnd + 1;
        continue;
      }
      if (q === '<') fail(j, 'tag is not closed with ">" before the next "<"');
      j++;
    }
    if (s[lt + 1] === '/') depth--;
    else if (s[j - 1] !== '/' && ++depth > MAX_NESTING) fail(lt, `elements are nested more than ${MAX_NESTING} deep`);
    i = end = j + 1;
  }
  const after = s.slice(end).search(/\S/);
  if (after >= 0 && depth <= 0) fail(end + after, 'text outside the root element');
}

function convert(masked: Masked, nodes: FxpNode[]): ApimNode[] {
  const out: ApimNode[] = [];
  for (const node of nodes) {
    const key = Object.keys(node).find((k) => k !== ':@');
    if (key === undefined) continue;
    const inner = () => (node[key] as FxpNode[]).map((c) => String(c['#text'] ?? '')).join('');
    if (key === '#text') out.push({ type: 'text', segments: masked.segments(String(node[key]), false) });
    else if (key === '#comment') out.push({ type: 'comment', text: masked.unmask(inner()) });
    else if (key === '#cdata') out.push({ type: 'cdata', text: masked.unmask(inner()) });
    else {
      const attributes = Object.entries(node[':@'] ?? {}).map(([name, value]) => ({ name, segments: masked.segments(String(value), true) }));
      out.push({ type: 'element', name: key, attributes, children: convert(masked, node[key] as FxpNode[]) });
    }
  }
  return out;
}

function validatorReason(msg: string): string {
  const closing = /Expected closing tag '([^']+)' \(opened in line \d+, col \d+\) instead of closing tag '([^']+)'/.exec(msg);
  if (closing) return `closing tag </${closing[2]}> does not match the open <${closing[1]}>`;
  const unclosed = /Unclosed tag '([^']+)'/.exec(msg);
  if (unclosed) return `<${unclosed[1]}> is never closed`;
  return msg.replace(/\.$/, '');
}

/**
 * Reads a policy text as APIM accepts it. `root`: `policies` for a policy, `fragment` for a
 * fragment (which may arrive without its `<fragment>` wrapper; it is returned wrapped), `any` for
 * either. Throws `PolicyTextError` for what APIM refuses.
 */
export function readPolicyText(input: string, root: 'policies' | 'fragment' | 'any', format: 'xml' | 'rawxml' = 'xml'): ApimDocument {
  if (Buffer.byteLength(input, 'utf8') > MAX_BYTES) throw new PolicyTextError('a policy document may be at most 256 KiB', 1, 1);
  const text = input.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const lineStarts = lineStartsOf(text);
  const bad = FORBIDDEN.exec(text);
  if (bad) {
    const { line, column } = lineColumn(lineStarts, bad.index);
    throw new PolicyTextError(`character U+${bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} is not allowed`, line, column);
  }
  if (!text.trim()) throw new PolicyTextError('the policy is empty', 1, 1);

  const unwrapped = root === 'fragment' && !/^\s*(<\?xml[^>]*\?>\s*)?(<!--[\s\S]*?-->\s*)*<fragment[\s>/]/.test(text);
  const prefix = unwrapped ? '<fragment>' : '';
  // Inside the added wrapper a declaration is blanked out (same length: positions stay).
  const source = unwrapped ? `${prefix}${text.replace(/^\s*<\?xml[^>]*\?>/, (d) => d.replace(/[^\n]/g, ' '))}</fragment>` : text;

  let masked: Masked;
  try {
    masked = new Masked(source, prefix.length, lineStarts, format);
  } catch (e) {
    if (!(e instanceof ScanProblem)) throw e;
    const { line, column } = lineColumn(lineStarts, Math.max(0, e.offset - prefix.length));
    throw new PolicyTextError(e.message, line, column);
  }
  const fail = (offset: number, reason: string): never => {
    const { line, column } = masked.position(offset);
    throw new PolicyTextError(reason, line, column);
  };

  if (format === 'rawxml') {
    // rawxml carries expressions as the gateway compiles them: an XML reference there is C# text
    // that does not compile (APIOps issue 14: `&quot;` in a rawxml expression is a 400).
    for (const e of masked.expressions) {
      const at = e.search(/&(?:[A-Za-z][\w.-]*|#[0-9]+|#x[0-9a-fA-F]+);/);
      if (at >= 0) {
        const ref = /^&[^;]*;/.exec(e.slice(at))![0];
        const offset = masked.text.indexOf(`\uE000${masked.expressions.indexOf(e)}\uE001`);
        const { line, column } = masked.position(offset);
        throw new PolicyTextError(
          `the expression holds the XML reference "${ref}", which is not C#; with format rawxml expressions are sent unescaped (or send the policy as format xml)`,
          line,
          column,
        );
      }
    }
  }
  checkMarkup(masked.text, fail);
  const valid = XMLValidator.validate(masked.text, { allowBooleanAttributes: false });
  if (valid !== true) {
    if (/^Start tag expected/.test(valid.err.msg)) fail(prefix.length, 'no root element');
    const starts = lineStartsOf(masked.text);
    let offset = (starts[valid.err.line - 1] ?? 0) + Math.max(0, (valid.err.col || 1) - 1);
    if (/^Multiple possible root nodes/.test(valid.err.msg)) {
      offset = Math.max(0, masked.text.lastIndexOf('<', offset));
      fail(offset, 'a second root element; a policy has exactly one root');
    }
    fail(offset, validatorReason(valid.err.msg));
  }

  const nodes = convert(masked, parser.parse(masked.text) as FxpNode[]);
  const elements = nodes.filter((n): n is ApimElement => n.type === 'element');
  const rootAt = (name: string) => Math.max(0, masked.text.search(new RegExp(`<${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[\\s/>]`)));
  if (elements.length === 0) fail(0, 'no root element');
  if (elements.length > 1) fail(masked.text.lastIndexOf(`<${elements[1]!.name}`), 'a second root element; a policy has exactly one root');
  const stray = nodes.find((n) => (n.type === 'text' && n.segments.some((s) => s.expression || s.text.trim())) || n.type === 'cdata');
  if (stray) fail(masked.text.length - 1, 'text outside the root element');
  const el = elements[0]!;
  if (el.name !== 'policies' && el.name !== 'fragment') fail(rootAt(el.name), `root element is <${el.name}>, not <policies> or <fragment>`);
  const first = el.children.find((c) => c.type === 'element');
  if (unwrapped && first?.type === 'element' && first.name === 'policies') fail(rootAt('policies'), 'a policy fragment must have a <fragment> root, not <policies>');
  if (root !== 'any' && el.name !== root) fail(rootAt(el.name), `this policy must have a <${root}> root, not <${el.name}>`);
  const index = nodes.indexOf(el);
  const comments = (list: ApimNode[]) => list.filter((n): n is { type: 'comment'; text: string } => n.type === 'comment');
  return { root: el, leading: comments(nodes.slice(0, index)), trailing: comments(nodes.slice(index + 1)) };
}
