/**
 * Every markdown renderer (plan, lint, apply) passes text from the tree or from live through one
 * escaping module (src/render/escape.ts): in a PR comment it cannot mention anyone, inject HTML,
 * forge a link or add a table cell. And a diff too large to compute is shown as "content
 * replaced" by each renderer.
 */
import type { Change, Plan } from '../../src/model/index.js';
import { PLAN_FORMAT_VERSION } from '../../src/model/index.js';
import type { ApplyResult } from '../../src/plan/apply.js';
import { renderApplyMarkdown } from '../../src/render/apply.js';
import { codeBlock, mdCode, mdText } from '../../src/render/escape.js';
import { renderJson } from '../../src/render/json.js';
import { renderLintMarkdown, renderMarkdown } from '../../src/render/markdown.js';
import { renderText } from '../../src/render/text.js';

const HOSTILE = '@octocat </details><img src=x> [click](https://evil) a|b #12\nnext line';

function planOf(changes: Change[]): Plan {
  const count = (a: Change['action']) => changes.filter((c) => c.action === a).length;
  return {
    formatVersion: PLAN_FORMAT_VERSION,
    tool: { name: 'apim-policy-deploy', version: '0.0.0' },
    createdAt: '2026-01-01T00:00:00.000Z',
    source: { kind: 'snapshot', path: 'live' },
    summary: { create: count('create'), update: count('update'), delete: count('delete'), unchanged: count('noop') },
    changes,
    problems: [],
  };
}

/** Text outside code, where GitHub would read markup. */
const outsideCode = (md: string) =>
  md
    .replace(/^(`{3,})[^\n]*\n[\s\S]*?\n\1$/gm, '')
    .replace(/\\[\\`*_{}[\]()#+!|~-]/g, 'E')
    .replace(/(`+)(?!`)[\s\S]*?(?<!`)\1(?!`)/g, '')
    .replace(/<code>[\s\S]*?<\/code>/g, '');

function expectInert(md: string): void {
  const outside = outsideCode(md);
  expect(outside).not.toMatch(/@octocat|<img|<\/details><img|\[click\]\(|#12/);
  expect((outside.match(/<details>/g) ?? []).length).toBe((outside.match(/<\/details>/g) ?? []).length);
  for (const row of md.split('\n').filter((l) => l.startsWith('|'))) expect(row.match(/(?<!\\)\|/g)).toHaveLength(5);
  expect(outside).not.toMatch(/^next line/m); // a newline in a name cannot start a new block
}

describe('escaping text for markdown', () => {
  it('keeps prose readable and inert: entities, backslashes, a joiner after @ and #, one line', () => {
    expect(mdText(HOSTILE)).toBe('@\u200Doctocat &lt;/details&gt;&lt;img src=x&gt; \\[click\\](https://evil) a\\|b #\u200D12 next line');
  });

  it('puts code between backtick fences longer than any run inside, and escapes | only in table cells', () => {
    expect(mdCode('a`b')).toBe('``a`b``');
    expect(mdCode('``x')).toBe('``` ``x ```');
    expect(mdCode('a|b')).toBe('`a|b`');
    expect(mdCode('a|b', { table: true })).toBe('`a\\|b`');
  });

  it('fences a block with more backticks than any line of it has', () => {
    expect(codeBlock('a\n```\n````\nb', 'diff')).toBe('`````diff\na\n```\n````\nb\n`````');
  });
});

describe('markdown renderers with hostile names and content', () => {
  const role: Change = {
    address: `roleAssignments/${HOSTILE}`,
    action: 'create',
    resourceType: 'roleAssignment',
    file: `policies/${HOSTILE}.yaml`,
    line: 3,
    diff: `+role: ${HOSTILE}\n+\`\`\`\n+</details>\n`,
    added: 3,
    removed: 0,
    roleAssignment: { scope: '/subscriptions/s', roleDefinitionGuid: 'g', roleName: HOSTILE, identity: `@org/team ${HOSTILE}` },
    destructive: `takes away ${HOSTILE}`,
  };

  it('plan: table, warnings, problems and the diff summary show the text and none of it acts', () => {
    const plan = planOf([role, { address: `apis/${HOSTILE}/policies/policy`, action: 'delete', resourceType: 'api', diff: '-x\n', added: 0, removed: 1 }]);
    plan.problems = [{ severity: 'error', rule: 'x', file: `apis/${HOSTILE}/policy.xml`, line: 1, column: 1, message: HOSTILE }];
    const md = renderMarkdown(plan);
    expectInert(md);
    expect(md).toContain('<details><summary>+ create <code>roleAssignments/@octocat &lt;/details&gt;&lt;img src=x&gt; [click](https://evil) a|b #12 next line</code>');
    expect(md).toMatch(/^````diff$/m);
    expect(md).not.toContain('@org/team');
  });

  it('lint: each finding shows its message inert', () => {
    const md = renderLintMarkdown([{ severity: 'error', rule: 'parse', file: `apis/${HOSTILE}/policy.xml`, line: 2, column: 3, message: HOSTILE }], { title: 'lint' });
    expectInert(md);
    expect(md).toContain('\\[click\\](https://evil)');
  });

  it("apply: addresses, role names, restore messages and the error (ARM's words included) show inert", () => {
    const result: ApplyResult = {
      ok: false,
      applied: [role],
      skippedDeletes: [{ address: `apis/${HOSTILE}`, action: 'delete', resourceType: 'api' }],
      skippedDestructive: [role],
      restored: [{ address: `apis/${HOSTILE}`, ok: false, message: HOSTILE } as ApplyResult['restored'][number]],
      error: `ARM answered 400: ${HOSTILE}`,
    };
    expectInert(renderApplyMarkdown(result));
    expectInert(renderApplyMarkdown({ ...result, ok: true }));
  });
});

describe('a diff too large to compute', () => {
  const replaced: Change = {
    address: 'apis/big/policies/policy',
    action: 'update',
    resourceType: 'api',
    file: 'apis/big/policy.xml',
    diff: '--- live/apis/big/policies/policy\n+++ desired/apis/big/policies/policy\ncontent replaced: 20000 lines → 19000 lines (more than 2000 lines differ; not diffed line by line)\n',
    added: 19000,
    removed: 20000,
    replaced: { before: 20000, after: 19000 },
  };

  it('reads "content replaced" with both line counts in text, markdown and json', () => {
    const plan = planOf([replaced]);
    expect(renderText(plan)).toContain('    content replaced: 20000 lines → 19000 lines');
    const md = renderMarkdown(plan);
    expect(md).toContain('| ~ update | `apis/big/policies/policy` | `apis/big/policy.xml` | 20000 → 19000 lines, replaced |');
    expect(md).toContain('content replaced: 20000 lines → 19000 lines');
    expect(JSON.parse(renderJson(plan)).changes[0].replaced).toEqual({ before: 20000, after: 19000 });
  });
});
