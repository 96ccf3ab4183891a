/**
 * Key Vault-backed named values end to end (issue 16, "Key Vault access checked with and without
 * the role"): the bundled CLI against the emulator, whose named value routes read a Key Vault
 * reference when it is stored and record the outcome in `keyVault.lastStatus` — succeeding only
 * when the fetching identity is attached and holds a Key Vault data role on the vault.
 *
 * The sample tree's `logic-callback-sig` reads `https://kv-apim-demo.vault.azure.net/secrets/…`
 * with the system identity, whose Key Vault Secrets User role on kv-apim-demo is in its
 * identity.yaml; the live instance (demo/live-snapshot) has its identities off and no such value.
 */
import { join } from 'node:path';
import { startSeededEmulator as startEmulator } from '../../src/cli/emulator-seed.js';
import type { RunningEmulator } from '../../src/emulator/server.js';
import { admin, armWrites, cliAgainst as cli } from '../helpers/emulator.js';
import { ROOT, runCliAsync } from '../helpers/run.js';
import { edit, makeTree, policy, sampleCopy } from '../helpers/tree.js';

type Stored = { resources: Record<string, { value: unknown; etag: string }> };
const VAULT = '/subscriptions/00000000-0000-4000-8000-00000000a001/resourceGroups/rg-apim-demo/providers/Microsoft.KeyVault/vaults/kv-apim-demo';
const KV_ROLE = `  - identity: system            # named values/logic-callback-sig reads its secret from this vault\n    role: Key Vault Secrets User\n    scope: ${VAULT}\n`;

let emu: RunningEmulator;
afterEach(async () => {
  await emu?.close();
});

const log = async () => (await admin(emu, 'GET', 'requests')).log as Array<{ method: string; path: string }>;
const stored = async (address: string) => ((await admin(emu, 'GET', 'state')) as Stored).resources[address]?.value as { keyVault?: { lastStatus?: { code?: string } } } | undefined;

test('without the role the plan stops with key-vault-access, naming the value, the vault and the assignment to add; apply writes nothing', async () => {
  emu = await startEmulator({ seedDir: join(ROOT, 'demo', 'live-snapshot') });
  const tree = sampleCopy();
  edit(tree, 'identity.yaml', KV_ROLE, '');
  const lint = await runCliAsync(['lint', '--policies', tree]);
  const plan = await cli(emu, ['plan', '--policies', tree]);
  for (const run of [lint, plan]) {
    expect(run.code).toBe(1);
    expect(run.stdout + run.stderr).toMatch(
      /named values\/logic-callback-sig\/namedValueInformation\.json:\d+:1: error: named value logic-callback-sig reads https:\/\/kv-apim-demo\.vault\.azure\.net\/secrets\/logic-callback-sig: .*Key Vault Secrets User.*kv-apim-demo.*\[key-vault-access\]/,
    );
  }
  const before = (await log()).length;
  const apply = await cli(emu, ['apply', '--policies', tree, '--allow-deletes']);
  expect(apply.code).toBe(1);
  expect(armWrites((await log()).slice(before))).toEqual([]);
  expect(await stored('namedValues/logic-callback-sig')).toBeUndefined();
}, 120_000);

test('with the role (the sample as it is) the plan is clean; apply grants it before it creates the value, which APIM then reads; a re-plan has no change and no warning', async () => {
  emu = await startEmulator({ seedDir: join(ROOT, 'demo', 'live-snapshot') });
  const tree = sampleCopy();
  const plan = await cli(emu, ['plan', '--policies', tree, '--detailed-exitcode']);
  expect(plan.code).toBe(2);
  expect(plan.stdout + plan.stderr).not.toMatch(/key-vault-access|key-vault-status/);
  const apply = await cli(emu, ['apply', '--policies', tree, '--allow-deletes']);
  expect(apply.code).toBe(0);
  const order = apply.stdout.split('\n').filter((l) => /… done$/.test(l));
  const role = order.findIndex((l) => l.includes('Key Vault Secrets User'));
  const value = order.findIndex((l) => l.includes('create namedValues/logic-callback-sig'));
  expect([role >= 0, value > role]).toEqual([true, true]);
  expect((await stored('namedValues/logic-callback-sig'))?.keyVault?.lastStatus?.code).toBe('Success');
  const again = await cli(emu, ['plan', '--policies', tree, '--detailed-exitcode']);
  expect(again.code).toBe(0);
  expect(again.stdout).toMatch(/^No changes\./);
  expect(again.stdout + again.stderr).not.toContain('key-vault-status');
}, 120_000);

