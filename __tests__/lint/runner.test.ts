/**
 * The lint runner: inline suppression comments, the apim-policy-lint.yaml configuration, and the
 * output formats of `apim-policy lint` (text, JSON, SARIF 2.1.0 validated against the OASIS
 * schema as published with @microsoft/jest-sarif).
 */
import sarifMatchers from '@microsoft/jest-sarif';
import { join } from 'node:path';
import { loadDesiredTree } from '../../src/desired/load-desired.js';
import { lintTree } from '../../src/lint/index.js';
import { at, visit, type Rule } from '../../src/lint/rule.js';
import { RULES } from '../../src/lint/rules/index.js';
import { LINT_RULE_IDS } from '../../src/model/lint.js';
import { runCli } from '../helpers/run.js';
import { makeTree, policy } from '../helpers/tree.js';

expect.extend(sarifMatchers as never);

/** A rule for the runner's own tests: every <set-header> is a finding. */
const everyHeader: Rule = {
  id: 'every-header',
  severity: 'warning',
  description: 'test rule',
  check: ({ doc }) => [...visit(doc)].filter((v) => v.element.name === 'set-header').map((v) => ({ at: at(v.element), message: 'a header' })),
};
const header = (n: number) => `<set-header name="x-${n}" exists-action="override"><value>${n}</value></set-header>`;

describe('inline suppression', () => {
  it('a comment before an element silences that rule for it and what it holds; -file silences the file', async () => {
    const tree = makeTree({
      'apis/a/policy.xml': policy(
        `${header(1)}\n        <!-- apim-policy-lint-disable every-header -->\n        ${header(2)}\n        <!-- apim-policy-lint-disable other-rule -->\n        ${header(3)}`,
      ),
      'apis/b/policy.xml': `<!-- apim-policy-lint-disable-file every-header -->\n${policy(header(4))}`,
      'apis/c/policy.xml': policy(`<!-- apim-policy-lint-disable * -->\n        <choose><when condition="@(true)">${header(5)}</when></choose>\n        ${header(6)}`),
    });
    const found = lintTree(await loadDesiredTree(tree), { rules: [everyHeader] }).map((d) => `${d.file.slice(tree.length + 1)}:${d.line}:${d.column}`);
    expect(found).toEqual(['apis/a/policy.xml:3:9', 'apis/a/policy.xml:7:9', 'apis/c/policy.xml:5:9']);
  });

  it('cannot silence what APIM refuses', async () => {
    const tree = makeTree({ 'apis/a/policy.xml': '<!-- apim-policy-lint-disable-file duplicate-section -->\n<policies><inbound /><inbound /><backend /><outbound /><on-error /></policies>' });
    expect(lintTree(await loadDesiredTree(tree)).map((d) => d.rule)).toContain('duplicate-section');
  });
});

describe('apim-policy-lint.yaml', () => {
  it('knows every rule of the tool, in the order of the registry (the loader checks ids without importing the rules)', () => {
    expect(LINT_RULE_IDS).toEqual(RULES.map((r) => r.id));
  });

  it('turns a rule off or changes its severity; bad entries are findings in the config file at their line', async () => {
    const tree = makeTree({
      'apim-policy-lint.yaml': 'rules:\n  missing-base: off\n  no-such-rule: warning\n  duplicate-section: off\n  unknown-element: loud\n',
      // An API policy without <base /> in inbound: missing-base would fire, but it is off.
      'apis/a/policy.xml': policy(header(1)),
    });
    const loaded = await loadDesiredTree(tree);
    const config = loaded.diagnostics.filter((d) => d.rule === 'lint-config').map((d) => `${d.line}:${d.column} ${d.severity} ${d.message.split(';')[0]}`);
    expect(config).toEqual([
      '3:3 warning unknown rule "no-such-rule"',
      '4:3 warning rule duplicate-section cannot be changed: APIM refuses such files (or they cannot be loaded)',
      '5:20 error rule unknown-element: "loud" is not one of off, error, warning, info',
    ]);
    expect(loaded.lintConfig!.levels.get('missing-base')).toBe('off');
    expect(lintTree(loaded).filter((d) => d.rule === 'missing-base')).toEqual([]);
    const without = await loadDesiredTree(makeTree({ 'apis/a/policy.xml': policy(header(1)) }));
    expect(lintTree(without).filter((d) => d.rule === 'missing-base')).toHaveLength(1);
  });

  it("a severity from the configuration replaces the rule's own", async () => {
    const tree = makeTree({ 'apim-policy-lint.yaml': 'rules:\n  every-header: error\n', 'apis/a/policy.xml': policy(header(1)) });
    const loaded = await loadDesiredTree(tree);
    // every-header is not a known rule of the tool, so the config warns and leaves it alone…
    expect(loaded.diagnostics.map((d) => d.message)).toEqual([expect.stringContaining('unknown rule "every-header"')]);
    // …while a known one is applied: simulate with the levels map directly.
    loaded.lintConfig!.levels.set('every-header', 'error');
    expect(
      lintTree(loaded, { rules: [everyHeader] })
        .filter((d) => d.rule === 'every-header')
        .map((d) => d.severity),
    ).toEqual(['error']);
  });
});

describe('apim-policy lint output', () => {
  const broken = () =>
    makeTree({
      'apis/a/policy.xml': '<policies>\n  <inbound>\n    <base>\n  </inbound>\n</policies>\n',
      'apis/b/policy.xml': policy(),
      'identity.yaml': 'identity:\n  systemAssigned: maybe\n',
    });

  it('text: one line per finding and the totals; exit 1 on errors', () => {
    const tree = broken();
    const r = runCli(['lint', '--policies', tree]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`${join(tree, 'apis/a/policy.xml')}:4:3: error: closing tag </inbound> does not match the open <base>`);
    expect(r.stdout).toContain(`${join(tree, 'identity.yaml')}:2:19: error:`);
    expect(r.stdout).toMatch(/^2 error\(s\), \d+ warning\(s\), \d+ info\(s\)$/m);
  });

  it('json: {"diagnostics":[{severity, rule, file, line, column, message}]}', () => {
    const r = runCli(['lint', '--policies', broken(), '--format', 'json']);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out)).toEqual(['diagnostics']);
    expect(out.diagnostics.length).toBeGreaterThanOrEqual(2);
    for (const d of out.diagnostics) expect(Object.keys(d)).toEqual(['severity', 'rule', 'file', 'line', 'column', 'message']);
  });

  it('sarif: a valid SARIF 2.1.0 log with a described rule for every result', () => {
    const r = runCli(['lint', '--policies', broken(), '--format', 'sarif']);
    expect(r.code).toBe(1);
    const log = JSON.parse(r.stdout);
    (expect(log) as unknown as { toBeValidSarifLog(): void }).toBeValidSarifLog();
    const run = log.runs[0];
    expect(run.results.map((x: { ruleId: string }) => x.ruleId).sort()).toEqual(['identity-manifest', 'parse']);
    for (const result of run.results) expect(run.tool.driver.rules[result.ruleIndex].id).toBe(result.ruleId);
    expect(run.tool.driver.rules.find((x: { id: string }) => x.id === 'parse').shortDescription.text).toMatch(/APIM|API Management/);
  });

  it('--list-rules names every rule with its severity', () => {
    const r = runCli(['lint', '--policies', '.', '--list-rules']);
    expect(r.code).toBe(0);
    for (const rule of RULES) expect(r.stdout).toMatch(new RegExp(`^${rule.id} +${rule.severity} `, 'm'));
  });
});
