/**
 * Three printings of a parsed policy document:
 * - `formatPolicy`: what `fmt` writes — LF, four-space indentation, `<x />`, double quotes,
 *   attributes in the author's order, expressions exactly as the author spelled them;
 * - `canonicalize`: the form plans compare and diff — attributes sorted, entity spellings
 *   decoded, expressions as the C# they stand for (`expressionCode`: one XML decode in a
 *   well-formed document, the text itself in a raw one);
 * - `apimXml`: what a write sends as `format=xml` — ordinary XML that APIM decodes once into
 *   exactly that C#.
 * Both drop whitespace-only text between elements, except inside `<set-body>`, where every
 * character is payload.
 */
import type { PolicyDocument, Segment, XmlAttribute, XmlElement, XmlNode } from './document.js';
import { expressionCode, parsePolicyDocument, type PolicyRootKind } from './document.js';

const INDENT = '    ';

interface Style {
  canonical: boolean;
  /** Expressions as their C# XML-escaped (the `format=xml` a write sends), not as spelled. */
  wire?: boolean;
}

/** The C# an expression written as `source` stands for, in a well-formed (default) or raw document. */
export function canonicalExpression(source: string, wellFormed = true): string {
  return expressionCode(source, wellFormed);
}

/** The value an attribute or text has, with expressions as their C#. */
export function segmentValue(segments: Segment[]): string {
  return segments.map((s) => (s.expression ? s.code : s.text)).join('');
}

/** C# as XML text that one decode turns back into exactly that C# (line breaks in attributes kept). */
function escapeCode(code: string, attribute: boolean): string {
  const out = code.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/\r/g, '&#xD;');
  return attribute ? out.replace(/\n/g, '&#xA;').replace(/\t/g, '&#x9;') : out;
}

