/**
 * Plan, apply and extract against a live instance, as users run them: the bundled CLI in its own
 * process, logging in with GitHub OIDC → Entra → ARM over HTTPS with the real SDKs, against the
 * emulator (in this process, so the tests can read its request log and play the portal).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSeededEmulator as startEmulator } from '../../src/cli/emulator-seed.js';
import type { RunningEmulator } from '../../src/emulator/server.js';
import { cliAgainst, targetFlags, armWrites } from '../helpers/emulator.js';
import { ROOT, runCliAsync, withoutProgress } from '../helpers/run.js';
import { edit, sampleCopy } from '../helpers/tree.js';

type LogEntry = { method: string; path: string; status: number; auth: string };
type State = { resources: Record<string, { value: unknown; etag: string }> };

function admin<T>(emu: RunningEmulator, path: string, body?: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const r = request(`${emu.ready.adminUrl}${path}`, { method: payload ? 'POST' : 'GET', ca: emu.caCert, headers: payload ? { 'content-type': 'application/json' } : {} }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(text) as T) : reject(new Error(`${path}: ${res.statusCode} ${text}`))));
    });
    r.on('error', reject);
    r.end(payload);
  });
}

const cli = cliAgainst;

const values = (s: State) => Object.fromEntries(Object.entries(s.resources).map(([k, v]) => [k, v.value]));
const writesIn = armWrites;
const armLog = async (emu: RunningEmulator) => (await admin<{ log: LogEntry[] }>(emu, 'requests')).log;

const CHAT = 'apis/chat/policies/policy';
const ORDERS = 'apis/orders/policies/policy';

let emu: RunningEmulator;
beforeEach(async () => {
  emu = await startEmulator({ seedDir: join(ROOT, 'policies') });
});
afterEach(async () => {
  await emu?.close();
});

test('the seeded sample against itself: no change; a portal edit shows as exactly that address; only bearer-authenticated ARM calls', async () => {
  const same = await cli(emu, ['plan', '--policies', 'policies', '--detailed-exitcode']);
  expect(withoutProgress(same.stderr)).toBe('');
  expect(same.code).toBe(0);
  expect(same.stdout).toMatch(/^No changes\. Live APIM matches the policies tree \(19 resources\)/);

  const chat = (await admin<State>(emu, 'state')).resources[CHAT]!.value as string;
  await admin(emu, 'edit', { address: CHAT, value: chat.replace('tokens-per-minute="20000"', 'tokens-per-minute="99999"') });
  const after = await cli(emu, ['plan', '--policies', 'policies', '--format', 'json', '--detailed-exitcode']);
  expect(after.code).toBe(2);
  const plan = JSON.parse(after.stdout) as { summary: Record<string, number>; changes: Array<{ address: string; action: string; diff?: string }> };
  const changed = plan.changes.filter((c) => c.action !== 'noop');
  expect(changed.map((c) => [c.address, c.action])).toEqual([[CHAT, 'update']]);
  expect(changed[0]!.diff).toContain('-        <azure-openai-token-limit');
  expect(changed[0]!.diff).toContain('99999');
  expect(plan.summary).toEqual({ create: 0, update: 1, delete: 0, unchanged: 18 });

  const { log, tokenRequests } = await admin<{ log: LogEntry[]; tokenRequests: Array<{ grantType: string; clientAssertionType: string; scope: string }> }>(emu, 'requests');
  const arm = log.filter((e) => /^\/subscriptions\//i.test(e.path));
  expect(arm.length).toBeGreaterThan(7);
  expect(arm.filter((e) => e.auth !== 'bearer' || e.status === 401)).toEqual([]);
  // Each of the two runs logs in once: one GitHub ID token (MSAL asks for the assertion more than
  // once; the token serves until it nears expiry) and one Entra token exchange.
  expect(log.filter((e) => e.path.startsWith('/github-oidc/'))).toHaveLength(2);
  expect(tokenRequests).toHaveLength(2);
  for (const t of tokenRequests) {
    expect(t.grantType).toBe('client_credentials');
    expect(t.clientAssertionType).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
  }
  // Content is read as rawxml, and the policy scopes are found through allPolicies, not by probing.
  expect(log.some((e) => /\/allPolicies$/i.test(e.path))).toBe(true);
  expect(log.some((e) => /\/apis$/i.test(e.path))).toBe(false);
});

test('a saved plan applied after a portal edit of the same resource is refused; the portal edit survives, nothing is written', async () => {
  const tree = sampleCopy();
  edit(tree, 'apis/orders/policy.xml', '<base />', '<base />\n        <set-header name="X-Plan" exists-action="override"><value>1</value></set-header>');
  const planFile = join(tree, '..', `${Date.now()}-plan.json`);
  const plan = await cli(emu, ['plan', '--policies', tree, '--out', planFile], { GITHUB_SHA: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678' });
  expect(plan.code).toBe(0);
  const saved = JSON.parse(readFileSync(planFile, 'utf8'));
  const orders = saved.changes.find((c: { address: string }) => c.address === ORDERS);
  expect(orders.action).toBe('update');
  expect(orders.live.etag).toMatch(/^".+"$/);
  expect(orders.live.sha256).toMatch(/^[0-9a-f]{64}$/);
  expect(saved.source).toMatchObject({ kind: 'azure', armEndpoint: emu.ready.armEndpoint, fingerprint: expect.stringMatching(/^[0-9a-f]{32}$/) });
  expect(saved.commit).toBe('a1b2c3d4e5f60718293a4b5c6d7e8f9012345678');

  const portal = (await admin<State>(emu, 'state')).resources[ORDERS]!.value as string;
  const hotfix = portal.replace('<base />', '<base />\r\n\t\t<set-header name="X-Hotfix" exists-action="override"><value>1</value></set-header>');
  await admin(emu, 'edit', { address: ORDERS, value: hotfix });
  const before = await admin<State>(emu, 'state');
  const logBefore = (await armLog(emu)).length;

  const apply = await cli(emu, ['apply', '--plan', planFile]);
  expect(apply.code).toBe(1);
  expect(apply.stderr).toContain(`${ORDERS} was changed live since the plan`);
  expect(apply.stderr).toContain('nothing was written');
  expect(writesIn((await armLog(emu)).slice(logBefore))).toEqual([]);
  expect(values(await admin<State>(emu, 'state'))).toEqual(values(before));
  expect(JSON.stringify((await admin<State>(emu, 'state')).resources[ORDERS]!.value)).toContain('X-Hotfix');
});

test('apply under 30% transient faults (429, 500, 503, resets) converges; a second apply writes nothing', async () => {
  const tree = sampleCopy();
  edit(tree, 'apis/orders/policy.xml', '<base />', '<base />\n        <set-header name="X-Faults" exists-action="override"><value>1</value></set-header>');
  edit(tree, 'policy fragments/correlation/policy.xml', '</fragment>', '    <set-variable name="faults" value="1" />\n</fragment>');
  edit(tree, 'products/integration/policy.xml', '<base />', '<base />\n        <set-header name="X-Product" exists-action="override"><value>1</value></set-header>');
  await admin(emu, 'faults', { errorRate: 0.3 });
  const apply = await cli(emu, ['apply', '--policies', tree]);
  expect(apply.stderr).not.toMatch(/error/i);
  expect(apply.code).toBe(0);
  expect(apply.stdout).toContain('Apply complete: 0 created, 3 updated, 0 deleted.');
  const log = await armLog(emu);
  expect(log.some((e) => [429, 500, 503, 0].includes(e.status))).toBe(true);

  await admin(emu, 'faults', {});
  const replan = await cli(emu, ['plan', '--policies', tree, '--detailed-exitcode']);
  expect(replan.code).toBe(0);
  const logBefore = (await armLog(emu)).length;
  const again = await cli(emu, ['apply', '--policies', tree]);
  expect(again.code).toBe(0);
  expect(again.stdout).toContain('Nothing to apply.');
  expect(writesIn((await armLog(emu)).slice(logBefore))).toEqual([]);
}, 120000);

test('a permanent failure part-way restores every resource the run wrote: live ends as it was', async () => {
  const tree = sampleCopy();
  edit(tree, 'policy fragments/correlation/policy.xml', '</fragment>', '    <set-variable name="run" value="2" />\n</fragment>');
  edit(tree, 'policy.xml', '</inbound>', '    <set-header name="X-Global" exists-action="override"><value>1</value></set-header>\n    </inbound>');
  edit(tree, 'apis/orders/policy.xml', '<base />', '<base />\n        <set-header name="X-Api" exists-action="override"><value>1</value></set-header>');
  edit(tree, 'apis/orders/operations/send-order/policy.xml', '<base />', '<base />\n        <set-header name="X-Op" exists-action="override"><value>1</value></set-header>');
  const before = await admin<State>(emu, 'state');
  await admin(emu, 'faults', { failWrites: { address: 'apis/orders/operations/send-order/policies/policy', status: 400, times: -1 } });
  const snapshotFile = join(tree, '..', `${Date.now()}-snapshot.json`);
  const apply = await cli(emu, ['apply', '--policies', tree, '--snapshot-file', snapshotFile]);
  expect(apply.code).toBe(1);
  expect(apply.stdout).toContain('Apply FAILED: PUT apis/orders/operations/send-order/policies/policy');
  for (const address of [ORDERS, 'policies/policy', 'policyFragments/correlation']) {
    expect(apply.stdout).toMatch(new RegExp(`restored ${address.replace(/\//g, '\\/')}: put back as it was`));
  }
  // Restored newest first: the API before the global policy before the fragment.
  const order = ['restored apis/orders', 'restored policies/policy', 'restored policyFragments/correlation'].map((s) => apply.stdout.indexOf(s));
  expect(order).toEqual([...order].sort((a, b) => a - b));
  expect(values(await admin<State>(emu, 'state'))).toEqual(values(before));
  const snapshot = JSON.parse(readFileSync(snapshotFile, 'utf8'));
  expect(snapshot.resources.map((r: { address: string }) => r.address).sort()).toEqual(
    ['apis/orders/operations/send-order/policies/policy', ORDERS, 'policies/policy', 'policyFragments/correlation'].sort(),
  );
  expect(snapshot.resources.every((r: { existed: boolean; xml?: string }) => r.existed && r.xml!.length > 0)).toBe(true);
});

test('a malformed tree writes nothing and makes no Azure call; the error names the file and line', async () => {
  const tree = sampleCopy();
  edit(tree, 'apis/chat/policy.xml', '</inbound>', '</inbnd>');
  const apply = await cli(emu, ['apply', '--policies', tree, '--allow-deletes']);
  expect(apply.code).toBe(1);
  expect(apply.stderr).toMatch(/apis\/chat\/policy\.xml:\d+:\d+: error: /);
  expect(apply.stderr).toContain('nothing was planned or written');
  expect(await armLog(emu)).toEqual([]);
});

test('deletes only with --allow-deletes; a plan made for another instance is refused', async () => {
  await admin(emu, 'edit', {
    address: 'apis/extra/policies/policy',
    value: '<policies><inbound><base /></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>',
  });
  const keep = await cli(emu, ['apply', '--policies', 'policies']);
  expect(keep.code).toBe(0);
  expect(keep.stdout).toContain('1 delete(s) in the plan were not applied (pass --allow-deletes): apis/extra/policies/policy');
  expect((await admin<State>(emu, 'state')).resources['apis/extra/policies/policy']).toBeDefined();

  const planFile = join(mkdtempSync(join(tmpdir(), 'apim-policy-plan-')), 'plan.json');
  expect((await cli(emu, ['plan', '--policies', 'policies', '--out', planFile])).code).toBe(0);
  const other = await runCliAsync(['apply', '--plan', planFile, ...targetFlags(emu).map((f) => (f === emu.ready.serviceName ? 'apim-other' : f))], { env: { ...emu.ready.env } });
  expect(other.code).toBe(1);
  expect(other.stderr).toContain(`this plan was made for ${JSON.parse(readFileSync(planFile, 'utf8')).source.serviceId}`);

  const del = await cli(emu, ['apply', '--plan', planFile, '--allow-deletes']);
  expect(del.code).toBe(0);
  expect(del.stdout).toContain('Apply complete: 0 created, 0 updated, 1 deleted.');
  expect((await admin<State>(emu, 'state')).resources['apis/extra/policies/policy']).toBeUndefined();
});

test('references: a missing fragment, named value or backend is a plan problem at file:line, and apply refuses the plan', async () => {
  const tree = sampleCopy();
  edit(
    tree,
    'apis/orders/policy.xml',
    '<base />',
    '<base />\n        <include-fragment fragment-id="no-such-fragment" />\n        <set-header name="X-Key" exists-action="override"><value>{{no-such-value}}</value></set-header>\n        <set-backend-service backend-id="no-such-backend" />',
  );
  const planFile = join(tree, '..', `${Date.now()}-refs.json`);
  const plan = await cli(emu, ['plan', '--policies', tree, '--out', planFile]);
  // Issue 13: a plan with errors exits 1 (it exited 0), and its closing line says so.
  expect(plan.code).toBe(1);
  expect(plan.stdout).toMatch(/^Plan: 0 to create, 1 to update, 0 to delete, \d+ unchanged; 3 errors stop it: apply would refuse it\.$/m);
  expect(plan.stdout).toMatch(/apis\/orders\/policy\.xml:\d+:\d+: error: include-fragment names fragment "no-such-fragment".*\[missing-fragment\]/);
  expect(plan.stdout).toMatch(/apis\/orders\/policy\.xml:\d+:\d+: error: named value "\{\{no-such-value\}\}" does not exist.*\[missing-named-value\]/);
  expect(plan.stdout).toMatch(/apis\/orders\/policy\.xml:\d+:\d+: error: backend-id "no-such-backend".*\[missing-backend\]/);
  // The sample's own references (fragment correlation, five named values) all resolve.
  expect(plan.stdout.match(/\[missing-/g)).toHaveLength(3);
  const logBefore = (await armLog(emu)).length;
  const apply = await cli(emu, ['apply', '--plan', planFile]);
  expect(apply.code).toBe(1);
  expect(apply.stderr).toContain('the plan has 3 problem(s) that stop it');
  expect(writesIn((await armLog(emu)).slice(logBefore))).toEqual([]);
});

test('extract writes the live instance as a tree that plans with no change', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'apim-policy-extract-')), 'tree');
  const extract = await cli(emu, ['extract', '--out', out]);
  expect(extract.code).toBe(0);
  expect(extract.stdout).toContain('Extracted 7 policies');
  expect(existsSync(join(out, 'policy fragments', 'correlation', 'policyFragmentInformation.json'))).toBe(true);
  const text = readFileSync(join(out, 'apis', 'chat', 'policy.xml'), 'utf8');
  expect(text).not.toContain('\r');
  expect(text).toContain('    <inbound>');
  const plan = await cli(emu, ['plan', '--policies', out, '--detailed-exitcode']);
  expect(plan.code).toBe(0);
  const again = await cli(emu, ['extract', '--out', out]);
  expect(again.code).toBe(1);
  expect(again.stderr).toContain('is not empty');
});

test('auth errors say what to do: no ID token → the permissions block; a subject mismatch → the subject and the command; a 403 → the role', async () => {
  const noToken = await runCliAsync(['plan', '--policies', 'policies', ...targetFlags(emu), '--auth', 'oidc'], {
    env: { NODE_EXTRA_CA_CERTS: emu.ready.env.NODE_EXTRA_CA_CERTS, ACTIONS_ID_TOKEN_REQUEST_URL: '', ACTIONS_ID_TOKEN_REQUEST_TOKEN: '' },
  });
  expect(noToken.code).toBe(1);
  expect(noToken.stderr).toContain('id-token: write');
  expect(await armLog(emu)).toEqual([]);

  emu.auth.setFederatedSubjects(['repo:octo-org/octo-repo:environment:production']);
  const mismatch = await cli(emu, ['plan', '--policies', 'policies']);
  expect(mismatch.code).toBe(1);
  expect(mismatch.stderr).toContain('found no federated credential on client');
  expect(mismatch.stderr).toContain('subject "repo:octo-org/octo-repo:pull_request"');
  expect(mismatch.stderr).toContain('az ad app federated-credential create');
  expect(mismatch.stderr).not.toMatch(/ey[A-Za-z0-9_-]{20,}\./);
  emu.auth.setFederatedSubjects(undefined);

  const missing = await runCliAsync(['plan', '--policies', 'policies', '--resource-group', 'rg'], { env: { AZURE_SUBSCRIPTION_ID: '' } });
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain('--subscription-id');
  expect(missing.stderr).toContain('--service-name');

  const tree = sampleCopy();
  edit(tree, 'apis/orders/policy.xml', '<base />', '<base />\n        <set-header name="X-403" exists-action="override"><value>1</value></set-header>');
  await admin(emu, 'faults', { failWrites: { address: ORDERS, status: 403, times: -1 } });
  const denied = await cli(emu, ['apply', '--policies', tree]);
  expect(denied.code).toBe(1);
  expect(denied.stdout).toContain('API Management Service Contributor');
  expect(denied.stdout).toContain('Nothing had been written.');
});

test('a PR-scoped plan reads only what the pull request changes (and the fragments it includes), and says it is scoped', async () => {
  const base = sampleCopy();
  const head = sampleCopy();
  edit(head, 'apis/orders/policy.xml', '<base />', '<base />\n        <set-header name="X-Scoped" exists-action="override"><value>1</value></set-header>');
  mkdirSync(join(head, 'apis/new-api'));
  writeFileSync(join(head, 'apis/new-api/policy.xml'), readFileSync(join(head, 'apis/orders/policy.xml'), 'utf8'));
  // The API exists live without a policy (ARM refuses a policy for an API it lacks).
  await admin(emu, 'edit', { address: 'apis/new-api', value: { displayName: 'new-api' } });
  rmSync(join(head, 'products/integration/policy.xml'));
  // Drift elsewhere, which a scoped plan does not look for.
  const chat = (await admin<State>(emu, 'state')).resources[CHAT]!.value as string;
  await admin(emu, 'edit', { address: CHAT, value: chat.replace('tokens-per-minute="20000"', 'tokens-per-minute="99999"') });

  const before = (await armLog(emu)).length;
  const r = await cli(emu, ['plan', '--policies', head, '--base', base, '--format', 'json']);
  expect(r.code).toBe(0);
  const plan = JSON.parse(r.stdout);
  const pending = plan.changes.filter((c: { action: string }) => c.action !== 'noop').map((c: { action: string; address: string }) => `${c.action} ${c.address}`);
  expect(pending.sort()).toEqual(['create apis/new-api/policies/policy', 'delete products/integration/policies/policy', 'update apis/orders/policies/policy']);
  expect(plan.scoped).toEqual({ base, read: expect.any(Number), identity: false });
  // Only the changed policies and the fragments they include were read: no list of every policy, no chat policy.
  const reads = (await armLog(emu)).slice(before).filter((e) => e.method === 'GET' && /\/(policies\/policy|policyFragments\/[^/]+)$/i.test(e.path.split('?')[0]!));
  expect(reads.length).toBe(plan.scoped.read);
  expect(reads.length).toBeLessThanOrEqual(5);
  expect((await armLog(emu)).slice(before).some((e) => /allPolicies|\/apis\/chat\//i.test(e.path))).toBe(false);

  const text = await cli(emu, ['plan', '--policies', head, '--base', base]);
  expect(text.stdout).toMatch(/Scoped plan: only the \d+ resource\(s\) that differ from .* were read; drift elsewhere is not looked for/);
  const full = await cli(emu, ['plan', '--policies', head, '--format', 'json']);
  expect(JSON.parse(full.stdout).changes.some((c: { address: string; action: string }) => c.address === CHAT && c.action === 'update')).toBe(true);
}, 60000);
