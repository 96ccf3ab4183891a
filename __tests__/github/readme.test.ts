/** The README's inputs and outputs tables are the action.yml users get: same names, defaults, descriptions. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT } from '../helpers/run.js';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const action = parse(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as {
  inputs: Record<string, { description: string; default?: string }>;
  outputs: Record<string, { description: string }>;
};

/** The rows of the first table after `### <heading>`, as arrays of cells (markdown `\|` unescaped). */
function table(heading: string): string[][] {
  const start = readme.indexOf(`\n### ${heading}\n`);
  if (start < 0) throw new Error(`README has no "### ${heading}" section`);
  const lines = readme.slice(start).split('\n').slice(2);
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

test('every workflow in the README parses and uses only inputs action.yml declares', () => {
  const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
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
  const start = readme.indexOf('| rule | severity | what it catches |');
  expect(start).toBeGreaterThan(0);
  const lines = readme.slice(start).split('\n').slice(2);
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
