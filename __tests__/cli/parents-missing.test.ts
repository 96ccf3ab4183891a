/**
 * Policies for parents that do not exist (issue 15 item 2): ARM answers 404 to a policy PUT under
 * an API, operation, product or workspace the instance lacks, and this tool does not create them.
 * So the bundled CLI reports each such policy as an error at its file when it plans (full and
 * PR-scoped), with the nearest live name when one is close, and apply refuses: nothing is written.
 */
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSeededEmulator as startEmulator } from '../../src/cli/emulator-seed.js';
import type { RunningEmulator } from '../../src/emulator/server.js';
import { admin, cliAgainst as cli } from '../helpers/emulator.js';
import { makeTree, policy } from '../helpers/tree.js';

const header = (name: string) => `<set-header name="${name}" exists-action="override"><value>1</value></set-header>`;

/** The instance: a global policy, API `orders` with operation `send`, product `gold`, workspace `team` with API `inner`. */
const LIVE = {
  'policy.xml': policy(),
  'apis/orders/policy.xml': policy(),
  'apis/orders/operations/send/policy.xml': policy(),
  'products/gold/policy.xml': policy(),
  'workspaces/team/apis/inner/policy.xml': policy(),
};

let emu: RunningEmulator;
beforeAll(async () => {
  emu = await startEmulator({ seedDir: makeTree(LIVE) });
});
afterAll(async () => {
  await emu?.close();
});

const writes = async () =>
  ((await admin(emu, 'GET', 'requests')).log as Array<{ method: string; path: string }>).filter((e) => e.method !== 'GET' && e.method !== 'HEAD' && /Microsoft\.ApiManagement/i.test(e.path));

test('plan: each policy under a missing API, operation, product or workspace is an error at its file (with the near name); exit 1; apply refuses and writes nothing', async () => {
  const tree = makeTree({
    ...LIVE,
    // A real change beside the bad ones: it must not be written either.
    'apis/orders/policy.xml': policy(header('X-Fine')),
    'apis/ordres/policy.xml': policy(header('X-Typo')),
    'apis/orders/operations/nope/policy.xml': policy(),
    'products/silver/policy.xml': policy(),
    'workspaces/other/policy.xml': policy(),
    'workspaces/team/apis/outer/policy.xml': policy(),
    // The operation of a missing API: one error, for the API.
    'apis/gone/operations/any/policy.xml': policy(),
  });
  const plan = await cli(emu, ['plan', '--policies', tree, '--out', join(tree, '..', `${Date.now()}-parents-plan.json`)]);
  const out = plan.stdout + plan.stderr;
  expect(plan.code).toBe(1);
  const line = (file: string, message: string) => expect(out).toContain(`${join(tree, file)}:1:1: error: ${message}`);
  line('apis/ordres/policy.xml', 'API `ordres` does not exist in `apim-emulator`, so ARM refuses this policy (404) — did you mean `orders`?; create the API first');
  line('apis/orders/operations/nope/policy.xml', 'operation `nope` of API `orders` does not exist in `apim-emulator`');
  line('products/silver/policy.xml', 'product `silver` does not exist in `apim-emulator`');
  line('workspaces/other/policy.xml', 'workspace `other` does not exist in `apim-emulator`');
  line('workspaces/team/apis/outer/policy.xml', 'API `outer` of workspace `team` does not exist in `apim-emulator`');
  line('apis/gone/operations/any/policy.xml', 'API `gone` does not exist in `apim-emulator`');
  expect(out).toContain('this tool deploys policies, not APIs.');
  expect(out.match(/\[missing-parent\]/g)).toHaveLength(6);
  // The parents that exist are not reported.
  expect(out).not.toMatch(/error: (API|operation|product|workspace) `(orders|send|gold|team|inner)`/);

  const apply = await cli(emu, ['apply', '--policies', tree]);
  expect(apply.code).toBe(1);
  expect(apply.stdout + apply.stderr).toContain('API `ordres` does not exist');
  expect(await writes()).toEqual([]);
}, 120_000);

test('a PR-scoped plan (--base) checks the parents of what it plans', async () => {
  const base = makeTree(LIVE);
  const head = mkdtempSync(join(tmpdir(), 'apim-policy-head-'));
  cpSync(base, head, { recursive: true });
  writeFileSync(join(head, 'products', 'gold', 'policy.xml'), policy(header('X-Gold')));
  cpSync(join(head, 'products', 'gold'), join(head, 'products', 'glod'), { recursive: true });
  const plan = await cli(emu, ['plan', '--policies', head, '--base', base]);
  const out = plan.stdout + plan.stderr;
  expect(plan.code).toBe(1);
  expect(out).toContain(`${join(head, 'products/glod/policy.xml')}:1:1: error: product \`glod\` does not exist in \`apim-emulator\`, so ARM refuses this policy (404) — did you mean \`gold\`?`);
  expect(out.match(/\[missing-parent\]/g)).toHaveLength(1);

  // Once the product exists (created outside this tool), the same plan is clean.
  await admin(emu, 'POST', 'edit', { address: 'products/glod', value: { displayName: 'Glod' } });
  const again = await cli(emu, ['plan', '--policies', head, '--base', base, '--detailed-exitcode']);
  expect(again.stdout + again.stderr).not.toContain('missing-parent');
  expect(again.code).toBe(2);
}, 120_000);
