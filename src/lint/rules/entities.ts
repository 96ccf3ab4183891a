/**
 * Expressions that look escaped twice. In a well-formed file an expression means what one XML
 * decode gives, so `&amp;quot;` is the six characters `&quot;` in C#, not a quote — almost always a
 * tool (or a copy from APIM's `format=xml` output into an already escaped file) escaping twice.
 */
import { decodeEntities, referencesInCode, type Segment, type XmlElement } from '../../policy-xml/index.js';
import type { Finding, Rule } from '../rule.js';
import { at, visit } from '../rule.js';

const REFERENCE_IN_CODE = /&(?:lt|gt|amp|apos|quot|#[0-9]+|#x[0-9a-fA-F]+);/;

function expressionsOf(element: XmlElement): Segment[] {
  const out: Segment[] = [];
  for (const a of element.attributes) out.push(...a.segments.filter((s) => s.expression));
  for (const c of element.children) if (c.type === 'text') out.push(...c.segments.filter((s) => s.expression));
  return out;
}

const doubleEscaped: Rule = {
  id: 'double-escaped-expression',
  severity: 'warning',
  description: 'A policy expression whose C# still holds an XML entity reference after the one decode XML gives: escaped twice.',
  check({ doc }) {
    const out: Finding[] = [];
    for (const { element } of visit(doc)) {
      for (const s of expressionsOf(element)) {
        if (!s.expression) continue;
        const once = doc.wellFormed ? decodeEntities(s.source) : s.source;
        if (referencesInCode(once).length > 0) {
          const ref = /&[^;]*;/.exec(once.slice(referencesInCode(once)[0]))![0];
          out.push({
            at: at(element),
            message: `<${element.name}>: the expression is escaped twice — its C# code holds "${ref}", which does not compile (APIM refuses it); it is read as "${decodeEntities(ref)}". Write "${ref}" once escaped in a well-formed file, or the character itself`,
          });
          continue;
        }
        const m = REFERENCE_IN_CODE.exec(s.code);
        if (m) {
          out.push({
            at: at(element),
            message: `<${element.name}>: this is the ${m[0].length} characters "${m[0]}" in C#, not ${JSON.stringify(decodeEntities(m[0]))}; did you mean "${m[0]}" (one escape, read as ${JSON.stringify(decodeEntities(m[0]))})?`,
          });
        }
      }
    }
    return out;
  },
};

export const ENTITY_RULES: Rule[] = [doubleEscaped];
