/**
 * Two printings of a parsed policy document:
 * - `formatPolicy`: what `fmt` writes — LF, four-space indentation, `<x />`, double quotes,
 *   attributes in the author's order, expressions exactly as the author spelled them;
 * - `canonicalize`: the form plans compare and diff — attributes sorted, entity spellings
 *   decoded, expressions in one spelling whether written raw or XML-escaped.
 * Both drop whitespace-only text between elements, except inside `<set-body>`, where every
 * character is payload.
 */
import type { PolicyDocument, Segment, XmlAttribute, XmlElement, XmlNode } from './document.js';
import { decodeEntities } from './entities.js';

const INDENT = '    ';

interface Style {
  canonical: boolean;
}

/**
 * One spelling for an expression: APIM returns expressions XML-escaped (`format=xml`) or raw
 * (`rawxml`), authors write either, and tools sometimes escape twice. Decoding until nothing
 * changes maps all of these to the C# the gateway runs.
 */
export function canonicalExpression(source: string): string {
  let current = source;
  for (let i = 0; i < 4; i++) {
    const next = decodeEntities(current);
    if (next === current) break;
    current = next;
  }
  // An escaped line break (&#xD;&#xA;) is still a line break: one spelling, LF.
  return current.replace(/\r\n?/g, '\n');
}

/** The value an attribute or text has, with expressions in canonical spelling. */
export function segmentValue(segments: Segment[]): string {
  return segments.map((s) => (s.expression ? canonicalExpression(s.source) : s.text)).join('');
}

function escapeLiteral(text: string, attribute: boolean): string {
  let out = text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  // A literal "@(" must not turn into an expression when the file is read again.
  out = out.replace(/@(?=[({])/g, '&#64;');
  if (attribute) out = out.replace(/"/g, '&quot;').replace(/\n/g, '&#xA;').replace(/\t/g, '&#x9;');
  return out;
}

function printSegments(segments: Segment[], style: Style, attribute: boolean): string {
  if (style.canonical) return segmentValue(segments);
  return segments.map((s) => (s.expression ? s.source : escapeLiteral(s.text, attribute))).join('');
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
