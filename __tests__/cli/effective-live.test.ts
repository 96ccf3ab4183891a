/**
 * Issue 16: `apim-policy effective --live` composes what the instance runs, through the bundled CLI
 * over HTTPS against the emulator seeded with the sample tree: the same composition as the offline
 * path (so the two agree while live matches the tree), read with only the chain's policies and the
 * fragments they include, and a clear error for an API, operation or fragment the instance lacks.
 */
import { join } from 'node:path';
import { startSeededEmulator as startEmulator } from '../../src/cli/emulator-seed.js';
import type { RunningEmulator } from '../../src/emulator/server.js';
import { admin, cliAgainst as cli } from '../helpers/emulator.js';
import { ROOT, runCli, withoutProgress } from '../helpers/run.js';

type LogEntry = { method: string; path: string; status: number };

let emu: RunningEmulator;
beforeEach(async () => {
  emu = await startEmulator({ seedDir: join(ROOT, 'policies') });
});
afterEach(async () => {
  await emu?.close();
});

const armLog = async (): Promise<LogEntry[]> => ((await admin(emu, 'GET', 'requests')) as { log: LogEntry[] }).log.filter((e) => /^\/subscriptions\//i.test(e.path));
const serviceRelative = (path: string) => path.replace(/^.*\/providers\/Microsoft\.ApiManagement\/service\/[^/]+\/?/i, '');

test('live and offline agree on the sample tree (with and without the product), and the live read is only the chain and its fragment', async () => {
  for (const extra of [[], ['--product', 'integration']]) {
    const args = ['effective', 'apis/orders/operations/send-order', ...extra];
    const offline = runCli([...args, '--policies', 'policies']);
    expect(offline.stderr).toBe('');
    expect(offline.code).toBe(0);
    const before = (await armLog()).length;
    const live = await cli(emu, [...args, '--live']);
    expect(withoutProgress(live.stderr)).toBe('');
    expect(live.code).toBe(0);
    expect(live.stdout).toBe(offline.stdout);
    expect(live.stdout).toContain('<!-- from policyFragments/correlation -->');
    // Only the levels and the fragment were read, never the whole instance.
    const reads = (await armLog()).slice(before).filter((e) => e.method === 'GET' && /\/(policies\/policy|policyFragments\/[^/]+)$/i.test(e.path));
    const levels = ['policies/policy', ...(extra.length ? ['products/integration/policies/policy'] : []), 'apis/orders/policies/policy', 'apis/orders/operations/send-order/policies/policy'];
    expect([...new Set(reads.map((e) => serviceRelative(e.path)))].sort()).toEqual([...levels, 'policyFragments/correlation'].sort());
    expect((await armLog()).slice(before).some((e) => /\/allPolicies$/i.test(e.path))).toBe(false);
  }
}, 90000);

test('--live composes the live side: a fragment edited live shows in the live output, not in the offline one', async () => {
  const fragment = `<fragment>\n    <set-header name="X-Live-Only" exists-action="override">\n        <value>from-live</value>\n    </set-header>\n</fragment>`;
  await admin(emu, 'POST', 'edit', { address: 'policyFragments/correlation', value: fragment });
  const live = await cli(emu, ['effective', 'apis/orders', '--live']);
  expect(live.code).toBe(0);
  expect(live.stdout).toMatch(/<!-- from policyFragments\/correlation -->\s*<set-header name="X-Live-Only" exists-action="override">/);
  expect(live.stdout).not.toContain('<trace source="correlation"');
  const offline = runCli(['effective', 'apis/orders', '--policies', 'policies']);
  expect(offline.stdout).not.toContain('X-Live-Only');
}, 60000);

test('--live names what the instance lacks: an operation, an API, a fragment; and refuses an address with no API', async () => {
  const op = await cli(emu, ['effective', 'apis/orders/operations/cancel-order', '--live']);
  expect(op.code).toBe(2);
  expect(op.stdout).toBe('');
  expect(op.stderr).toMatch(/has no operation "cancel-order" \(apis\/orders\/operations\/cancel-order\)/);

  const api = await cli(emu, ['effective', 'apis/ordrs', '--live']);
  expect(api.code).toBe(2);
  expect(api.stderr).toMatch(/has no api "ordrs" \(apis\/ordrs\)/);

  await admin(emu, 'POST', 'edit', { address: 'policyFragments/correlation', delete: true });
  const fragment = await cli(emu, ['effective', 'apis/orders/operations/send-order', '--live']);
  expect(fragment.code).toBe(2);
  expect(fragment.stdout).toBe('');
  expect(fragment.stderr).toMatch(/live apis\/orders\/policies\/policy \(line \d+\) includes fragment "correlation", which the instance \S+ does not have \(policyFragments\/correlation\)/);

  const noApi = await cli(emu, ['effective', 'products/integration', '--live']);
  expect(noApi.code).toBe(2);
  expect(noApi.stderr).toContain('"products/integration" names no API');
}, 90000);

test('effective takes one source: --policies or --live, the target flags only with --live', () => {
  const both = runCli(['effective', 'apis/orders', '--policies', 'policies', '--live', '--service-name', 's', '--resource-group', 'rg']);
  expect(both.code).toBe(2);
  expect(both.stderr).toContain('give either --policies <dir> (compose the tree) or --live (compose the instance), not both');
  const none = runCli(['effective', 'apis/orders']);
  expect(none.code).toBe(2);
  expect(none.stderr).toContain('give one');
  const stray = runCli(['effective', 'apis/orders', '--policies', 'policies', '--service-name', 's']);
  expect(stray.code).toBe(2);
  expect(stray.stderr).toContain('the Azure target flags go with --live');
});
