import type { Change, Plan } from '../../src/model/index.js';
import { PLAN_FORMAT_VERSION } from '../../src/model/index.js';
import { renderJson } from '../../src/render/json.js';
import { renderMarkdown } from '../../src/render/markdown.js';
import { renderText } from '../../src/render/text.js';

function planOf(changes: Change[], extra: Partial<Plan> = {}): Plan {
  const count = (a: Change['action']) => changes.filter((c) => c.action === a).length;
  return {
    formatVersion: PLAN_FORMAT_VERSION,
    tool: { name: 'apim-policy-deploy', version: '0.0.0' },
    createdAt: '2026-01-01T00:00:00.000Z',
    source: { kind: 'snapshot', path: 'live' },
    summary: { create: count('create'), update: count('update'), delete: count('delete'), unchanged: count('noop') },
    changes,
    problems: [],
    ...extra,
  };
}

const update = (address: string, diffBody = '-        <value>1</value>\n+        <value>2</value>\n'): Change => ({
  address,
  action: 'update',
  resourceType: 'api',
  file: `policies/${address}.xml`,
  diff: `--- live/${address}\n+++ desired/${address}\n@@ -1,1 +1,1 @@\n${diffBody}`,
  added: 1,
  removed: 1,
});
const noop = (address: string): Change => ({ address, action: 'noop', resourceType: 'api' });
const del = (address: string): Change => ({ address, action: 'delete', resourceType: 'api', diff: `--- a\n+++ b\n@@ -1 +0,0 @@\n-<policies />\n`, added: 0, removed: 1 });

describe('text rendering', () => {
  it('says "No changes" in one line when nothing changes', () => {
    const text = renderText(planOf([noop('apis/a/policies/policy'), noop('apis/b/policies/policy')]));
    expect(text.trim()).toBe('No changes. Live APIM matches the policies tree (2 resources).');
  });

  it('lists each change with its diff and the totals, without colour unless asked', () => {
    const text = renderText(planOf([update('apis/a/policies/policy'), noop('apis/b/policies/policy')]));
    expect(text).toContain('~ apis/a/policies/policy');
    expect(text).toContain('+        <value>2</value>');
    expect(text).toContain('Plan: 0 to create, 1 to update, 0 to delete, 1 unchanged.');
    expect(text).not.toContain('apis/b/policies/policy');
    expect(text).not.toMatch(/\u001b\[/);
    expect(renderText(planOf([update('apis/a/policies/policy')]), { color: true })).toMatch(/\u001b\[32m\+ {8}<value>2<\/value>\u001b\[0m/);
  });

  it('warns that deletes need --allow-deletes', () => {
    expect(renderText(planOf([del('apis/old/policies/policy')]))).toMatch(/only with --allow-deletes/);
  });
});

describe('markdown rendering', () => {
  it('is one short line when nothing changes', () => {
    const md = renderMarkdown(planOf([noop('apis/a/policies/policy')], { commit: '0123456789abcdef0123' }), { title: 'Plan for prod' });
    expect(md).toBe('### Plan for prod\n\n**No changes.** Live APIM matches the policies tree (1 resource) · commit `0123456789ab`.\n');
  });

  it('shows counts, a table, a collapsible diff per resource and a warning for deletes', () => {
    const md = renderMarkdown(planOf([update('apis/a/policies/policy'), del('apis/old/policies/policy')]), {
      marker: '<!-- apim-policy-deploy:plan:prod -->',
      runUrl: 'https://github.com/o/r/actions/runs/1',
    });
    expect(md.startsWith('<!-- apim-policy-deploy:plan:prod -->\n')).toBe(true);
    expect(md).toContain('**Plan:** 0 to create, 1 to update, 1 to delete, 0 unchanged');
    expect(md).toContain('[workflow run](https://github.com/o/r/actions/runs/1)');
    expect(md).toMatch(/> \[!WARNING\]\n> 1 resource\(s\) exist in APIM but not in the tree/);
    expect(md).toContain('| ~ update | `apis/a/policies/policy` | `policies/apis/a/policies/policy.xml` | +1 \u22121 |');
    expect(md).toContain('<details><summary>~ update <code>apis/a/policies/policy</code> +1 \u22121</summary>');
    expect(md).toMatch(/```diff\n--- live\/apis\/a\/policies\/policy\n/);
  });

  it('uses a longer fence when a diff contains backticks', () => {
    const md = renderMarkdown(planOf([update('apis/a/policies/policy', '+ <value>```</value>\n')]));
    expect(md).toContain('````diff\n');
  });

  it('stays under maxLength by leaving out diffs, and says where the full plan is', () => {
    const big = '+' + 'x'.repeat(3000) + '\n';
    const changes = Array.from({ length: 40 }, (_, i) => update(`apis/a${i}/policies/policy`, big));
    const md = renderMarkdown(planOf(changes), { maxLength: 20000, fullPlanUrl: 'https://example.test/summary' });
    expect(md.length).toBeLessThanOrEqual(20000);
    expect(md).toMatch(/_\d+ diff\(s\) not shown here to stay within GitHub's comment limit: see the \[full plan\]\(https:\/\/example.test\/summary\)/);
    // Every change is still listed in the table even when its diff is left out.
    for (let i = 0; i < 40; i++) expect(md).toContain(`\`apis/a${i}/policies/policy\``);
  });

  it('trims one very long diff and says so', () => {
    const md = renderMarkdown(planOf([update('apis/a/policies/policy', ('+' + 'y'.repeat(99) + '\n').repeat(100))]), { maxDiffLength: 1000 });
    expect(md).toMatch(/Diff trimmed to 1,000 characters/);
    expect(md.length).toBeLessThan(3000);
  });
});

describe('json rendering', () => {
  it('is the plan itself, with summary and changes', () => {
    const plan = planOf([update('apis/a/policies/policy')]);
    const parsed = JSON.parse(renderJson(plan));
    expect(parsed.summary).toEqual({ create: 0, update: 1, delete: 0, unchanged: 0 });
    expect(parsed.changes[0]).toEqual(expect.objectContaining({ address: 'apis/a/policies/policy', action: 'update' }));
  });
});
