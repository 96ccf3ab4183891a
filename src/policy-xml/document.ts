/**
 * Parses a policy document as APIM accepts it: expressions are taken out first (they are C#, not
 * XML), the rest must be well-formed XML, and every node keeps its line and column.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { REFERENCE, decodeEntities } from './entities.js';
import { decodeEscapes, referencesInCode } from './csharp.js';
import { FORBIDDEN_CHAR, MAX_NESTING, checkLexical, unclosedElements, type MarkupStats } from './lexical.js';
import { PolicySyntaxError, computeLineStarts, lineColumn } from './errors.js';
import { ScanError, findExpressions } from './expressions.js';

/**
 * A piece of an attribute value or of text: either literal text (already entity-decoded) or a
 * policy expression: `source` exactly as written in the file (line endings normalised to LF),
 * `code` the C# it stands for (see `expressionCode`).
 */
export type Segment = { expression: false; text: string } | { expression: true; source: string; code: string };

export interface XmlAttribute {
  name: string;
  segments: Segment[];
}

export interface XmlElement {
  type: 'element';
  name: string;
  attributes: XmlAttribute[];
  children: XmlNode[];
  line: number;
  column: number;
}

export interface XmlText {
  type: 'text';
  segments: Segment[];
}

export interface XmlCData {
  type: 'cdata';
  /** Content between `<![CDATA[` and `]]>`, with any expressions in it as written. */
  text: string;
}

export interface XmlComment {
  type: 'comment';
  text: string;
}

export type XmlNode = XmlElement | XmlText | XmlCData | XmlComment;

export type PolicyRootKind = 'policies' | 'fragment';

export interface PolicyDocument {
  file: string;
  kind: PolicyRootKind;
  root: XmlElement;
  /** Comments before and after the root element (kept by fmt, ignored by the canonical form). */
  leading: XmlComment[];
  trailing: XmlComment[];
  /** True when a fragment arrived without its `<fragment>` wrapper (as ARM may return it). */
  unwrapped: boolean;
  /**
   * True when the text is well-formed XML as written, expressions included: its expressions mean
   * what one XML decode gives. False for a raw document (C# written as is: `"` inside a quoted
   * attribute, `<`, `&&`), whose expression text is the C# itself.
   */
  wellFormed: boolean;
}

export interface ParseOptions {
  /** Named in every error. */
  file?: string;
  /** Which root the document must have; `fragment` also accepts fragment content without the wrapper. */
  expect?: PolicyRootKind | 'any';
  /**
   * The text parsed without error before (with the same `expect`): the well-formedness pass is
   * skipped, which is most of the cost of parsing a document again.
   */
  parsedBefore?: boolean;
  /** The text is a `format=rawxml` answer: every expression is its C# as written, whatever the XML around it. */
  literalExpressions?: boolean;
}

/** APIM refuses policy documents over 256 KiB; anything larger is not a policy we can deploy. */
export const MAX_POLICY_BYTES = 256 * 1024;

const PLACEHOLDER = /\uE000(\d+)\uE001/g;

/** Maps offsets in the masked text back to the source text. */
class OffsetMap {
  private readonly masked: number[] = [];
  private readonly source: number[] = [];
  private readonly maskedLen: number[] = [];
  private readonly sourceLen: number[] = [];

  constructor(private readonly shift = 0) {}

  add(maskedStart: number, sourceStart: number, maskedLen: number, sourceLen: number): void {
    this.masked.push(maskedStart);
    this.source.push(sourceStart);
    this.maskedLen.push(maskedLen);
    this.sourceLen.push(sourceLen);
  }

  toSource(offset: number): number {
    let lo = 0;
    let hi = this.masked.length - 1;
    let k = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.masked[mid]! <= offset) {
        k = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    let out: number;
    if (k < 0) out = offset;
    else if (offset < this.masked[k]! + this.maskedLen[k]!) out = this.source[k]!;
    else out = this.source[k]! + this.sourceLen[k]! + (offset - this.masked[k]! - this.maskedLen[k]!);
    return Math.max(0, out - this.shift);
  }
}

interface Masked {
  text: string;
  expressions: string[];
  /** The C# of each expression, once the document is known to be well-formed or raw. */
  code: string[];
  map: OffsetMap;
}

function mask(text: string, shift: number): Masked {
  const spans = findExpressions(text);
  const map = new OffsetMap(shift);
  const expressions: string[] = [];
  let out = '';
  let last = 0;
  for (const span of spans) {
    out += text.slice(last, span.start);
    const placeholder = `\uE000${expressions.length}\uE001`;
    map.add(out.length, span.start, placeholder.length, span.end - span.start);
    out += placeholder;
    expressions.push(text.slice(span.start, span.end));
    last = span.end;
  }
  out += text.slice(last);
  return { text: out, expressions, code: [], map };
}