describe('a live Key Vault value whose last read failed (the instance had no identity to read it with)', () => {
  const kv = JSON.stringify({ properties: { displayName: 'kv-value', secret: true, keyVault: { secretIdentifier: 'https://kv-other.vault.azure.net/secrets/s' } } });
  const grant = `identity:\n  systemAssigned: true\nroleAssignments:\n  - identity: system\n    role: Key Vault Secrets User\n    scope: ${VAULT.replace('kv-apim-demo', 'kv-other')}\n`;
  beforeEach(async () => {
    emu = await startEmulator({ seedDir: makeTree({ 'policy.xml': policy(), 'named values/kv-value/namedValueInformation.json': kv }) });
    expect((await stored('namedValues/kv-value'))?.keyVault?.lastStatus?.code).toBe('IdentityNotFound');
  });

  test("a tree that does not manage the identity: a warning with Key Vault's reason and the refreshSecret command; nothing to write", async () => {
    const plan = await cli(emu, ['plan', '--policies', makeTree({ 'policy.xml': policy(), 'named values/kv-value/namedValueInformation.json': kv }), '--detailed-exitcode']);
    expect(plan.code).toBe(0);
    expect(plan.stdout + plan.stderr).toMatch(
      /named values\/kv-value\/namedValueInformation\.json:\d+:1: warning: APIM could not refresh this secret from Key Vault: IdentityNotFound.*\[key-vault-status\]/,
    );
    // How to have APIM read it at once, once the access is there: ARM's refreshSecret on this instance.
    const service = `/subscriptions/${emu.ready.subscriptionId}/resourceGroups/${emu.ready.resourceGroup}/providers/Microsoft.ApiManagement/service/${emu.ready.serviceName}`;
    expect(plan.stdout + plan.stderr).toContain(`az rest --method post --url "${emu.ready.armEndpoint}${service}/namedValues/kv-value/refreshSecret?api-version=2024-05-01"`);
  }, 120_000);

  test('a plan that grants the access writes the unchanged value again after the grant, saying why; APIM then reads it; a re-plan is clean', async () => {
    const tree = makeTree({ 'policy.xml': policy(), 'named values/kv-value/namedValueInformation.json': kv, 'identity.yaml': grant });
    const planFile = join(makeTree({}), 'plan.json');
    const plan = await cli(emu, ['plan', '--policies', tree, '--out', planFile, '--detailed-exitcode']);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toMatch(/^~ namedValues\/kv-value \(update, /m);
    expect(plan.stdout).toContain('read again from Key Vault: its last read failed (IdentityNotFound); this plan grants the access it lacked, and APIM reads the secret when the value is written');
    expect(plan.stdout + plan.stderr).not.toContain('key-vault-status');
    const apply = await cli(emu, ['apply', '--plan', planFile]);
    expect(apply.code).toBe(0);
    const done = apply.stdout.split('\n').filter((l) => /… done$/.test(l));
    expect(done.findIndex((l) => l.includes('update namedValues/kv-value'))).toBeGreaterThan(done.findIndex((l) => l.includes('Key Vault Secrets User')));
    expect((await stored('namedValues/kv-value'))?.keyVault?.lastStatus?.code).toBe('Success');
    const again = await cli(emu, ['plan', '--policies', tree, '--detailed-exitcode']);
    expect([again.code, again.stdout]).toEqual([0, expect.stringMatching(/^No changes\./)]);
  }, 120_000);

  test('a saved plan to read it again is refused once the value has been read since (live is no longer what the plan saw)', async () => {
    const tree = makeTree({ 'policy.xml': policy(), 'named values/kv-value/namedValueInformation.json': kv, 'identity.yaml': grant });
    const planFile = join(makeTree({}), 'plan.json');
    expect((await cli(emu, ['plan', '--policies', tree, '--out', planFile])).code).toBe(0);
    // APIM read it since (its own refresh, or someone's): live's status is Success now.
    const value = (await stored('namedValues/kv-value'))!;
    await admin(emu, 'POST', 'edit', {
      address: 'namedValues/kv-value',
      value: { ...value, keyVault: { ...value.keyVault, lastStatus: { code: 'Success', timeStampUtc: new Date().toISOString() } } },
    });
    const before = (await log()).length;
    const stale = await cli(emu, ['apply', '--plan', planFile]);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('namedValues/kv-value: its diff does not match its content and what is live');
    expect(armWrites((await log()).slice(before))).toEqual([]);
  }, 120_000);
});

describe('a role this apply grants takes minutes to reach Key Vault (emulated: keyVaultDenials refuses that many reads)', () => {
  const puts = async (address: string) => (await log()).filter((e) => e.method === 'PUT' && e.path.toLowerCase().endsWith(`/${address}`.toLowerCase()));
  const roles = async () => Object.keys(((await admin(emu, 'GET', 'state')) as Stored).resources).filter((k) => k.toLowerCase().startsWith('roleassignments/'));

  test('refused once: the value is written again after a wait, and the apply completes', async () => {
    emu = await startEmulator({ seedDir: join(ROOT, 'demo', 'live-snapshot') });
    await admin(emu, 'POST', 'faults', { keyVaultDenials: 1 });
    const apply = await cli(emu, ['apply', '--policies', sampleCopy(), '--allow-deletes'], { APIM_POLICY_RBAC_WAIT_SECONDS: '1' });
    expect(apply.code).toBe(0);
    expect(apply.stdout).toMatch(
      /^ {2}wait {3}namedValues\/logic-callback-sig: Key Vault refused its secret; a role this apply granted can take minutes to reach Key Vault, so it is written again in 1 s \(waited 0 of at most 1 s, APIM_POLICY_RBAC_WAIT_SECONDS\)$/m,
    );
    expect(apply.stdout).toMatch(/^ {2}create namedValues\/logic-callback-sig … done$/m);
    expect(await puts('namedValues/logic-callback-sig')).toHaveLength(2);
    expect((await stored('namedValues/logic-callback-sig'))?.keyVault?.lastStatus?.code).toBe('Success');
  }, 120_000);

  test('still refused when the wait is spent: the apply fails, says how long it waited and what to set, and puts back everything it wrote', async () => {
    emu = await startEmulator({ seedDir: join(ROOT, 'demo', 'live-snapshot') });
    const rolesBefore = await roles();
    await admin(emu, 'POST', 'faults', { keyVaultDenials: 10 });
    const apply = await cli(emu, ['apply', '--policies', sampleCopy(), '--allow-deletes'], { APIM_POLICY_RBAC_WAIT_SECONDS: '1' });
    expect(apply.code).toBe(1);
    const out = apply.stdout + apply.stderr;
    expect(out).toContain('Key Vault still refused after 1 s of waiting for the access this apply granted to take effect');
    expect(out).toContain('let apply wait longer with APIM_POLICY_RBAC_WAIT_SECONDS (now 1)');
    expect(await puts('namedValues/logic-callback-sig')).toHaveLength(2);
    expect(await stored('namedValues/logic-callback-sig')).toBeUndefined();
    expect(await roles()).toEqual(rolesBefore);
  }, 120_000);

  test('when this apply grants nothing, a refused Key Vault write fails at once: no wait', async () => {
    emu = await startEmulator({ seedDir: join(ROOT, 'demo', 'live-snapshot') });
    const tree = sampleCopy();
    expect((await cli(emu, ['apply', '--policies', tree, '--allow-deletes'])).code).toBe(0);
    edit(tree, 'named values/logic-callback-sig/namedValueInformation.json', '"tags": ["logic-callback"]', '"tags": ["logic-callback", "callbacks"]');
    await admin(emu, 'POST', 'faults', { keyVaultDenials: 1 });
    const apply = await cli(emu, ['apply', '--policies', tree], { APIM_POLICY_RBAC_WAIT_SECONDS: '1' });
    expect(apply.code).toBe(1);
    expect(apply.stdout).not.toMatch(/^ {2}wait /m);
    expect(apply.stdout + apply.stderr).toContain('could not be read from Key Vault');
    expect(await puts('namedValues/logic-callback-sig')).toHaveLength(2);
  }, 120_000);

  test(`an ${'APIM_POLICY_RBAC_WAIT_SECONDS'} that is not a number of seconds is refused before any write`, async () => {
    emu = await startEmulator({ seedDir: join(ROOT, 'demo', 'live-snapshot') });
    const before = (await log()).length;
    const apply = await cli(emu, ['apply', '--policies', sampleCopy(), '--allow-deletes'], { APIM_POLICY_RBAC_WAIT_SECONDS: '10m' });
    expect(apply.code).toBe(1);
    expect(apply.stderr).toContain('APIM_POLICY_RBAC_WAIT_SECONDS is "10m": give the most seconds apply may wait');
    expect(armWrites((await log()).slice(before))).toEqual([]);
  }, 120_000);
});
