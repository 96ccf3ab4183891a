/**
 * What a lint rule is and what it sees. A rule looks at one policy document at a time (with the
 * tree and identity.yaml around it) and reports findings at elements; the runner (index.ts) turns
 * them into diagnostics with the rule's id, the configured severity and the file, and drops the
 * ones an inline comment suppresses.
 */
import type { LoadedTree } from '../desired/load-tree.js';
import type { IdentityManifest } from '../identity/manifest.js';
import type { PolicyResource, Severity } from '../model/index.js';
import type { PolicyDocument, Segment, XmlElement } from '../policy-xml/index.js';

export interface LintContext {
  doc: PolicyDocument;
  resource: PolicyResource;
  /** The whole desired tree (other documents, fragments). */
  tree: LoadedTree;
  /** identity.yaml, when the tree has one that loaded without errors. */
  identity?: IdentityManifest;
}

export interface Finding {
  /** Where: the element the finding is about (its line and column). */
  at: { line: number; column: number };
  message: string;
  /** Overrides the rule's default severity for this finding (e.g. a worse case of the same mistake). */
  severity?: Severity;
}

/** A finding about another file than a policy document (identity.yaml). */
export interface FileFinding extends Finding {
  file: string;
}

export interface Rule {
  id: string;
  severity: Severity;
  /** One line for documentation and SARIF: what the rule catches. */
  description: string;
  /** Per policy document. */
  check?(ctx: LintContext): Finding[];
  /** Once per tree, for findings in identity.yaml or across documents. */
  checkTree?(ctx: { tree: LoadedTree; identity?: IdentityManifest }): FileFinding[];
}

export type Section = 'inbound' | 'backend' | 'outbound' | 'on-error';

export interface Visit {
  element: XmlElement;
  /** The top-level section the element is in; undefined in a fragment (it can be included anywhere) or for the root. */
  section?: Section;
  /** Enclosing elements, outermost first (the root included). */
  ancestors: XmlElement[];
}

const visits = new WeakMap<PolicyDocument, Visit[]>();

/**
 * Every element of a document, depth first, with its section and ancestors: worked out once per
 * document and shared by the rules (siblings share their ancestors array; do not change it).
 */
export function visit(doc: PolicyDocument): readonly Visit[] {
  const known = visits.get(doc);
  if (known) return known;
  const out: Visit[] = [];
  const walk = (element: XmlElement, section: Section | undefined, ancestors: XmlElement[]): void => {
    out.push({ element, ...(section ? { section } : {}), ancestors });
    const inner = [...ancestors, element];
    for (const child of element.children) {
      if (child.type !== 'element') continue;
      walk(child, section ?? (doc.kind === 'policies' && ancestors.length === 0 ? (child.name as Section) : undefined), inner);
    }
  };
  walk(doc.root, undefined, []);
  visits.set(doc, out);
  return out;
}

/** The literal value of an attribute; undefined when absent or when it holds a policy expression. */
export function literalAttr(element: XmlElement, name: string): string | undefined {
  const a = element.attributes.find((x) => x.name === name);
  return a && a.segments.every((s) => !s.expression) ? a.segments.map((s) => (s as { text: string }).text).join('') : undefined;
}

export function hasAttr(element: XmlElement, name: string): boolean {
  return element.attributes.some((a) => a.name === name);
}

/** True when the attribute is present and contains a policy expression. */
export function attrIsExpression(element: XmlElement, name: string): boolean {
  return !!element.attributes.find((a) => a.name === name)?.segments.some((s) => s.expression);
}

/** Literal text directly inside an element (expressions left out); undefined when it has an expression. */
export function literalText(element: XmlElement): string | undefined {
  const segments: Segment[] = [];
  for (const c of element.children) if (c.type === 'text') segments.push(...c.segments);
  if (segments.some((s) => s.expression)) return undefined;
  return segments.map((s) => (s as { text: string }).text).join('').trim();
}

export function childElements(element: XmlElement, name?: string): XmlElement[] {
  return element.children.filter((c): c is XmlElement => c.type === 'element' && (name === undefined || c.name === name));
}

export const at = (element: XmlElement) => ({ line: element.line, column: element.column });
