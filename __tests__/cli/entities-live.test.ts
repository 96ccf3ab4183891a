/**
 * Named values and backends as code, end to end (issue 16, "Done when"): the bundled CLI plans and
 * applies them against the emulator over HTTPS with the real SDKs. Create, update and delete with
 * a clean re-plan; a secret from the environment planned and applied without its value in any
 * output; a changed secret planned as an update; per-environment overrides; a policy and the named
 * value it needs in one change; a referenced value guarded from deletion.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startSeededEmulator as startEmulator } from '../../src/cli/emulator-seed.js';
import type { RunningEmulator } from '../../src/emulator/server.js';
import { admin, cliAgainst as cli } from '../helpers/emulator.js';
import { makeTree, policy } from '../helpers/tree.js';

type Stored = { resources: Record<string, { value: unknown; etag: string }> };

const SECRET = 'Live-Secret-4f1d0c9e';
const ROTATED = 'Rotated-Secret-77b2a1';

const info = (properties: Record<string, unknown>) => JSON.stringify({ properties }, null, 2) + '\n';
const usesBackend = policy('<base />\n        <set-backend-service backend-id="orders" />\n        <set-header name="X-Tenant" exists-action="override"><value>{{tenant}}</value></set-header>');

const LIVE = {
  'policy.xml': policy(),
  'apis/orders/apiInformation.json': JSON.stringify({ properties: { displayName: 'Orders', path: 'orders' } }),
  'named values/tenant/namedValueInformation.json': info({ displayName: 'tenant', value: 'contoso' }),
  'named values/orders-key/namedValueInformation.json': info({ displayName: 'orders-key', value: SECRET, secret: true }),
  'named values/unused/namedValueInformation.json': info({ displayName: 'unused', value: 'x' }),
  'backends/legacy/backendInformation.json': info({ url: 'https://legacy.example', protocol: 'http' }),
};

/** The live tree as a desired tree: the same, without the API's information file (the tree has no policy for it). */
const withoutApi = Object.fromEntries(Object.entries(LIVE).filter(([k]) => k !== 'apis/orders/apiInformation.json'));

let emu: RunningEmulator;
beforeEach(async () => {
  emu = await startEmulator({ seedDir: makeTree(LIVE) });
});
afterEach(async () => {
  await emu?.close();
});

const stored = async (address: string) => ((await admin(emu, 'GET', 'state')) as Stored).resources[address]?.value as Record<string, unknown> | undefined;

/** Every file under a folder, as text (plan, snapshot, comment). */
const filesUnder = (dir: string): string =>
  readdirSync(dir, { withFileTypes: true })
    .map((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : readFileSync(join(dir, e.name), 'utf8')))
    .join('\n');

test('create, update and delete named values and backends; a policy and the backend and value it uses in one change; re-plan clean; the secret in no output', async () => {
  const tree = makeTree({
    'policy.xml': policy(),
    'apis/orders/policy.xml': usesBackend,
    'named values/tenant/namedValueInformation.json': info({ displayName: 'tenant', value: 'fabrikam' }),
    'named values/orders-key/namedValueInformation.json': info({ displayName: 'orders-key', value: '{#ORDERS_KEY#}', secret: true }),
    'backends/orders/backendInformation.json': info({ url: 'https://orders.example/api', protocol: 'http', description: 'Orders service' }),
  });
  const out = join(tree, '..', `out-${Date.now()}`);
  const env = { ORDERS_KEY: ROTATED };
  const plan = await cli(emu, ['plan', '--policies', tree, '--out', join(out, 'plan.json'), '--format', 'markdown'], env);
  expect(plan.stderr).not.toMatch(/error/i);
  expect(plan.code).toBe(0);
  for (const line of ['namedValues/tenant', 'namedValues/orders-key', 'backends/orders', 'apis/orders/policies/policy', 'namedValues/unused', 'backends/legacy']) expect(plan.stdout).toContain(line);
  expect(plan.stdout).toContain('secret value changed');
  const json = JSON.parse(readFileSync(join(out, 'plan.json'), 'utf8')) as { changes: Array<{ address: string; action: string }> };
  expect(json.changes.filter((c) => c.action !== 'noop').map((c) => `${c.action} ${c.address}`)).toEqual([
    'update namedValues/orders-key',
    'update namedValues/tenant',
    'create backends/orders',
    'create apis/orders/policies/policy',
    'delete backends/legacy',
    'delete namedValues/unused',
  ]);

  const apply = await cli(emu, ['apply', '--plan', join(out, 'plan.json'), '--snapshot-file', join(out, 'snapshot.json'), '--allow-deletes'], env);
  expect(apply.stderr).not.toMatch(/error/i);
  expect(apply.code).toBe(0);
  expect(await stored('namedValues/orders-key')).toMatchObject({ value: ROTATED, secret: true });
  expect(await stored('namedValues/tenant')).toMatchObject({ value: 'fabrikam' });
  expect(await stored('backends/orders')).toMatchObject({ url: 'https://orders.example/api' });
  expect(await stored('backends/legacy')).toBeUndefined();
  expect(await stored('namedValues/unused')).toBeUndefined();

  const again = await cli(emu, ['plan', '--policies', tree, '--detailed-exitcode'], env);
  expect(again.code).toBe(0);
  expect(again.stdout).toMatch(/^No changes\./);

  for (const text of [plan.stdout, plan.stderr, apply.stdout, apply.stderr, again.stdout, again.stderr, filesUnder(out)]) {
    expect(text).not.toContain(ROTATED);
    expect(text).not.toContain(SECRET);
  }
}, 180_000);