/** Every "&" starts a reference XML knows (the lexical pass has checked the ones outside expressions). */
function referencesOk(s: string): boolean {
  for (let i = s.indexOf('&'); i >= 0; i = s.indexOf('&', i + 1)) {
    REFERENCE.lastIndex = i;
    if (!REFERENCE.test(s)) return false;
  }
  return true;
}

/**
 * Whether the document is well-formed XML with its expressions put back: each expression must be
 * valid where it stands — in text no "<" and no bare "&"; in an attribute value also not its quote
 * character; in CDATA anything. (The masked text is already known to be well-formed.)
 */
function wellFormedAsWritten(masked: Masked): boolean {
  const s = masked.text;
  const clean = (from: number, to: number, where: 'text' | '"' | "'"): boolean => {
    for (const m of s.slice(from, to).matchAll(PLACEHOLDER)) {
      const e = masked.expressions[Number(m[1])]!;
      if (e.includes('<') || !referencesOk(e) || (where === 'text' ? e.includes(']]>') : e.includes(where))) return false;
    }
    return true;
  };
  const n = s.length;
  let i = 0;
  while (i < n) {
    const lt = s.indexOf('<', i);
    if (!clean(i, lt < 0 ? n : lt, 'text')) return false;
    if (lt < 0) break;
    const skip = (open: string, close: string) => (s.startsWith(open, lt) ? s.indexOf(close, lt + open.length) : -2);
    const ends = [skip('<!--', '-->'), skip('<![CDATA[', ']]>'), skip('<?', '?>')];
    const k = ends.findIndex((e) => e !== -2);
    if (k >= 0) {
      i = ends[k]! < 0 ? n : ends[k]! + (k === 0 || k === 1 ? 3 : 2);
      continue;
    }
    let j = lt + 1;
    let from = j;
    while (j < n && s[j] !== '>') {
      const q = s[j];
      if (q === '"' || q === "'") {
        if (s.slice(from, j).includes('\uE000')) return false; // an expression outside any attribute value
        const end = s.indexOf(q, j + 1);
        if (end < 0) return false;
        if (!clean(j + 1, end, q)) return false;
        j = from = end + 1;
        continue;
      }
      j++;
    }
    if (s.slice(from, j).includes('\uE000')) return false;
    i = j + 1;
  }
  return true;
}

/**
 * The C# the expressions of one document stand for: in a well-formed document what one XML decode
 * of their text gives (`&amp;quot;` is the six characters `&quot;`, never `"`); in a raw document
 * their text as written. One exception, for text no C# compiler accepts: when that C# still has an
 * escaper's reference in *code* — outside string and character literals and comments, as in
 * `GetValueOrDefault(&quot;x&quot;)` or `As&lt;JObject&gt;()` — in any expression of the document,
 * the document was escaped once more than its format says (escaping is done to whole documents),
 * and the escaper's references (`&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;`, tab, CR, LF; never
 * `&#97;`) of all its expressions are decoded once more. Lint warns (double-escaped-expression).
 * Line breaks are LF.
 */
export function documentExpressionsCode(sources: string[], wellFormed: boolean): string[] {
  const once = sources.map((source) => (wellFormed ? decodeEntities(source) : source));
  const escapedTwice = once.some((code) => referencesInCode(code).length > 0);
  return once.map((code) => (escapedTwice ? decodeEscapes(code) : code).replace(/\r\n?/g, '\n'));
}

/** The C# of one expression standing alone (see `documentExpressionsCode`). */
export function expressionCode(source: string, wellFormed: boolean): string {
  return documentExpressionsCode([source], wellFormed)[0]!;
}

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
  captureMetaData: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  maxNestedTags: MAX_NESTING + 1,
});
const META = XMLParser.getMetaDataSymbol() as unknown as symbol;

type FxpNode = Record<string, unknown> & { ':@'?: Record<string, string> };

interface Context {
  masked: Masked;
  lineStarts: number[];
  file: string;
}

function position(ctx: Context, maskedOffset: number): { line: number; column: number } {
  return lineColumn(ctx.lineStarts, ctx.masked.map.toSource(maskedOffset));
}

function fail(ctx: Context, maskedOffset: number, reason: string): never {
  const { line, column } = position(ctx, maskedOffset);
  throw new PolicySyntaxError(reason, ctx.file, line, column);
}

