/**
 * The tree's lint configuration, `apim-policy-lint.yaml` at its root: `rules: { <rule-id>: off |
 * error | warning | info }`. Problems in it are diagnostics of that file.
 */
import { join } from 'node:path';
import { LineCounter, isMap, isScalar, parseDocument } from 'yaml';
import type { Diagnostic, Severity } from '../model/index.js';
import { LINT_LEVELS, LINT_RULE_IDS, MANDATORY_LINT_RULES, type LintConfig, type LintLevel } from '../model/lint.js';
import { FILE_LIMITS, FileRefusedError, readTreeText } from './safe-file.js';
import { yamlErrors } from './identity-yaml.js';

export const CONFIG_FILE = 'apim-policy-lint.yaml';

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
  for (const e of yamlErrors(doc.errors)) report(e.offset, e.message);
  if (doc.errors.length || doc.contents === null) return config;
  if (!isMap(doc.contents)) {
    report(doc.contents.range?.[0], `${CONFIG_FILE} must be a map: rules: { <rule-id>: off | error | warning | info }`);
    return config;
  }
  const known = new Set([...LINT_RULE_IDS, ...MANDATORY_LINT_RULES]);
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
      const level = (raw === false ? 'off' : String(raw)) as LintLevel;
      if (!known.has(id)) {
        report(offset, `unknown rule "${id}"; the rules are: ${LINT_RULE_IDS.join(', ')}`, 'warning');
        continue;
      }
      if (!LINT_LEVELS.includes(level)) {
        report((rule.value as { range?: number[] })?.range?.[0] ?? offset, `rule ${id}: "${String(raw)}" is not one of off, error, warning, info`);
        continue;
      }
      if (MANDATORY_LINT_RULES.has(id)) {
        report(offset, `rule ${id} cannot be changed: APIM refuses such files (or they cannot be loaded)`, 'warning');
        continue;
      }
      config.levels.set(id, level);
    }
  }
  return config;
}
