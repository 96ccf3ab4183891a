/**
 * A big diff cannot stall a plan: one policy rewritten in full (20,000 lines, about 120 KB) plans
 * with "content replaced: N lines → M lines" in every output format of the bundled CLI, instead
 * of a line-by-line diff that takes minutes. `npm run bench` reports how long it takes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCliAsync } from '../helpers/run.js';
import { makeTree } from '../helpers/tree.js';

/** A policy of exactly `total` lines in canonical form: a set-body of numbered lines. */
function bigPolicy(total: number, tag: string): string {
  const body = Array.from({ length: total - 14 }, (_, i) => `${tag}${i}`).join('\n');
  return `<policies>\n    <inbound>\n        <base />\n        <set-body>${body}</set-body>\n    </inbound>\n    <backend>\n        <base />\n    </backend>\n    <outbound>\n        <base />\n    </outbound>\n    <on-error>\n        <base />\n    </on-error>\n</policies>\n`;
}

const ADDRESS = 'apis/big/policies/policy';
const REPLACED = /content replaced: 20000 lines → 20000 lines \(more than 2000 lines differ; not diffed line by line\)/;

test('a policy rewritten in full plans as "content replaced" with its line counts, in text, markdown and json', async () => {
  const desired = makeTree({ 'apis/big/policy.xml': bigPolicy(20000, 'n'), 'apis/small/policy.xml': bigPolicy(20, 'same') });
  const live = makeTree({ 'apis/big/policy.xml': bigPolicy(20000, 'o'), 'apis/small/policy.xml': bigPolicy(20, 'same').replace('same3', 'old3') });
  expect(readFileSync(join(desired, 'apis/big/policy.xml'), 'utf8').split('\n')).toHaveLength(20001);

  const plan = (format: string) => runCliAsync(['plan', '--policies', desired, '--live-snapshot', live, '--format', format]);
  const [text, markdown, json] = await Promise.all([plan('text'), plan('markdown'), plan('json')]);
  for (const r of [text, markdown, json]) {
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  }

  expect(text.stdout).toContain(`~ ${ADDRESS}`);
  expect(text.stdout).toMatch(REPLACED);
  expect(text.stdout.split('\n').length).toBeLessThan(40);
  // A small change beside it is still diffed line by line.
  expect(text.stdout).toContain('-old3');
  expect(text.stdout).toContain('+same3');

  expect(markdown.stdout).toContain(`| ~ update | \`${ADDRESS}\` | \`${join(desired, 'apis/big/policy.xml')}\` | 20000 → 20000 lines, replaced |`);
  expect(markdown.stdout).toMatch(REPLACED);
  expect(markdown.stdout.length).toBeLessThan(5000);

  const change = JSON.parse(json.stdout).changes.find((c: { address: string }) => c.address === ADDRESS);
  expect(change).toMatchObject({ action: 'update', replaced: { before: 20000, after: 20000 }, added: 20000, removed: 20000 });
  expect(change.diff).toMatch(REPLACED);
}, 120_000);