/** Splits masked text into literal and expression segments; `attribute` applies XML attribute normalisation. */
function segmentsOf(ctx: Context, masked: string, attribute: boolean): Segment[] {
  const out: Segment[] = [];
  let last = 0;
  const literal = (raw: string) => {
    if (!raw) return;
    // XML turns raw tab/newline in attribute values into spaces (references like &#xA; survive).
    const text = decodeEntities(attribute ? raw.replace(/[\t\n]/g, ' ') : raw);
    const prev = out[out.length - 1];
    if (prev && !prev.expression) prev.text += text;
    else out.push({ expression: false, text });
  };
  for (const m of masked.matchAll(PLACEHOLDER)) {
    literal(masked.slice(last, m.index));
    const k = Number(m[1]);
    out.push({ expression: true, source: ctx.masked.expressions[k]!, code: ctx.masked.code[k]! });
    last = m.index! + m[0].length;
  }
  literal(masked.slice(last));
  return out;
}

function unmask(ctx: Context, masked: string): string {
  return masked.replace(PLACEHOLDER, (_m, k: string) => ctx.masked.expressions[Number(k)]!);
}

function textOf(children: unknown): string {
  const list = children as FxpNode[];
  return list.map((c) => String(c['#text'] ?? '')).join('');
}

function convert(ctx: Context, nodes: FxpNode[]): XmlNode[] {
  const out: XmlNode[] = [];
  for (const node of nodes) {
    const key = Object.keys(node).find((k) => k !== ':@');
    if (key === undefined) continue;
    if (key === '#text') {
      out.push({ type: 'text', segments: segmentsOf(ctx, String(node[key]), false) });
    } else if (key === '#comment') {
      out.push({ type: 'comment', text: unmask(ctx, textOf(node[key])) });
    } else if (key === '#cdata') {
      out.push({ type: 'cdata', text: unmask(ctx, textOf(node[key])) });
    } else {
      const meta = (node as Record<symbol, { startIndex?: number }>)[META];
      const { line, column } = position(ctx, meta?.startIndex ?? 0);
      const attrs = node[':@'] ?? {};
      out.push({
        type: 'element',
        name: key,
        attributes: Object.entries(attrs).map(([name, value]) => ({
          name,
          segments: segmentsOf(ctx, String(value), true),
        })),
        children: convert(ctx, node[key] as FxpNode[]),
        line,
        column,
      });
    }
  }
  return out;
}

/** True when the text starts (after a declaration and comments) with a `<fragment>` element. */
function hasFragmentRoot(text: string): boolean {
  return /^\s*(<\?xml[^>]*\?>\s*)?(<!--[\s\S]*?-->\s*)*<fragment[\s>/]/.test(text);
}

const XML_DECLARATION = /^\s*<\?xml[^>]*\?>/;

/**
 * Parses a policy document. Throws `PolicySyntaxError` (file, line, column, and what to do) for
 * anything APIM would not accept: oversize or binary input, unterminated expressions or comments,
 * mismatched tags, DOCTYPE, bad entities, a missing or unexpected root element.
 */
