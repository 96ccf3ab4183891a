/** The shape of a document: the four sections, each once (APIM refuses anything else). */
import type { Finding, Rule } from '../rule.js';
import { at, childElements } from '../rule.js';

export const SECTIONS = ['inbound', 'backend', 'outbound', 'on-error'] as const;

const unknownSection: Rule = {
  id: 'unknown-section',
  severity: 'error',
  description: '<policies> holds only <inbound>, <backend>, <outbound> and <on-error>.',
  check({ doc }) {
    if (doc.kind !== 'policies') return [];
    return childElements(doc.root)
      .filter((c) => !(SECTIONS as readonly string[]).includes(c.name))
      .map((c) => ({ at: at(c), message: `<${c.name}> is not a policy section; <policies> holds <inbound>, <backend>, <outbound> and <on-error>` }));
  },
};

const duplicateSection: Rule = {
  id: 'duplicate-section',
  severity: 'error',
  description: 'Each section appears at most once.',
  check({ doc }) {
    if (doc.kind !== 'policies') return [];
    const seen = new Set<string>();
    const out: Finding[] = [];
    for (const c of childElements(doc.root)) {
      if (!(SECTIONS as readonly string[]).includes(c.name)) continue;
      if (seen.has(c.name)) out.push({ at: at(c), message: `<${c.name}> appears twice; merge the two sections` });
      seen.add(c.name);
    }
    return out;
  },
};

export const STRUCTURE_RULES: Rule[] = [unknownSection, duplicateSection];
