import type { Diagnostic } from '../model/index.js';
import type { PolicyDocument } from '../policy-xml/index.js';

export const SECTIONS = ['inbound', 'backend', 'outbound', 'on-error'] as const;

/** `<policies>` holds only the four sections, each at most once; APIM rejects anything else. */
export function checkSections(doc: PolicyDocument): Diagnostic[] {
  if (doc.kind !== 'policies') return [];
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const child of doc.root.children) {
    if (child.type !== 'element') continue;
    const at = { file: doc.file, line: child.line, column: child.column };
    if (!(SECTIONS as readonly string[]).includes(child.name)) {
      out.push({
        severity: 'error',
        rule: 'unknown-section',
        ...at,
        message: `<${child.name}> is not a policy section; <policies> holds <inbound>, <backend>, <outbound> and <on-error>`,
      });
    } else if (seen.has(child.name)) {
      out.push({ severity: 'error', rule: 'duplicate-section', ...at, message: `<${child.name}> appears twice; merge the two sections` });
    }
    seen.add(child.name);
  }
  return out;
}
