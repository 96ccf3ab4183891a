/**
 * The documentation (README.md and docs/*.md) kept equal to the code: the inputs and outputs tables
 * of docs/action.md are the action.yml users get (same names, defaults, descriptions), the lint
 * rules table of docs/lint.md is the RULES, and every workflow shown parses and works when copied.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT } from '../helpers/run.js';
import { missingPermissions, type Workflow } from '../helpers/workflow-permissions.js';

const triggersCall = (w: Workflow) => !!w.on && typeof w.on === 'object' && 'workflow_call' in (w.on as object);

const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
/** README.md and every docs/*.md, with their paths. */
const documents = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
].map((path) => ({ path, text: read(path) }));
const actionDoc = read('docs/action.md');
const lintDoc = read('docs/lint.md');
const action = parse(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as {
  inputs: Record<string, { description: string; default?: string }>;
  outputs: Record<string, { description: string }>;
};

/** The rows of the first table after the heading `<heading>` of docs/action.md, as arrays of cells (markdown `\|` unescaped). */
function table(heading: string): string[][] {
  const start = actionDoc.search(new RegExp(`\n#+ ${heading}\n`));
  if (start < 0) throw new Error(`docs/action.md has no "${heading}" section`);
  const lines = actionDoc
    .slice(start + 1)
    .split('\n')
    .slice(1);
  const rows = lines.slice(lines.findIndex((l) => l.startsWith('|')));
  const body = rows
    .slice(
      0,
      rows.findIndex((l) => !l.startsWith('|')),
    )
    .slice(2);
  return body.map((l) =>
    l
      .slice(1, -1)
      .split(/(?<!\\)\|/)
      .map((c) => c.trim().replace(/\\\|/g, '|')),
  );
}
const unquote = (cell: string) => cell.replace(/^`(.*)`$/, '$1');

test('the inputs table lists every input of action.yml with its default and description, in order', () => {
  const rows = table('Inputs');
  expect(rows.map((r) => unquote(r[0]!))).toEqual(Object.keys(action.inputs));
  for (const [name, def, description] of rows) {
    const input = action.inputs[unquote(name!)]!;
    expect([unquote(name!), unquote(def!)]).toEqual([unquote(name!), input.default ?? '']);
    expect(description).toBe(input.description);
  }
});

test('the outputs table lists every output of action.yml with its description, in order', () => {
  const rows = table('Outputs');
  expect(rows.map((r) => unquote(r[0]!))).toEqual(Object.keys(action.outputs));
  for (const [name, description] of rows) expect(description).toBe(action.outputs[unquote(name!)]!.description);
});

test('every workflow in the README and docs/ parses and uses only inputs action.yml declares', () => {
  const blocks = documents.flatMap((d) => [...d.text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!));
  expect(blocks.length).toBeGreaterThanOrEqual(6);
  for (const block of blocks) {
    const doc = parse(block);
    const steps = Object.values((doc?.jobs ?? {}) as Record<string, { steps?: Array<{ uses?: string; with?: Record<string, unknown> }> }>).flatMap((j) => j.steps ?? []);
    const ours = (doc?.jobs ? steps : (doc?.steps ?? [])).filter((s: any) => s?.uses?.includes('apim-policy-deploy'));
    for (const step of ours) for (const key of Object.keys(step.with ?? {})) expect(Object.keys(action.inputs)).toContain(key);
  }
});

test('the lint rules table lists every rule with its default severity and description', async () => {
  const { RULES } = await import('../../src/lint/rules/index.js');
  const start = lintDoc.indexOf('| rule | severity | what it catches |');
  expect(start).toBeGreaterThan(0);
  const lines = lintDoc.slice(start).split('\n').slice(2);
  const rows = lines
    .slice(
      0,
      lines.findIndex((l) => !l.startsWith('|')),
    )
    .map((l) =>
      l
        .slice(1, -1)
        .split('|')
        .map((c) => c.trim().replace(/&lt;/g, '<').replace(/&gt;/g, '>')),
    );
  expect(rows.map((r) => [r[0]!.replace(/`/g, ''), r[1], r[2]])).toEqual(RULES.map((r) => [r.id, r.severity, r.description]));
});

test('every workflow in the README and docs/ works when copied: each job has the token permissions its steps need, and a called workflow gets them from its caller', () => {
  const blocks = documents.flatMap((d) => [...d.text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => ({ text: m[1]!, before: d.text.slice(Math.max(0, m.index! - 400), m.index!) })));
  const workflows = blocks.map((b) => ({ doc: parse(b.text) as Workflow, before: b.before })).filter((w) => w.doc && typeof w.doc === 'object' && w.doc.jobs);
  expect(workflows.length).toBeGreaterThanOrEqual(5);
  // A reusable workflow is the block the README introduces with its path.
  const called = (path: string) => workflows.find((w) => triggersCall(w.doc) && w.before.includes(path.replace(/^\.\//, '')))?.doc;
  const problems = workflows
    .filter((w) => !triggersCall(w.doc))
    .flatMap((w) => missingPermissions(w.doc, (uses) => uses.includes('apim-policy-deploy'), called).map((p) => `${String((w.doc as { name?: string }).name)}: ${p}`));
  expect(problems).toEqual([]);
});

test('the permission check can fail: a SARIF upload without security-events, a caller without id-token', () => {
  const ours = (uses: string) => uses.includes('apim-policy-deploy');
  const sarif = parse(
    'on: pull_request\npermissions: { contents: read, pull-requests: write, id-token: write }\njobs:\n  plan:\n    steps:\n      - uses: actions/checkout@v4\n      - uses: o/apim-policy-deploy@v0\n      - uses: github/codeql-action/upload-sarif@v3\n',
  ) as Workflow;
  expect(missingPermissions(sarif, ours, () => undefined)).toEqual(['job plan: needs security-events: write (github/codeql-action/upload-sarif@v3 uploads code-scanning results), has none']);
  const callee = parse(
    'on: workflow_call\njobs:\n  apply:\n    permissions: { contents: read, id-token: write }\n    steps:\n      - uses: o/apim-policy-deploy@v0\n        with: { mode: apply }\n',
  ) as Workflow;
  const caller = parse('on: push\npermissions: { contents: read }\njobs:\n  prod:\n    uses: ./.github/workflows/apply.yml\n') as Workflow;
  expect(missingPermissions(caller, ours, () => callee)).toEqual([
    'job prod → ./.github/workflows/apply.yml: job apply: needs id-token: write (o/apim-policy-deploy@v0 logs in to Azure with GitHub OIDC), has none',
  ]);
});

test("the README's minimum-roles table is the one docs/minimum-roles.md explains", () => {
  const rows = (text: string) => {
    const at = text.indexOf('| mode | role | scope |');
    expect(at).toBeGreaterThan(0);
    return text
      .slice(at)
      .split('\n')
      .filter((_l, i, all) => all.slice(0, i + 1).every((x) => x.startsWith('|')))
      .map((l) => l.replace(/\]\((?:docs\/)?([^)]+)\)/g, ']($1)'));
  };
  const docs = readFileSync(join(ROOT, 'docs/minimum-roles.md'), 'utf8');
  expect(rows(readFileSync(join(ROOT, 'README.md'), 'utf8'))).toEqual(rows(docs));
});
