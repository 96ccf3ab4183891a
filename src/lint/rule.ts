/**
 * What a lint rule is and what it sees. A rule looks at one policy document at a time (with the
 * tree and identity.yaml around it) and reports findings at elements; the runner (index.ts) turns
 * them into diagnostics with the rule's id, the configured severity and the file, and drops the
 * ones an inline comment suppresses.
 */
import type { EntityState } from '../model/entities.js';
import type { IdentityManifest } from '../model/identity.js';
import type { Diagnostic, PolicyResource, Severity, State } from '../model/index.js';
import type { LintConfig } from '../model/lint.js';
import { literalValue, walkElements, type ElementVisit, type PolicyDocument, type Segment, type XmlElement } from '../policy-xml/index.js';

/** What lint reads of a loaded tree (desired/load-tree.ts's LoadedTree is one). */
export interface LintTree {
  state: State;
  /** Load and parse problems, reported first. */
  diagnostics: Diagnostic[];
  /** Parsed documents by address key. */
  documents: Iterable<[string, PolicyDocument]>;
  identity?: IdentityManifest;
  lintConfig?: LintConfig;
  /** The tree's named values and backends (key-vault-access; backend-id targets of missing-data-role). */
  entities?: EntityState;
}

export interface LintContext {
  doc: PolicyDocument;
  resource: PolicyResource;
  /** The whole desired tree (other documents, fragments). */
  tree: LintTree;
  /** identity.yaml, when the tree has one that loaded without errors. */
  manifest?: IdentityManifest;
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
  checkTree?(ctx: { tree: LintTree; manifest?: IdentityManifest }): FileFinding[];
}

export type Section = 'inbound' | 'backend' | 'outbound' | 'on-error';

export interface Visit extends ElementVisit {
  /** The top-level section the element is in; undefined in a fragment (it can be included anywhere) or for the root. */
  section?: Section;
}

const visits = new WeakMap<PolicyDocument, Visit[]>();

/**
 * Every element of a document, depth first, with its section and ancestors: worked out once per
 * document and shared by the rules (siblings share their ancestors array; do not change it).
 */
export function visit(doc: PolicyDocument): readonly Visit[] {
  const known = visits.get(doc);
  if (known) return known;
  const out = walkElements(doc.root).map(({ element, ancestors }): Visit => {
    const top = ancestors.length === 1 ? element : ancestors[1];
    const section = doc.kind === 'policies' && top ? (top.name as Section) : undefined;
    return { element, ...(section ? { section } : {}), ancestors };
  });
  visits.set(doc, out);
  return out;
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
  return literalValue(segments)?.trim();
}

export function childElements(element: XmlElement, name?: string): XmlElement[] {
  return element.children.filter((c): c is XmlElement => c.type === 'element' && (name === undefined || c.name === name));
}

export const at = (element: XmlElement) => ({ line: element.line, column: element.column });
