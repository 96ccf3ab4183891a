/**
 * Re-serialises a policy read by `readPolicyText` the way APIM stores and returns it: CRLF line
 * endings, tab indentation, double quotes, `<x />`, attributes in the author's order, `<set-body>`
 * content kept as it is (whitespace included).
 *
 * Expressions are stored as their C# (`Segment.code`: one XML decode of a `format=xml` text, a
 * `rawxml` text as sent):
 * - `xml`: that C# XML-escaped (`&` `<` `>` `"`; in attribute values also LF as `&#xA;`), so one
 *   decode gives it back exactly (`&amp;quot;` for the six characters `&quot;`);
 * - `rawxml`: that C# exactly, unescaped.
 *
 * Deterministic and idempotent: serialising the parse of the output gives the output again.
 */
import type { ApimDocument, ApimElement, ApimNode, Segment } from './policy-text.js';

export type ApimFormat = 'xml' | 'rawxml';

const INDENT = '\t';

function escapeLiteral(text: string, attribute: boolean): string {
  let out = text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#xD;');
  // A literal "@(" / "@{" must not become an expression when read again.
  out = out.replace(/@(?=[({])/g, '&#64;');
  if (attribute) out = out.replace(/"/g, '&quot;').replace(/\n/g, '&#xA;').replace(/\t/g, '&#x9;');
  return out;
}

function escapeExpression(code: string, attribute: boolean): string {
  let out = code.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/\r/g, '&#xD;');
  if (attribute) out = out.replace(/\n/g, '&#xA;').replace(/\t/g, '&#x9;');
  return out;
}

function printSegments(segments: Segment[], format: ApimFormat, attribute: boolean): string {
  return segments
    .map((s) => {
      if (!s.expression) return escapeLiteral(s.text, attribute);
      return format === 'xml' ? escapeExpression(s.code, attribute) : s.code;
    })
    .join('');
}

function printAttributes(attributes: ApimElement['attributes'], format: ApimFormat): string {
  return attributes.map((a) => ` ${a.name}="${printSegments(a.segments, format, true)}"`).join('');
}

function isBlank(node: ApimNode): boolean {
  return node.type === 'text' && node.segments.every((s) => !s.expression && s.text.trim() === '');
}

function meaningfulChildren(el: ApimElement, payload: boolean): ApimNode[] {
  return payload ? el.children : el.children.filter((c) => !isBlank(c));
}

function printInline(node: ApimNode, format: ApimFormat, payload: boolean): string {
  switch (node.type) {
    case 'text':
      return printSegments(node.segments, format, false);
    case 'cdata':
      return `<![CDATA[${node.text}]]>`;
    case 'comment':
      return `<!--${node.text}-->`;
    case 'element': {
      const inner = payload || node.name === 'set-body';
      const kids = meaningfulChildren(node, inner);
      const open = `<${node.name}${printAttributes(node.attributes, format)}`;
      if (kids.length === 0) return `${open} />`;
      return `${open}>${kids.map((k) => printInline(k, format, inner)).join('')}</${node.name}>`;
    }
  }
}

function printBlock(el: ApimElement, depth: number, format: ApimFormat, out: string[]): void {
  const pad = INDENT.repeat(depth);
  const payload = el.name === 'set-body';
  const kids = meaningfulChildren(el, payload);
  const structured = !payload && kids.every((k) => k.type === 'element' || k.type === 'comment');
  if (kids.length === 0 || !structured) {
    out.push(pad + printInline(el, format, false));
    return;
  }
  out.push(`${pad}<${el.name}${printAttributes(el.attributes, format)}>`);
  for (const k of kids) {
    if (k.type === 'element') printBlock(k, depth + 1, format, out);
    else out.push(pad + INDENT + printInline(k, format, false));
  }
  out.push(`${pad}</${el.name}>`);
}

/**
 * The text APIM stores and returns for a policy. A fragment is always returned whole, with its
 * `<fragment>` wrapper (also when it was sent without one). No trailing line break.
 */
export function serialiseLikeApim(doc: ApimDocument, format: ApimFormat): string {
  const out: string[] = [];
  for (const c of doc.leading) out.push(`<!--${c.text}-->`);
  printBlock(doc.root, 0, format, out);
  for (const c of doc.trailing) out.push(`<!--${c.text}-->`);
  // The parser normalises every line break to LF and literal CRs are written as &#xD;, so every
  // LF here (layout, payload, comments, raw expressions) becomes one CRLF.
  return out.join('\n').replace(/\n/g, '\r\n');
}
