/**
 * What a change reaches, end to end (issue 16, "a fragment change listing the policies it
 * reaches"): the bundled CLI plans the sample tree against the emulator seeded with the same
 * tree, with one fragment changed and the secret named value rotated. Who uses what is read off
 * the sample's files by the test itself: apis/orders includes the fragment `correlation` and
 * sends to the backend `orders-fulfilment`, whose header credential names `{{orders-api-key}}`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSeededEmulator as startEmulator } from '../../src/cli/emulator-seed.js';
import type { RunningEmulator } from '../../src/emulator/server.js';
import { cliAgainst as cli } from '../helpers/emulator.js';
import { ROOT } from '../helpers/run.js';
import { edit, sampleCopy } from '../helpers/tree.js';

let emu: RunningEmulator;
beforeAll(async () => {
  emu = await startEmulator({ seedDir: join(ROOT, 'policies') });
});
afterAll(async () => {
  await emu?.close();
});

test('the sample as its fixture says: only apis/orders includes correlation and uses the backend; the backend names the secret', () => {
  const orders = readFileSync(join(ROOT, 'policies', 'apis', 'orders', 'policy.xml'), 'utf8');
  expect(orders).toContain('<include-fragment fragment-id="correlation" />');
  expect(orders).toContain('backend-id="orders-fulfilment"');
  expect(readFileSync(join(ROOT, 'policies', 'backends', 'orders-fulfilment', 'backendInformation.json'), 'utf8')).toContain('{{orders-api-key}}');
});

test('a fragment change lists the policies that include it; a rotated secret lists the backend naming it and, through it, the policy; in text, markdown and JSON', async () => {
  const tree = sampleCopy();
  edit(tree, 'policy fragments/correlation/policy.xml', '</fragment>', '    <set-header name="x-impact" exists-action="override"><value>1</value></set-header>\n</fragment>');
  const env = { ORDERS_API_KEY: 'rotated-for-the-impact-test' };

  const text = await cli(emu, ['plan', '--policies', tree, '--detailed-exitcode'], env);
  expect(text.code).toBe(2);
  expect(text.stdout).toContain('`correlation` is included by 1 policy: apis/orders/policies/policy');
  expect(text.stdout).toContain('`{{orders-api-key}}` is used by 1 backend and 1 policy: backends/orders-fulfilment, apis/orders/policies/policy');

  const md = await cli(emu, ['plan', '--policies', tree, '--format', 'markdown'], env);
  expect(md.stdout).toMatch(/<details><summary><code>correlation<\/code> is included by 1 policy<\/summary>\s+- `apis\/orders\/policies\/policy`\s+<\/details>/);
  expect(md.stdout).toMatch(
    /<details><summary><code>\{\{orders-api-key\}\}<\/code> is used by 1 backend and 1 policy<\/summary>\s+- `backends\/orders-fulfilment`\s+- `apis\/orders\/policies\/policy`\s+<\/details>/,
  );

  const json = await cli(emu, ['plan', '--policies', tree, '--format', 'json'], env);
  const plan = JSON.parse(json.stdout) as { changes: Array<{ address: string; action: string; impact?: string[] }> };
  const byAddress = Object.fromEntries(plan.changes.map((c) => [c.address, c]));
  expect(byAddress['policyFragments/correlation']).toMatchObject({ action: 'update', impact: ['apis/orders/policies/policy'] });
  expect(byAddress['namedValues/orders-api-key']).toMatchObject({ action: 'update', impact: ['backends/orders-fulfilment', 'apis/orders/policies/policy'] });
  // Nothing else changed: the impact belongs to the two changes only.
  expect(
    plan.changes
      .filter((c) => c.action !== 'noop')
      .map((c) => c.address)
      .sort(),
  ).toEqual(['namedValues/orders-api-key', 'policyFragments/correlation']);
  expect(text.stdout + md.stdout + json.stdout).not.toContain(env.ORDERS_API_KEY);
}, 120_000);
