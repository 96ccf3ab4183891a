/**
 * Workspace named values and backends as code, end to end: the bundled CLI plans and applies
 * `workspaces/<w>/named values/…` and `workspaces/<w>/backends/…` against the emulator's workspace
 * routes (WorkspaceNamedValue_*, WorkspaceBackend_*) over HTTPS with the real SDKs. Create, update
 * and delete (with --allow-deletes) next to the workspace API's policy that uses them, a clean
 * re-plan, a service-level named value of the same name left alone, and a secret workspace named
 * value from `{#TOKEN#}` whose value is in no output.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startSeededEmulator as startEmulator } from '../../src/cli/emulator-seed.js';
import type { RunningEmulator } from '../../src/emulator/server.js';
import { admin, cliAgainst as cli } from '../helpers/emulator.js';
import { makeTree, policy } from '../helpers/tree.js';

type Stored = { resources: Record<string, { value: unknown; etag: string }> };

const SECRET = 'Ws-Secret-9c3e51a7';
const WS = 'workspaces/team-a';

const info = (properties: Record<string, unknown>) => JSON.stringify({ properties }, null, 2) + '\n';
const usesEntities = policy('<base />\n        <set-backend-service backend-id="orders" />\n        <set-header name="X-Region" exists-action="override"><value>{{region}}</value></set-header>');

const LIVE = {
  'policy.xml': policy(),
  // A service-level named value with the workspace one's name: a different entity, not touched.
  'named values/region/namedValueInformation.json': info({ displayName: 'region', value: 'service-region' }),
  [`${WS}/workspaceInformation.json`]: info({ displayName: 'Team A' }),
  [`${WS}/apis/orders/apiInformation.json`]: info({ displayName: 'Orders', path: 'orders' }),
  [`${WS}/apis/orders/policy.xml`]: policy(),
  [`${WS}/named values/region/namedValueInformation.json`]: info({ displayName: 'region', value: 'eu' }),
  [`${WS}/named values/unused/namedValueInformation.json`]: info({ displayName: 'unused', value: 'x' }),
  [`${WS}/backends/legacy/backendInformation.json`]: info({ url: 'https://legacy.example', protocol: 'http' }),
};

let emu: RunningEmulator;
beforeEach(async () => {
  emu = await startEmulator({ seedDir: makeTree(LIVE) });
});
afterEach(async () => {
  await emu?.close();
});

const state = async () => ((await admin(emu, 'GET', 'state')) as Stored).resources;
const stored = async (address: string) => (await state())[address]?.value as Record<string, unknown> | undefined;

/** Every file under a folder, as text (plan, snapshot). */
const filesUnder = (dir: string): string =>
  readdirSync(dir, { withFileTypes: true })
    .map((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : readFileSync(join(dir, e.name), 'utf8')))
    .join('\n');

test('a workspace named value and backend created, updated and deleted with the workspace policy that uses them; re-plan clean; the secret in no output', async () => {
  const tree = makeTree({
    'policy.xml': policy(),
    'named values/region/namedValueInformation.json': LIVE['named values/region/namedValueInformation.json'],
    [`${WS}/workspaceInformation.json`]: LIVE[`${WS}/workspaceInformation.json`],
    [`${WS}/apis/orders/policy.xml`]: usesEntities,
    [`${WS}/named values/region/namedValueInformation.json`]: info({ displayName: 'region', value: 'us' }),
    [`${WS}/named values/ws-key/namedValueInformation.json`]: info({ displayName: 'ws-key', value: '{#WS_KEY#}', secret: true }),
    [`${WS}/backends/orders/backendInformation.json`]: info({ url: 'https://orders.team-a.example/api', protocol: 'http' }),
  });
  const out = join(tree, '..', `out-ws-${Date.now()}`);
  const env = { WS_KEY: SECRET };
  const plan = await cli(emu, ['plan', '--policies', tree, '--out', join(out, 'plan.json')], env);
  expect(plan.stderr).not.toMatch(/error/i);
  expect(plan.code).toBe(0);
  const json = JSON.parse(readFileSync(join(out, 'plan.json'), 'utf8')) as { changes: Array<{ address: string; action: string }> };
  expect(
    json.changes
      .filter((c) => c.action !== 'noop')
      .map((c) => `${c.action} ${c.address}`)
      .sort(),
  ).toEqual([
    `create ${WS}/backends/orders`,
    `create ${WS}/namedValues/ws-key`,
    `delete ${WS}/backends/legacy`,
    `delete ${WS}/namedValues/unused`,
    `update ${WS}/apis/orders/policies/policy`,
    `update ${WS}/namedValues/region`,
  ]);
  for (const address of [`${WS}/namedValues/region`, `${WS}/namedValues/ws-key`, `${WS}/backends/orders`, `${WS}/backends/legacy`, `${WS}/namedValues/unused`]) expect(plan.stdout).toContain(address);

  // Without --allow-deletes the apply writes everything but the deletes, and says so.
  const first = await cli(emu, ['apply', '--plan', join(out, 'plan.json'), '--snapshot-file', join(out, 'snapshot-1.json')], env);
  expect(first.stderr).not.toMatch(/error/i);
  expect(first.code).toBe(0);
  expect(first.stdout).toContain('Apply complete: 2 created, 2 updated, 0 deleted.');
  expect(first.stdout).toContain(`2 delete(s) in the plan were not applied (pass --allow-deletes): ${WS}/backends/legacy, ${WS}/namedValues/unused`);
  expect(await stored(`${WS}/backends/legacy`)).toBeDefined();
  expect(await stored(`${WS}/namedValues/unused`)).toBeDefined();

  // A fresh plan has only the deletes left; applied with --allow-deletes.
  const rest = await cli(emu, ['plan', '--policies', tree, '--out', join(out, 'plan-2.json')], env);
  expect(rest.code).toBe(0);
  const restJson = JSON.parse(readFileSync(join(out, 'plan-2.json'), 'utf8')) as { changes: Array<{ address: string; action: string }> };
  expect(restJson.changes.filter((c) => c.action !== 'noop').map((c) => `${c.action} ${c.address}`)).toEqual([`delete ${WS}/backends/legacy`, `delete ${WS}/namedValues/unused`]);
  const apply = await cli(emu, ['apply', '--plan', join(out, 'plan-2.json'), '--snapshot-file', join(out, 'snapshot-2.json'), '--allow-deletes'], env);
  expect(apply.stderr).not.toMatch(/error/i);
  expect(apply.code).toBe(0);
  expect(apply.stdout).toContain('Apply complete: 0 created, 0 updated, 2 deleted.');
  expect(await stored(`${WS}/namedValues/region`)).toMatchObject({ value: 'us' });
  expect(await stored(`${WS}/namedValues/ws-key`)).toMatchObject({ value: SECRET, secret: true });
  expect(await stored(`${WS}/backends/orders`)).toMatchObject({ url: 'https://orders.team-a.example/api', protocol: 'http' });
  expect(await stored(`${WS}/backends/legacy`)).toBeUndefined();
  expect(await stored(`${WS}/namedValues/unused`)).toBeUndefined();
  expect(JSON.stringify(await stored(`${WS}/apis/orders/policies/policy`))).toContain('backend-id=\\"orders\\"');
  // The service-level named value of the same name is another entity: unchanged.
  expect(await stored('namedValues/region')).toMatchObject({ value: 'service-region' });
  expect(await stored('namedValues/ws-key')).toBeUndefined();

  const again = await cli(emu, ['plan', '--policies', tree, '--detailed-exitcode'], env);
  expect(again.stderr).not.toMatch(/error/i);
  expect(again.code).toBe(0);
  expect(again.stdout).toMatch(/^No changes\./);

  for (const text of [plan.stdout, plan.stderr, first.stdout, first.stderr, rest.stdout, rest.stderr, apply.stdout, apply.stderr, again.stdout, again.stderr, filesUnder(out)])
    expect(text).not.toContain(SECRET);
}, 240_000);

