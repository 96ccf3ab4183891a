/**
 * Lint: load and parse problems first, then every rule over every document, with the tree's lint
 * configuration (`apim-policy-lint.yaml`: turn rules off or change their severity) and inline
 * suppressions (`<!-- apim-policy-lint-disable rule-id -->` before an element, for it and what it
 * holds; `<!-- apim-policy-lint-disable-file rule-id -->` anywhere, for the file). Sorted by file
 * and line.
 */
import { join } from 'node:path';
import { LineCounter, isMap, isScalar, parseDocument } from 'yaml';
import type { LoadedTree } from '../desired/load-tree.js';
import { FILE_LIMITS, FileRefusedError, readTreeText } from '../desired/safe-file.js';
import type { Diagnostic, Severity } from '../model/index.js';
import { walkElements, type PolicyDocument, type XmlElement, type XmlNode } from '../policy-xml/index.js';
import type { Rule } from './rule.js';
import { RULES } from './rules/index.js';

export const CONFIG_FILE = 'apim-policy-lint.yaml';

/** Findings APIM itself refuses (or that stop loading): no configuration can turn them off. */
const MANDATORY = new Set(['parse', 'layout', 'unknown-section', 'duplicate-section', 'identity-manifest', 'identity-variables', 'lint-config']);

const ORDER = { error: 0, warning: 1, info: 2 } as const;
const LEVELS = ['off', 'error', 'warning', 'info'] as const;
type Level = (typeof LEVELS)[number];

export interface LintConfig {
  levels: Map<string, Level>;
}

/** Reads `apim-policy-lint.yaml` at the root of the tree; problems in it are diagnostics of that file. */
export function loadLintConfig(root: string, shownRoot: string, diagnostics: Diagnostic[]): LintConfig {
  const config: LintConfig = { levels: new Map() };
  const file = join(shownRoot, CONFIG_FILE);
  let text: string | undefined;
  try {
    text = readTreeText(join(root, CONFIG_FILE), { root, maxBytes: FILE_LIMITS.config, label: file, what: CONFIG_FILE, missingOk: true });
  } catch (e) {
    if (!(e instanceof FileRefusedError)) throw e;
    diagnostics.push({ severity: 'error', rule: 'lint-config', file, line: 1, column: 1, message: e.reason });
    return config;
  }
  if (text === undefined) return config;
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  const report = (offset: number | undefined, message: string, severity: Severity = 'error') => {
    const p = lines.linePos(offset ?? 0);
    diagnostics.push({ severity, rule: 'lint-config', file, line: p.line, column: p.col, message });
  };
  for (const e of doc.errors) report(e.pos[0], e.message.split('\n')[0]!);
  if (doc.errors.length || doc.contents === null) return config;
  if (!isMap(doc.contents)) {
    report(doc.contents.range?.[0], `${CONFIG_FILE} must be a map: rules: { <rule-id>: off | error | warning | info }`);
    return config;
  }
  const known = new Set([...RULES.map((r) => r.id), ...MANDATORY]);
  for (const pair of doc.contents.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    if (key !== 'rules') {
      report((pair.key as { range?: number[] })?.range?.[0], `unknown key "${key}"; ${CONFIG_FILE} holds rules: { <rule-id>: off | error | warning | info }`);
      continue;
    }
    if (!isMap(pair.value)) {
      report((pair.value as { range?: number[] } | null)?.range?.[0], 'rules must be a map of <rule-id>: off | error | warning | info');
      continue;
    }
    for (const rule of pair.value.items) {
      const id = isScalar(rule.key) ? String(rule.key.value) : '';
      const offset = (rule.key as { range?: number[] })?.range?.[0];
      const raw = isScalar(rule.value) ? rule.value.value : undefined;
      const level = (raw === false ? 'off' : String(raw)) as Level;
      if (!known.has(id)) {
        report(offset, `unknown rule "${id}"; the rules are: ${RULES.map((r) => r.id).join(', ')}`, 'warning');
        continue;
      }
      if (!LEVELS.includes(level)) {
        report((rule.value as { range?: number[] })?.range?.[0] ?? offset, `rule ${id}: "${String(raw)}" is not one of off, error, warning, info`);
        continue;
      }
      if (MANDATORY.has(id)) {
        report(offset, `rule ${id} cannot be changed: APIM refuses such files (or they cannot be loaded)`, 'warning');
        continue;
      }
      config.levels.set(id, level);
    }
  }
  return config;
}

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
export function lintTree(tree: LoadedTree, options: { config?: LintConfig; rules?: Rule[] } = {}): Diagnostic[] {
  const found: Diagnostic[] = [...tree.diagnostics];
  const levels = (options.config ?? tree.lintConfig)?.levels ?? new Map<string, Level>();
  const rules = options.rules ?? RULES;
  for (const rule of rules) {
    const level = levels.get(rule.id);
    if (level === 'off' || !rule.checkTree) continue;
    for (const f of rule.checkTree({ tree, ...(tree.identity ? { identity: tree.identity } : {}) })) {
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
      if (!MANDATORY.has(rule.id) && (quiet.file.has(rule.id) || quiet.file.has('*'))) continue;
      for (const f of rule.check({ doc, resource, tree, ...(tree.identity ? { identity: tree.identity } : {}) })) {
        const here = quiet.at.get(`${f.at.line}:${f.at.column}`);
        if (!MANDATORY.has(rule.id) && (here?.has(rule.id) || here?.has('*'))) continue;
        const severity: Severity = level ?? f.severity ?? rule.severity;
        found.push({ severity, rule: rule.id, file: doc.file, line: f.at.line, column: f.at.column, message: f.message, address: resource.address });
      }
    }
  }
  return found.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column || ORDER[a.severity] - ORDER[b.severity]);
}
