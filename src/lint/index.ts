/**
 * Lint: load and parse problems first, then every rule over every document, with the tree's lint
 * configuration (`apim-policy-lint.yaml`, read by desired/lint-config.ts: turn rules off or change
 * their severity) and inline suppressions (`<!-- apim-policy-lint-disable rule-id -->` before an
 * element, for it and what it holds; `<!-- apim-policy-lint-disable-file rule-id -->` anywhere, for
 * the file). Sorted by file and line.
 */
import type { Diagnostic, Severity } from '../model/index.js';
import { MANDATORY_LINT_RULES, type LintConfig, type LintLevel } from '../model/lint.js';
import { walkElements, type PolicyDocument, type XmlElement, type XmlNode } from '../policy-xml/index.js';
import type { LintTree, Rule } from './rule.js';
import { RULES } from './rules/index.js';

const ORDER = { error: 0, warning: 1, info: 2 } as const;

const DISABLE = /^\s*apim-policy-lint-disable(-file)?\s+(.+?)\s*$/;

/** Rules disabled for the whole file, and per element position, by comments. */
function suppressions(doc: PolicyDocument): { file: Set<string>; at: Map<string, Set<string>> } {
  const file = new Set<string>();
  const at = new Map<string, Set<string>>();
  const ids = (list: string) => list.split(/[\s,]+/).filter(Boolean);
  const mark = (under: XmlElement, rules: string[]) => {
    for (const { element } of walkElements(under)) {
      const key = `${element.line}:${element.column}`;
      const set = at.get(key) ?? new Set<string>();
      rules.forEach((r) => set.add(r));
      at.set(key, set);
    }
  };
  const walk = (nodes: XmlNode[]) => {
    let pending: string[] = [];
    for (const n of nodes) {
      if (n.type === 'comment') {
        const m = DISABLE.exec(n.text);
        if (m && m[1]) ids(m[2]!).forEach((r) => file.add(r));
        else if (m) pending.push(...ids(m[2]!));
      } else if (n.type === 'element') {
        if (pending.length) mark(n, pending);
        pending = [];
        walk(n.children);
      }
    }
  };
  for (const c of [...doc.leading, ...doc.trailing]) {
    const m = DISABLE.exec(c.text);
    if (m) ids(m[2]!).forEach((r) => file.add(r));
  }
  walk([doc.root]);
  return { file, at };
}

/** Runs every rule over every document of the tree. */
export function lintTree(tree: LintTree, options: { config?: LintConfig; rules?: Rule[] } = {}): Diagnostic[] {
  const found: Diagnostic[] = [...tree.diagnostics];
  const levels = (options.config ?? tree.lintConfig)?.levels ?? new Map<string, LintLevel>();
  const rules = options.rules ?? RULES;
  for (const rule of rules) {
    const level = levels.get(rule.id);
    if (level === 'off' || !rule.checkTree) continue;
    for (const f of rule.checkTree({ tree, ...(tree.identity ? { manifest: tree.identity } : {}) })) {
      found.push({ severity: level ?? f.severity ?? rule.severity, rule: rule.id, file: f.file, line: f.at.line, column: f.at.column, message: f.message });
    }
  }
  for (const [key, doc] of tree.documents) {
    const resource = tree.state.resources.get(key);
    if (!resource) continue;
    const quiet = suppressions(doc);
    for (const rule of rules) {
      const level = levels.get(rule.id);
      if (level === 'off' || !rule.check) continue;
      if (!MANDATORY_LINT_RULES.has(rule.id) && (quiet.file.has(rule.id) || quiet.file.has('*'))) continue;
      for (const f of rule.check({ doc, resource, tree, ...(tree.identity ? { manifest: tree.identity } : {}) })) {
        const here = quiet.at.get(`${f.at.line}:${f.at.column}`);
        if (!MANDATORY_LINT_RULES.has(rule.id) && (here?.has(rule.id) || here?.has('*'))) continue;
        const severity: Severity = level ?? f.severity ?? rule.severity;
        found.push({ severity, rule: rule.id, file: doc.file, line: f.at.line, column: f.at.column, message: f.message, address: resource.address });
      }
    }
  }
  return found.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column || ORDER[a.severity] - ORDER[b.severity]);
}

/** What each lint rule checks, by rule id (for SARIF's rule descriptions). */
export function lintRuleText(): Record<string, string> {
  return Object.fromEntries(RULES.map((r) => [r.id, r.description]));
}