test('a secret rotated in the environment is an update; without its variable the plan names the token and file and writes nothing', async () => {
  const tree = makeTree({
    ...withoutApi,
    'named values/orders-key/namedValueInformation.json': info({ displayName: 'orders-key', value: '{#ORDERS_KEY#}', secret: true }),
  });
  const same = await cli(emu, ['plan', '--policies', tree, '--detailed-exitcode'], { ORDERS_KEY: SECRET });
  expect(same.stdout).toMatch(/^No changes\./);
  expect(same.code).toBe(0);

  const rotated = await cli(emu, ['plan', '--policies', tree, '--detailed-exitcode'], { ORDERS_KEY: ROTATED });
  expect(rotated.code).toBe(2);
  expect(rotated.stdout).toContain('namedValues/orders-key');
  expect(rotated.stdout).toContain('secret value changed');
  expect(rotated.stdout + rotated.stderr).not.toContain(ROTATED);

  const missing = await cli(emu, ['plan', '--policies', tree], {});
  expect(missing.code).toBe(1);
  expect(missing.stdout + missing.stderr).toMatch(/ORDERS_KEY/);
  expect(missing.stdout + missing.stderr).toContain('named values/orders-key/namedValueInformation.json');
}, 120_000);

test('configuration.<env>.yaml overrides a value for one environment', async () => {
  const tree = makeTree({
    ...withoutApi,
    'named values/orders-key/namedValueInformation.json': info({ displayName: 'orders-key', value: '{#ORDERS_KEY#}', secret: true }),
    'configuration.prod.yaml': 'namedValues:\n  - name: tenant\n    properties:\n      value: contoso-prod\n',
  });
  const env = { ORDERS_KEY: SECRET };
  const dev = await cli(emu, ['plan', '--policies', tree, '--detailed-exitcode'], env);
  expect(dev.stdout).toMatch(/^No changes\./);
  const prod = await cli(emu, ['plan', '--policies', tree, '--environment', 'prod', '--detailed-exitcode'], env);
  expect(prod.code).toBe(2);
  expect(prod.stdout).toContain('+  "value": "contoso-prod"');
}, 120_000);

test('a named value a remaining policy uses is not deleted: the plan names who uses it', async () => {
  const tree = makeTree({
    'policy.xml': policy('<base />\n        <set-header name="X-Tenant" exists-action="override"><value>{{tenant}}</value></set-header>'),
    'apis/orders/apiInformation.json': LIVE['apis/orders/apiInformation.json'],
    'named values/orders-key/namedValueInformation.json': info({ displayName: 'orders-key', value: '{#ORDERS_KEY#}', secret: true }),
    'named values/unused/namedValueInformation.json': LIVE['named values/unused/namedValueInformation.json'],
  });
  const plan = await cli(emu, ['plan', '--policies', tree], { ORDERS_KEY: SECRET });
  expect(plan.code).toBe(1);
  expect(plan.stdout + plan.stderr).toMatch(/deletes named value namedValues\/tenant, but after apply policies\/policy \([^)]*policy\.xml line \d+\) still uses it/);
}, 120_000);
