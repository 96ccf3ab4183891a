import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/run.js';
import { makeTree, policy } from '../helpers/tree.js';

const header = (v: string) => `<set-header name="x-v" exists-action="override"><value>${v}</value></set-header>`;

describe('apim-policy plan (offline, against a live snapshot)', () => {
  const desired = makeTree({ 'apis/a/policy.xml': policy(header('2')), 'apis/b/policy.xml': policy() });
  const same = makeTree({
    'apis/a/policy.xml': policy(header('2')).replace(/\n/g, '\r\n').replace(/    /g, '\t'),
    'apis/b/policy.xml': policy(),
  });
  const older = makeTree({ 'apis/a/policy.xml': policy(header('1')), 'apis/c/policy.xml': policy() });

  it('writes JSON with summary and changes, and a plan file with --out', () => {
    const out = join(makeTree({}), 'plan.json');
    const r = runCli(['plan', '--policies', desired, '--live-snapshot', older, '--format', 'json', '--out', out]);
    expect(r.code).toBe(0);
    const printed = JSON.parse(r.stdout);
    expect(printed.summary).toEqual({ create: 1, update: 1, delete: 1, unchanged: 0 });
    const file = JSON.parse(readFileSync(out, 'utf8'));
    expect(file.changes.map((c: { address: string; action: string }) => `${c.action} ${c.address}`)).toEqual([
      'update apis/a/policies/policy',
      'create apis/b/policies/policy',
      'delete apis/c/policies/policy',
    ]);
    // Issue 13: format 2 carries the hashes apply checks.
    expect(file.formatVersion).toBe(2);
  });

  it('follows terraform -detailed-exitcode: 0 no changes, 2 changes', () => {
    expect(runCli(['plan', '--policies', desired, '--live-snapshot', same, '--detailed-exitcode']).code).toBe(0);
    expect(runCli(['plan', '--policies', desired, '--live-snapshot', older, '--detailed-exitcode']).code).toBe(2);
  });

  it('prints "No changes" when only formatting differs', () => {
    const r = runCli(['plan', '--policies', desired, '--live-snapshot', same]);
    expect(r.stdout).toMatch(/^No changes\. Live APIM matches the policies tree \(2 resources\)\./);
  });

  it('renders markdown for a PR comment', () => {
    const r = runCli(['plan', '--policies', desired, '--live-snapshot', older, '--format', 'markdown']);
    expect(r.stdout).toContain('**Plan:** 1 to create, 1 to update, 1 to delete, 0 unchanged');
  });

  it('refuses a malformed tree with file and line, exit 1, and writes no plan', () => {
    const broken = makeTree({ 'apis/a/policy.xml': '<policies>\n<inbound>\n<set-header name="x">\n</inbound>\n</policies>' });
    const out = join(makeTree({}), 'plan.json');
    const r = runCli(['plan', '--policies', broken, '--live-snapshot', older, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${join(broken, 'apis/a/policy.xml')}:4:1: error: closing tag </inbound> does not match the open <set-header>`);
    expect(() => readFileSync(out)).toThrow();
  });
});

describe('apim-policy fmt', () => {
  it('formats files in place; --check then passes; a second fmt changes nothing', () => {
    const root = makeTree({
      'apis/a/policy.xml': '<policies><inbound><base/><set-header exists-action=\'override\' name="h"><value>@(context.Request.Method == "GET" ? "a" : "b")</value></set-header></inbound></policies>',
    });
    const file = join(root, 'apis/a/policy.xml');
    expect(runCli(['fmt', '--check', root]).code).toBe(1);
    expect(runCli(['fmt', root]).code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(
      '<policies>\n    <inbound>\n        <base />\n        <set-header exists-action="override" name="h">\n            <value>@(context.Request.Method == "GET" ? "a" : "b")</value>\n        </set-header>\n    </inbound>\n</policies>\n',
    );
    expect(runCli(['fmt', '--check', file]).code).toBe(0);
    const r = runCli(['fmt', file]);
    expect(r.stdout).toBe('');
  });

  it('leaves a file it cannot parse untouched and exits 2', () => {
    const root = makeTree({ 'policy.xml': '<policies><inbound></policies>' });
    const r = runCli(['fmt', join(root, 'policy.xml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/policy\.xml:1:\d+: /);
    expect(readFileSync(join(root, 'policy.xml'), 'utf8')).toBe('<policies><inbound></policies>');
  });
});

describe('apim-policy diff', () => {
  const dir = makeTree({});
  const a = join(dir, 'a.xml');
  const b = join(dir, 'b.xml');
  const c = join(dir, 'c.xml');
  writeFileSync(a, policy(header('1')));
  writeFileSync(b, policy(header('1')).replace(/\n/g, '\r\n'));
  writeFileSync(c, policy(header('2')));

  it('exits 0 for the same policy formatted differently', () => {
    const r = runCli(['diff', a, b]);
    expect(r).toEqual(expect.objectContaining({ code: 0, stdout: '' }));
  });

  it('exits 1 and prints a unified diff for a real change', () => {
    const r = runCli(['diff', a, c]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^-.*<value>1<\/value>$/m);
    expect(r.stdout).toMatch(/^\+.*<value>2<\/value>$/m);
  });

  it('exits 2 on a missing file or a parse error', () => {
    expect(runCli(['diff', a, join(dir, 'missing.xml')]).code).toBe(2);
    const bad = join(dir, 'bad.xml');
    writeFileSync(bad, '<policies>');
    expect(runCli(['diff', a, bad]).code).toBe(2);
  });

  it('compares two trees', () => {
    const t1 = makeTree({ 'apis/a/policy.xml': policy(header('1')) });
    const t2 = makeTree({ 'apis/a/policy.xml': policy(header('2')) });
    const r = runCli(['diff', t1, t2]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('~ apis/a/policies/policy');
    expect(runCli(['diff', t1, t1]).code).toBe(0);
  });
});

describe('apim-policy lint', () => {
  it('passes a valid tree', () => {
    const r = runCli(['lint', '--policies', makeTree({ 'policy.xml': policy() })]);
    expect(r.code).toBe(0);
  });

  it('needs no secret: the sample tree lints clean without ORDERS_API_KEY, and plans against a snapshot folder; a live plan needs it', () => {
    const env = { ORDERS_API_KEY: undefined };
    const lint = runCli(['lint', '--policies', 'policies'], { env });
    expect([lint.code, lint.stdout + lint.stderr]).toEqual([0, expect.not.stringContaining('ORDERS_API_KEY')]);
    const snapshot = runCli(['plan', '--policies', 'policies', '--live-snapshot', 'demo/live-snapshot', '--detailed-exitcode'], { env });
    expect(snapshot.code).toBe(2);
    expect(snapshot.stdout + snapshot.stderr).not.toContain('ORDERS_API_KEY');
    const live = runCli(['plan', '--policies', 'policies', '--subscription-id', '00000000-0000-4000-8000-00000000a001', '--resource-group', 'rg', '--service-name', 'apim'], { env });
    expect(live.code).toBe(1);
    expect(live.stderr + live.stdout).toMatch(/named values\/orders-api-key\/namedValueInformation\.json:\d+:\d+: error: .*\{#ORDERS_API_KEY#\} needs the environment variable ORDERS_API_KEY/);
  });

  it('reports errors as JSON diagnostics and exits non-zero', () => {
    const root = makeTree({
      'apis/a/policy.xml': '<policies>\n  <inbound />\n  <inbund />\n</policies>',
      'apis/b/policy.xml': '<policies><inbound><set-variable name="x" value="@(1 + (2)" /></inbound></policies>',
    });
    const r = runCli(['lint', '--policies', root, '--format', 'json']);
    expect(r.code).toBe(1);
    const { diagnostics } = JSON.parse(r.stdout);
    // The empty <inbound /> of an API policy also has no <base />: a warning beside the errors.
    expect(diagnostics.filter((d: { severity: string }) => d.severity !== 'error').map((d: { rule: string; line: number }) => `${d.rule}:${d.line}`)).toEqual(['missing-base:2']);
    expect(diagnostics.filter((d: { severity: string }) => d.severity === 'error')).toEqual([
      { severity: 'error', rule: 'unknown-section', file: join(root, 'apis/a/policy.xml'), line: 3, column: 3, message: expect.stringContaining('<inbund> is not a policy section') },
      { severity: 'error', rule: 'parse', file: join(root, 'apis/b/policy.xml'), line: 1, column: 50, message: expect.stringContaining('never closed') },
    ]);
  });
});

describe('apim-policy --help', () => {
  it.each(['plan', 'lint', 'fmt', 'diff', 'demo'])('documents %s', (verb) => {
    const r = runCli([verb, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Usage: apim-policy ${verb}`));
  });

  it('exits 2 on an unknown option', () => {
    const r = runCli(['lint', '--policies', '.', '--nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option '--nope'/);
  });
});

describe('apim-policy demo', () => {
  it('plans the sample tree against the emulator, applies, and re-plans clean', () => {
    const out = makeTree({});
    const r = runCli(['demo', '--out-dir', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Plan: 6 to create, 5 to update, 1 to delete, 8 unchanged.');
    expect(r.stdout).toMatch(/create apis\/logic-callback\/policies\/policy/);
    expect(r.stdout).toMatch(/delete apis\/legacy-echo\/policies\/policy/);
    expect(r.stdout).toMatch(/No changes\. Live APIM matches the policies tree \(19 resources\)\./);
    const comment = readFileSync(join(out, 'plan-comment.md'), 'utf8');
    expect(comment).toContain('**Plan:** 6 to create, 5 to update, 1 to delete, 8 unchanged');
  });
});