test('a named value or backend in a workspace the instance does not have is a plan error at its file (ARM would answer 404); apply writes nothing', async () => {
  const tree = makeTree({
    'policy.xml': policy(),
    'named values/region/namedValueInformation.json': LIVE['named values/region/namedValueInformation.json'],
    'named values/extra/namedValueInformation.json': info({ displayName: 'extra', value: 'e' }),
    [`${WS}/workspaceInformation.json`]: LIVE[`${WS}/workspaceInformation.json`],
    [`${WS}/named values/region/namedValueInformation.json`]: LIVE[`${WS}/named values/region/namedValueInformation.json`],
    [`${WS}/named values/unused/namedValueInformation.json`]: LIVE[`${WS}/named values/unused/namedValueInformation.json`],
    [`${WS}/backends/legacy/backendInformation.json`]: LIVE[`${WS}/backends/legacy/backendInformation.json`],
    'workspaces/team-b/named values/x/namedValueInformation.json': info({ displayName: 'x', value: 'v' }),
    'workspaces/team-b/backends/b/backendInformation.json': info({ url: 'https://b.example', protocol: 'http' }),
  });
  const plan = await cli(emu, ['plan', '--policies', tree]);
  expect(plan.code).toBe(1);
  const text = plan.stdout + plan.stderr;
  for (const file of ['workspaces/team-b/named values/x/namedValueInformation.json', 'workspaces/team-b/backends/b/backendInformation.json']) expect(text).toContain(file);
  expect(text).toMatch(/workspace `team-b` does not exist in `[^`]+`, so ARM refuses this named value \(404\) — did you mean `team-a`\?/);
  expect(text).toMatch(/workspace `team-b` does not exist in `[^`]+`, so ARM refuses this backend \(404\)/);

  const before = await state();
  const apply = await cli(emu, ['apply', '--policies', tree, '--allow-deletes']);
  expect(apply.code).toBe(1);
  // Not even the service-level named value that could have been created.
  expect(await state()).toEqual(before);
}, 120_000);

test("a PR-scoped plan (--base) that changes only a workspace named value reads that workspace's entities: an update, not a create", async () => {
  const base = makeTree(LIVE);
  const head = makeTree({ ...LIVE, [`${WS}/named values/region/namedValueInformation.json`]: info({ displayName: 'region', value: 'us' }) });
  const out = join(head, '..', `scoped-${Date.now()}.json`);
  const plan = await cli(emu, ['plan', '--policies', head, '--base', base, '--out', out]);
  expect(plan.stderr).not.toMatch(/error/i);
  expect(plan.code).toBe(0);
  const json = JSON.parse(readFileSync(out, 'utf8')) as { changes: Array<{ address: string; action: string }> };
  expect(json.changes.filter((c) => c.action !== 'noop').map((c) => `${c.action} ${c.address}`)).toEqual([`update ${WS}/namedValues/region`]);
}, 120_000);
