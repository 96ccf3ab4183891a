/**
 * Every ARM request the product makes is one the emulator's RBAC can place (an action and a scope),
 * and the emulator's default — the minimum the README documents for plan + apply with identity.yaml
 * — allows all of them: a full plan, an apply that updates, deletes and writes a fragment, an
 * identity apply that attaches a user-assigned identity, creates and deletes role assignments, and
 * an extract, the bundled CLI against the sample tree.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSeededEmulator as startEmulator } from '../../src/cli/emulator-seed.js';
import { requestActions } from '../../src/emulator/rbac-enforce.js';
import type { RunningEmulator } from '../../src/emulator/server.js';
import { admin, cliAgainst as cli } from '../helpers/emulator.js';
import { ROOT } from '../helpers/run.js';
import { edit, makeTree, sampleCopy } from '../helpers/tree.js';

type LogEntry = { method: string; path: string; status: number };

let emu: RunningEmulator;
beforeEach(async () => {
  emu = await startEmulator({ seedDir: join(ROOT, 'policies') });
});
afterEach(async () => {
  await emu?.close();
});

test('plan, apply (update, delete, fragment), identity apply (attach, grant, revoke) and extract: every request is mapped and none is refused with the default roles', async () => {
  const SUB = emu.ready.subscriptionId;
  const tree = sampleCopy();
  edit(tree, 'apis/orders/policy.xml', '<base />', '<base />\n        <set-header name="X-Log" exists-action="override"><value>1</value></set-header>');
  edit(tree, 'policy fragments/correlation/policy.xml', '</fragment>', '    <set-header name="X-Frag" exists-action="override"><value>1</value></set-header>\n</fragment>');
  rmSync(join(tree, 'products/integration/policy.xml'));
  const uai2 = `/subscriptions/${SUB}/resourceGroups/rg-identities/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-extra`;
  const manifest = readFileSync(join(tree, 'identity.yaml'), 'utf8')
    .replace(/\n {2}- identity: system\n(?: {4}.*\n){2}/, '\n') // the Service Bus grant goes (a role assignment deleted)
    .replace(/(\n {4}openai: .*\n)/, `$1    extra: ${uai2}\n`)
    .concat(`  - identity: extra\n    role: Storage Blob Data Reader\n    scope: /subscriptions/${SUB}/resourceGroups/rg-data/providers/Microsoft.Storage/storageAccounts/stdata\n`);
  writeFileSync(join(tree, 'identity.yaml'), manifest);

  expect((await cli(emu, ['plan', '--policies', tree])).code).toBe(0);
  const apply = await cli(emu, ['apply', '--policies', tree, '--allow-deletes', '--allow-destructive-identity-changes']);
  expect(apply.stderr + apply.stdout).not.toMatch(/may not perform/);
  expect(apply.code).toBe(0);
  expect(apply.stdout).toMatch(/delete roleAssignments\/[0-9a-f-]{36} .*done/);
  expect(apply.stdout).toMatch(/create roleAssignments\/[0-9a-f-]{36} \(Storage Blob Data Reader for extra\) … done/);
  expect((await cli(emu, ['extract', '--out', makeTree({}), '--force'])).code).toBe(0);

  const log = ((await admin(emu, 'GET', 'requests')).log as LogEntry[]).filter((e) => /^\/subscriptions\//i.test(e.path));
  const kinds = new Set(log.map((e) => `${e.method} ${requestActions(e.method, e.path)?.action ?? 'UNMAPPED ' + e.path}`));
  expect([...kinds].filter((k) => k.includes('UNMAPPED'))).toEqual([]);
  expect(log.filter((e) => e.status === 403)).toEqual([]);
  // The run did exercise the identity and RBAC routes, not only the policies.
  for (const action of [
    'PATCH Microsoft.ApiManagement/service/write',
    'GET Microsoft.ManagedIdentity/userAssignedIdentities/read',
    'GET Microsoft.Authorization/roleAssignments/read',
    'PUT Microsoft.Authorization/roleAssignments/write',
    'DELETE Microsoft.Authorization/roleAssignments/delete',
    'PUT Microsoft.ApiManagement/service/policyFragments/write',
    'DELETE Microsoft.ApiManagement/service/products/policies/delete',
    'PUT Microsoft.ApiManagement/service/apis/policies/write',
  ]) {
    expect(kinds).toContain(action);
  }
}, 120000);