export function parsePolicyDocument(input: string, options: ParseOptions = {}): PolicyDocument {
  const file = options.file ?? '<input>';
  const expect = options.expect ?? 'any';
  const size = Buffer.byteLength(input, 'utf8');
  if (size > MAX_POLICY_BYTES) {
    throw new PolicySyntaxError(`file is ${(size / 1024).toFixed(0)} KiB; APIM accepts policy documents up to 256 KiB — split it, ` + 'for example into policy fragments', file, 1, 1);
  }
  const text = input.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const lineStarts = computeLineStarts(text);
  const bad = FORBIDDEN_CHAR.exec(text) ?? /[\uE000\uE001]/.exec(text);
  if (bad) {
    const { line, column } = lineColumn(lineStarts, bad.index);
    const code = bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    throw new PolicySyntaxError(`character U+${code} is not allowed in a policy document (is this a binary file?)`, file, line, column);
  }
  if (!text.trim()) throw new PolicySyntaxError('file is empty; a policy document needs a <policies> root', file, 1, 1);

  const unwrapped = expect === 'fragment' && !hasFragmentRoot(text);
  const prefix = unwrapped ? '<fragment>' : '';
  // Inside the added wrapper an XML declaration would no longer be at the start: blank it out
  // (same length, so offsets and positions stay those of the file).
  const content = unwrapped ? text.replace(XML_DECLARATION, (d) => d.replace(/[^\n]/g, ' ')) : text;
  const source = unwrapped ? `${prefix}${content}</fragment>` : text;

  let masked: Masked;
  try {
    masked = mask(source, prefix.length);
  } catch (e) {
    if (!(e instanceof ScanError)) throw e;
    const { line, column } = lineColumn(lineStarts, Math.max(0, e.offset - prefix.length));
    throw new PolicySyntaxError(e.message, file, line, column);
  }
  const ctx: Context = { masked, lineStarts, file };

  const markup: MarkupStats = { deep: -1, end: 0 };
  const lexical = checkLexical(masked.text, markup);
  if (lexical) fail(ctx, lexical.offset, lexical.reason);

  const valid = options.parsedBefore ? true : XMLValidator.validate(masked.text, { allowBooleanAttributes: false });
  if (valid !== true) {
    if (/^Start tag expected/.test(valid.err.msg)) {
      // fast-xml-parser gives no column here (NaN); the document has no element at all.
      fail(ctx, prefix.length, 'no root element; a policy document has a single <policies> root');
    }
    const maskedStarts = computeLineStarts(masked.text);
    let offset = (maskedStarts[valid.err.line - 1] ?? 0) + Math.max(0, (valid.err.col || 1) - 1);
    if (/^Multiple possible root nodes/.test(valid.err.msg)) {
      // Reported at the end of the second root's start tag; point at its "<" instead.
      offset = Math.max(0, masked.text.lastIndexOf('<', offset));
      const name = /^<([^\s/>]+)/.exec(masked.text.slice(offset))?.[1] ?? '';
      fail(ctx, offset, `a second root element <${name}>; a policy document has exactly one root`);
    }
    if (/^Invalid '\[.*\]' found/s.test(valid.err.msg)) {
      // fast-xml-parser's words for a file that ends with elements still open, reported at 1:1.
      const cut = /<([^\s<>/!?]+)[^<>]*$/.exec(masked.text);
      if (cut) fail(ctx, cut.index, `the start tag <${cut[1]} is never finished: the file ends first; is it cut short?`);
      const open = unclosedElements(masked.text);
      const inner = open[open.length - 1];
      if (inner) {
        const outer = open.slice(0, -1).map((e) => `<${e.name}>`);
        const more = outer.length ? ` (nor ${outer.join(', ')})` : '';
        fail(ctx, inner.offset, `<${inner.name}> opened at line ${position(ctx, inner.offset).line} is never closed${more}: the file ends first; is it cut short?`);
      }
    }
    fail(ctx, offset, describeValidatorError(valid.err.msg));
  }

  if (markup.deep >= 0) {
    fail(ctx, markup.deep, `elements are nested more than ${MAX_NESTING} deep; a policy is never this deep`);
  }
  // fast-xml-parser silently drops text after a self-closing root (`<policies/> x`).
  const trailing = masked.text.slice(markup.end).search(/\S/);
  if (trailing >= 0) fail(ctx, markup.end + trailing, 'text outside the root element');

  const wellFormed = wellFormedAsWritten(masked);
  masked.code = documentExpressionsCode(masked.expressions, wellFormed && !options.literalExpressions);
  const nodes = convert(ctx, parser.parse(masked.text) as FxpNode[]);
  const elements = nodes.filter((n): n is XmlElement => n.type === 'element');
  const strayText = nodes.find((n) => (n.type === 'text' && n.segments.some((s) => s.expression || s.text.trim())) || n.type === 'cdata');
  if (elements.length === 0) fail(ctx, 0, 'no root element; a policy document has a single <policies> root');
  if (elements.length > 1) {
    const second = elements[1]!;
    throw new PolicySyntaxError(`a second root element <${second.name}>; a policy document has exactly one root`, file, second.line, second.column);
  }
  if (strayText) fail(ctx, masked.text.length - 1, 'text outside the root element');
  const root = elements[0]!;
  const rootIndex = nodes.indexOf(root);
  const comments = (list: XmlNode[]) => list.filter((n): n is XmlComment => n.type === 'comment');

  if (root.name !== 'policies' && root.name !== 'fragment') {
    throw new PolicySyntaxError(`root element is <${root.name}>; a policy document has a <policies> root (or <fragment> for a policy fragment)`, file, root.line, root.column);
  }
  const firstChild = root.children.find((c): c is XmlElement => c.type === 'element');
  if (unwrapped && firstChild?.name === 'policies') {
    throw new PolicySyntaxError('a policy fragment must have a <fragment> root, not <policies>', file, firstChild.line, firstChild.column);
  }
  if (expect !== 'any' && root.name !== expect) {
    throw new PolicySyntaxError(
      expect === 'fragment'
        ? `a policy fragment must have a <fragment> root, not <${root.name}>`
        : `this policy must have a <policies> root, not <${root.name}> (fragments belong under "policy fragments/")`,
      file,
      root.line,
      root.column,
    );
  }
  return {
    file,
    kind: root.name,
    root,
    leading: comments(nodes.slice(0, rootIndex)),
    trailing: comments(nodes.slice(rootIndex + 1)),
    unwrapped,
    wellFormed,
  };
}

function describeValidatorError(msg: string): string {
  const closing = /Expected closing tag '([^']+)' \(opened in line \d+, col \d+\) instead of closing tag '([^']+)'/.exec(msg);
  if (closing) return `closing tag </${closing[2]}> does not match the open <${closing[1]}>`;
  const unclosed = /Unclosed tag '([^']+)'/.exec(msg);
  if (unclosed) return `<${unclosed[1]}> is never closed`;
  return msg.replace(/\.$/, '');
}