function escapeLiteral(text: string, attribute: boolean): string {
  let out = text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#xD;');
  // A literal "@(" must not turn into an expression when the file is read again.
  out = out.replace(/@(?=[({])/g, '&#64;');
  if (attribute) out = out.replace(/"/g, '&quot;').replace(/\n/g, '&#xA;').replace(/\t/g, '&#x9;');
  return out;
}

function printSegments(segments: Segment[], style: Style, attribute: boolean): string {
  if (style.canonical) return segmentValue(segments);
  return segments.map((s) => (!s.expression ? escapeLiteral(s.text, attribute) : style.wire ? escapeCode(s.code, attribute) : s.source)).join('');
}

function printAttributes(attributes: XmlAttribute[], style: Style): string {
  const list = style.canonical ? [...attributes].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) : attributes;
  return list.map((a) => ` ${a.name}="${printSegments(a.segments, style, true)}"`).join('');
}

function isBlank(node: XmlNode): boolean {
  return node.type === 'text' && node.segments.every((s) => !s.expression && s.text.trim() === '');
}

/** Children that carry meaning: whitespace between elements is layout, except in a payload. */
function meaningfulChildren(el: XmlElement, payload: boolean): XmlNode[] {
  return payload ? el.children : el.children.filter((c) => !isBlank(c));
}

function printInline(node: XmlNode, style: Style, payload: boolean): string {
  switch (node.type) {
    case 'text':
      return printSegments(node.segments, style, false);
    case 'cdata':
      return style.canonical ? node.text : `<![CDATA[${node.text}]]>`;
    case 'comment':
      return `<!--${node.text}-->`;
    case 'element': {
      const inner = payload || node.name === 'set-body';
      const kids = meaningfulChildren(node, inner);
      const open = `<${node.name}${printAttributes(node.attributes, style)}`;
      if (kids.length === 0) return `${open} />`;
      return `${open}>${joinInline(kids, style, inner)}</${node.name}>`;
    }
  }
}

/** Adjacent text and CDATA are one value to APIM; the canonical form merges them. */
function joinInline(kids: XmlNode[], style: Style, payload: boolean): string {
  return kids.map((k) => printInline(k, style, payload)).join('');
}

function printBlock(el: XmlElement, depth: number, style: Style, out: string[]): void {
  const pad = INDENT.repeat(depth);
  const payload = el.name === 'set-body';
  const kids = meaningfulChildren(el, payload);
  const structured = !payload && kids.every((k) => k.type === 'element' || k.type === 'comment');
  if (kids.length === 0 || !structured) {
    out.push(pad + printInline(el, style, false));
    return;
  }
  out.push(`${pad}<${el.name}${printAttributes(el.attributes, style)}>`);
  for (const k of kids) {
    if (k.type === 'element') printBlock(k, depth + 1, style, out);
    else out.push(pad + INDENT + printInline(k, style, false));
  }
  out.push(`${pad}</${el.name}>`);
}

/** `fmt`'s output: stable, readable, LF; formatting it again changes nothing. */
export function formatPolicy(doc: PolicyDocument): string {
  const style: Style = { canonical: false };
  const out: string[] = [];
  for (const c of doc.leading) out.push(`<!--${c.text}-->`);
  printBlock(doc.root, 0, style, out);
  for (const c of doc.trailing) out.push(`<!--${c.text}-->`);
  return out.join('\n') + '\n';
}

/**
 * The canonical form: equal for two documents exactly when APIM would run them the same way
 * (comments included, since APIM keeps them). Pretty-printed, so it doubles as the diff text.
 */
export function canonicalize(doc: PolicyDocument): string {
  const out: string[] = [];
  printBlock(doc.root, 0, { canonical: true }, out);
  return out.join('\n') + '\n';
}

/**
 * The document as `format=xml` for a write: well-formed XML whose one decode gives every
 * expression's C# exactly (`&`, `<`, `>`, `"` escaped; in attribute values line breaks and tabs as
 * references, which XML would otherwise read as spaces). CDATA stays CDATA. A fragment keeps its
 * `<fragment>` wrapper.
 */
export function apimXml(doc: PolicyDocument): string {
  const style: Style = { canonical: false, wire: true };
  const out: string[] = [];
  for (const c of doc.leading) out.push(`<!--${c.text}-->`);
  printBlock(doc.root, 0, style, out);
  for (const c of doc.trailing) out.push(`<!--${c.text}-->`);
  return out.join('\n') + '\n';
}

/**
 * What a write sends for a policy text so that APIM holds exactly its C#: a raw document whose C#
 * has no XML reference goes as written with `format=rawxml` (APIM takes raw expressions
 * literally); anything else as `apimXml` with `format=xml`, which APIM decodes exactly once. Never
 * `rawxml` with a reference in an expression: APIM refuses it (APIOps issue 14).
 */
export function apimWrite(doc: PolicyDocument, text: string): { value: string; format: 'xml' | 'rawxml' } {
  const expressions: string[] = [];
  const collect = (el: XmlElement): void => {
    for (const a of el.attributes) for (const s of a.segments) if (s.expression) expressions.push(s.code);
    for (const c of el.children) {
      if (c.type === 'element') collect(c);
      else if (c.type === 'text') for (const s of c.segments) if (s.expression) expressions.push(s.code);
    }
  };
  collect(doc.root);
  const verbatim = !doc.wellFormed && expressions.every((code) => !/&(?:[A-Za-z]+|#[0-9]+|#x[0-9a-fA-F]+);/.test(code));
  return verbatim ? { value: text, format: 'rawxml' } : { value: apimXml(doc), format: 'xml' };
}

/**
 * A `format=rawxml` read as a text every reader of this tool takes the same way: a rawxml answer
 * holds the C# itself, but where it happens to be well-formed XML with a reference inside an
 * expression (`@("Tom &amp; Jerry")` in element text), reading it as a file would decode that
 * once more. Such a text is returned as `apimXml`; any other is returned unchanged.
 */
export function fromRawxml(text: string, expect: PolicyRootKind): string {
  const doc = parsePolicyDocument(text, { expect, literalExpressions: true });
  if (!doc.wellFormed) return text;
  const asFile = parsePolicyDocument(text, { expect });
  return canonicalize(asFile) === canonicalize(doc) ? text : apimXml(doc);
}
