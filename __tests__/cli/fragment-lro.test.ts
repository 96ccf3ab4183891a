/**
 * A fragment PUT is a long-running operation (issue 15 item 5; spec `PolicyFragment_CreateOrUpdate`):
 * the emulator answers 201/200 with `provisioningState: InProgress` and the LRO headers, and stores
 * the fragment only when a poll completes the operation. The bundled CLI applies fragment creates
 * and updates through the SDK's poller (which re-sends If-Match on the polls and the final GET) and
 * records the ETag of what the operation left; a Failed operation is a clear error, and apply
 * restores what it had written.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSeededEmulator as startEmulator } from '../../src/cli/emulator-seed.js';
import type { RunningEmulator } from '../../src/emulator/server.js';
import { admin, cliAgainst as cli } from '../helpers/emulator.js';
import { makeTree, policy } from '../helpers/tree.js';

type State = { resources: Record<string, { value: string; etag: string; description?: string }> };
type Log = Array<{ method: string; path: string; status: number }>;

const fragment = (name: string) => `<fragment>\n    <set-header name="${name}" exists-action="override">\n        <value>1</value>\n    </set-header>\n</fragment>\n`;
const LIVE = {
  'policy.xml': policy(),
  'apis/orders/policy.xml': policy(),
  'policy fragments/correlation/policy.xml': fragment('X-Correlation'),
};

let emu: RunningEmulator;
beforeEach(async () => {
  emu = await startEmulator({ seedDir: makeTree(LIVE) });
});
afterEach(async () => {
  await emu?.close();
});

const state = async () => (await admin(emu, 'GET', 'state')) as State;
const log = async () => (await admin(emu, 'GET', 'requests')).log as Log;

test('fragment create and update go through the LRO: polled to Succeeded, the ETag recorded is the final one, re-plan has no changes', async () => {
  const tree = makeTree({
    ...LIVE,
    'policy fragments/correlation/policy.xml': fragment('X-Correlation-2'),
    'policy fragments/tracing/policy.xml': fragment('X-Trace'),
    'policy fragments/tracing/policyFragmentInformation.json': JSON.stringify({ properties: { description: 'Trace header' } }),
  });
  const planFile = join(tree, '..', `${Date.now()}-lro-plan.json`);
  const snapshotFile = join(tree, '..', `${Date.now()}-lro-snapshot.json`);
  const plan = await cli(emu, ['plan', '--policies', tree, '--out', planFile]);
  expect(plan.code).toBe(0);
  const before = await state();

  const apply = await cli(emu, ['apply', '--plan', planFile, '--snapshot-file', snapshotFile]);
  expect(apply.stderr).not.toMatch(/error/i);
  expect(apply.code).toBe(0);
  expect(apply.stdout).toContain('Apply complete: 1 created, 1 updated, 0 deleted.');

  const after = await state();
  expect(after.resources['policyFragments/tracing']!.value).toContain('X-Trace');
  expect(after.resources['policyFragments/tracing']!.description).toBe('Trace header');
  expect(after.resources['policyFragments/correlation']!.value).toContain('X-Correlation-2');
  expect(after.resources['policyFragments/correlation']!.etag).not.toBe(before.resources['policyFragments/correlation']!.etag);

  // Each write was accepted (201 new, 200 update), polled at its operation, then read back.
  const requests = await log();
  const puts = requests.filter((e) => e.method === 'PUT' && /policyFragments\//i.test(e.path));
  expect(puts.map((e) => `${e.path.split('/').pop()} ${e.status}`).sort()).toEqual(['correlation 200', 'tracing 201']);
  expect(requests.filter((e) => e.method === 'GET' && /\/tenant\/operationResults\//i.test(e.path) && e.status === 200).length).toBeGreaterThanOrEqual(4);

  // The snapshot records, for each write, the ETag ARM gave for what the operation left: the live one now.
  const snapshot = JSON.parse(readFileSync(snapshotFile, 'utf8')) as { resources: Array<{ address: string; after?: { existed: boolean; etag?: string } }> };
  for (const address of ['policyFragments/tracing', 'policyFragments/correlation']) {
    const entry = snapshot.resources.find((r) => r.address === address)!;
    expect(entry.after).toEqual({ existed: true, etag: after.resources[address]!.etag });
  }

  const again = await cli(emu, ['plan', '--policies', tree, '--detailed-exitcode']);
  expect(again.code).toBe(0);
  expect(again.stdout).toMatch(/^No changes\./);
}, 120_000);

test('a fragment operation that ends Failed: a clear error naming the fragment, nothing of it stored, the rest of the run restored', async () => {
  // Two fragment writes at one level (concurrent): the first operation accepted ends Failed, the other succeeds and is restored.
  const tree = makeTree({
    ...LIVE,
    'policy fragments/correlation/policy.xml': fragment('X-Correlation-2'),
    'policy fragments/tracing/policy.xml': fragment('X-Trace'),
  });
  const planFile = join(tree, '..', `${Date.now()}-lro-fail-plan.json`);
  expect((await cli(emu, ['plan', '--policies', tree, '--out', planFile])).code).toBe(0);
  const before = await state();
  await admin(emu, 'POST', 'faults', { fragmentLroFail: 1 });

  const apply = await cli(emu, ['apply', '--plan', planFile]);
  const out = apply.stdout + apply.stderr;
  expect(apply.code).toBe(1);
  expect(out).toMatch(
    /PUT policyFragments\/(tracing|correlation): ARM accepted the write but its long-running operation ended Failed: InternalServerError\. Provisioning of policy fragment '(tracing|correlation)' failed/,
  );
  expect(out).toMatch(/restored policyFragments\/(tracing|correlation)/);
  const end = await state();
  expect(end.resources['policyFragments/tracing']).toBeUndefined();
  expect(end.resources['policyFragments/correlation']!.value).toEqual(before.resources['policyFragments/correlation']!.value);
  expect(end.resources['apis/orders/policies/policy']).toEqual(before.resources['apis/orders/policies/policy']);
}, 120_000);

test('DELETE of a fragment or policy sends If-Match (the emulator refuses one without: 400)', async () => {
  const tree = makeTree({ 'policy.xml': policy() });
  const apply = await cli(emu, ['apply', '--policies', tree, '--allow-deletes']);
  expect(apply.code).toBe(0);
  expect(apply.stdout).toContain('Apply complete: 0 created, 0 updated, 2 deleted.');
  const deletes = (await log()).filter((e) => e.method === 'DELETE');
  expect(deletes.map((e) => `${e.path.replace(/^.*\/service\/[^/]+\//, '')} ${e.status}`).sort()).toEqual(['apis/orders/policies/policy 200', 'policyFragments/correlation 200']);
}, 120_000);
