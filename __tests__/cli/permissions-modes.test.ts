/**
 * The minimum roles the README documents, per mode, proven against the emulator's RBAC
 * enforcement: the bundled CLI in its own process, the real SDKs over HTTPS, the deploying
 * identity holding exactly the documented roles (the run succeeds) or one role less (a clear
 * refusal naming the missing action, the scope and the role to grant; nothing is written).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSeededEmulator as startEmulator } from '../../src/cli/emulator-seed.js';
import type { RunningEmulator } from '../../src/emulator/server.js';
import { admin, cliAgainst as cli, armWrites } from '../helpers/emulator.js';
import { withoutProgress } from '../helpers/run.js';
import { makeTree, policy } from '../helpers/tree.js';

type LogEntry = { method: string; path: string; status: number };
type State = { resources: Record<string, { value: any; etag: string }> };
type Grant = { role: string; scope: string };

let emu: RunningEmulator;
let SUB: string;
let SERVICE: string;
const seedTree = () => makeTree({ 'policy.xml': policy(), 'apis/echo/policy.xml': policy() });
beforeEach(async () => {
  emu = await startEmulator({ seedDir: seedTree() });
  SUB = emu.ready.subscriptionId;
  SERVICE = `/subscriptions/${SUB}/resourceGroups/${emu.ready.resourceGroup}/providers/Microsoft.ApiManagement/service/${emu.ready.serviceName}`;
});
afterEach(async () => {
  await emu?.close();
});

const rg = (name: string) => `/subscriptions/${SUB}/resourceGroups/${name}`;
const sbScope = () => `${rg('rg-integration')}/providers/Microsoft.ServiceBus/namespaces/sb-orders`;
const uai = () => `${rg('rg-identities')}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-orders`;

/** A tree whose API policy differs from live (one update), with or without an identity.yaml that attaches `uai()` and grants it a Service Bus role. */
function changedTree(withIdentity: boolean): string {
  const files: Record<string, string> = { 'policy.xml': policy(), 'apis/echo/policy.xml': policy('<set-header name="X-Changed" exists-action="override"><value>1</value></set-header>') };
  if (withIdentity) {
    files['identity.yaml'] = [
      'identity:',
      '  systemAssigned: false',
      '  userAssigned:',
      `    orders: ${uai()}`,
      'roleAssignments:',
      '  - identity: orders',
      '    role: Azure Service Bus Data Sender',
      `    scope: ${sbScope()}`,
      '',
    ].join('\n');
  }
  return makeTree(files);
}

const allowed = () => ['--allowed-scopes', rg('rg-integration')];
const grant = (deployer: Grant[]) => admin(emu, 'POST', 'rbac', { deployer });
/** What ARM holds, by address (an instance without an identity record has identity type None, as ARM answers it). */
const values = async (): Promise<Record<string, any>> => ({
  identity: { type: 'None' },
  ...Object.fromEntries(Object.entries(((await admin(emu, 'GET', 'state')) as State).resources).map(([k, v]) => [k, v.value])),
});
const successfulWrites = async () => armWrites((await admin(emu, 'GET', 'requests')).log as LogEntry[]).filter((e) => e.status < 300);

// The documented minimum, per mode (README "Minimum roles").
const planPolicies = (): Grant[] => [{ role: 'API Management Service Reader Role', scope: SERVICE }];
const planIdentity = (): Grant[] => [...planPolicies(), { role: 'Reader', scope: rg('rg-integration') }, { role: 'Managed Identity Operator', scope: uai() }];
const applyPolicies = (): Grant[] => [{ role: 'API Management Service Contributor', scope: SERVICE }];
const applyIdentity = (): Grant[] => [...applyPolicies(), { role: 'Role Based Access Control Administrator', scope: rg('rg-integration') }, { role: 'Managed Identity Operator', scope: uai() }];

/** The refusal names the action, the scope and the role, with the command that grants it. */
function expectRefusal(output: string, action: string, scope: string, role: string, grantScope = scope): void {
  expect(output).toContain(`may not perform ${action} on ${scope}`);
  expect(output).toContain(`Give it the role "${role}"`);
  expect(output).toContain(`az role assignment create --assignee <client-id> --role "${role}" --scope ${grantScope}`);
}

test('plan (policies only): API Management Service Reader Role on the instance suffices; without it, the read refused names the action, the instance and the role', async () => {
  await grant(planPolicies());
  const ok = await cli(emu, ['plan', '--policies', changedTree(false), '--detailed-exitcode']);
  expect(withoutProgress(ok.stderr)).toBe('');
  expect(ok.code).toBe(2);
  expect(ok.stdout).toContain('~ apis/echo/policies/policy');

  await grant([{ role: 'Reader', scope: uai() }]); // some role, but nothing on the instance
  const refused = await cli(emu, ['plan', '--policies', changedTree(false)]);
  expect(refused.code).toBe(1);
  // The first read refused is the service's own or the allPolicies list (both at the instance).
  const action = /may not perform (Microsoft\.ApiManagement\/service\/(?:allPolicies\/)?read) on /.exec(refused.stdout + refused.stderr)?.[1];
  expect(action).toBeDefined();
  expectRefusal(refused.stdout + refused.stderr, action!, SERVICE, 'API Management Service Reader Role');
}, 60000);

test('plan with identity.yaml: Reader on the allowed scope and Managed Identity Operator on the identity besides; without Reader, the role-assignment list is refused at that scope', async () => {
  await grant(planIdentity());
  const ok = await cli(emu, ['plan', '--policies', changedTree(true), '--detailed-exitcode', ...allowed()]);
  expect(withoutProgress(ok.stderr)).toBe('');
  expect(ok.code).toBe(2);
  expect(ok.stdout).toContain('(Azure Service Bus Data Sender for orders)');
  // Role assignments were read at the allowed scope only, never at the subscription.
  const lists = ((await admin(emu, 'GET', 'requests')).log as LogEntry[]).filter((e) => /\/roleAssignments$/i.test(e.path)).map((e) => e.path);
  expect(lists.length).toBeGreaterThan(0);
  expect(lists.every((p) => p.toLowerCase() === `${rg('rg-integration')}/providers/Microsoft.Authorization/roleAssignments`.toLowerCase())).toBe(true);

  await grant(planIdentity().filter((g) => g.role !== 'Reader'));
  const refused = await cli(emu, ['plan', '--policies', changedTree(true), ...allowed()]);
  expect(refused.code).toBe(1);
  expectRefusal(refused.stdout + refused.stderr, 'Microsoft.Authorization/roleAssignments/read', rg('rg-integration'), 'Reader');

  await grant(planIdentity().filter((g) => g.role !== 'Managed Identity Operator'));
  const noIdentityRead = await cli(emu, ['plan', '--policies', changedTree(true), ...allowed()]);
  expect(noIdentityRead.code).toBe(1);
  expectRefusal(noIdentityRead.stdout + noIdentityRead.stderr, 'Microsoft.ManagedIdentity/userAssignedIdentities/read', uai(), 'Managed Identity Operator');
}, 60000);

test('apply (policies only): API Management Service Contributor on the instance suffices; with only the Reader role the write is refused and nothing is written', async () => {
  const before = await values();
  await grant(planPolicies());
  const refused = await cli(emu, ['apply', '--policies', changedTree(false)]);
  expect(refused.code).toBe(1);
  expectRefusal(refused.stdout + refused.stderr, 'Microsoft.ApiManagement/service/apis/policies/write', `${SERVICE}/apis/echo/policies/policy`, 'API Management Service Contributor', SERVICE);
  expect(await values()).toEqual(before);
  expect(await successfulWrites()).toEqual([]);

  await grant(applyPolicies());
  const ok = await cli(emu, ['apply', '--policies', changedTree(false)]);
  expect(ok.code).toBe(0);
  expect((await values())['apis/echo/policies/policy']).toContain('X-Changed');
}, 60000);

test('apply with identity.yaml: attaching a user-assigned identity and granting it a role needs Managed Identity Operator on it and RBAC Administrator on the scope; one less is refused, nothing stays written', async () => {
  const before = await values();
  // Reader on the identity instead of Managed Identity Operator: it can be read (the plan works), not attached.
  await grant([...applyPolicies(), { role: 'Role Based Access Control Administrator', scope: rg('rg-integration') }, { role: 'Reader', scope: uai() }]);
  const linked = await cli(emu, ['apply', '--policies', changedTree(true), ...allowed()]);
  expect(linked.code).toBe(1);
  expectRefusal(linked.stdout + linked.stderr, 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action', uai(), 'Managed Identity Operator');
  // The refusal named the missing action (the second in ARM's message), not the service write the identity may do.
  expect(linked.stdout + linked.stderr).not.toContain('may not perform Microsoft.ApiManagement/service/write');
  expect(await values()).toEqual(before);

  // Reader on the scope instead of RBAC Administrator: the plan reads it, the assignment PUT is refused; the identity attached before it is undone.
  await grant([...applyPolicies(), { role: 'Reader', scope: rg('rg-integration') }, { role: 'Managed Identity Operator', scope: uai() }]);
  const noRbac = await cli(emu, ['apply', '--policies', changedTree(true), ...allowed()]);
  expect(noRbac.code).toBe(1);
  const out = noRbac.stdout + noRbac.stderr;
  expect(out).toMatch(
    new RegExp(`may not perform Microsoft\\.Authorization/roleAssignments/write on ${sbScope().replace(/[.]/g, '\\.')}/providers/Microsoft\\.Authorization/roleAssignments/[0-9a-f-]{36}`),
  );
  expect(out).toContain('Give it the role "Role Based Access Control Administrator"');
  expect(out).toContain(`--role "Role Based Access Control Administrator" --scope ${sbScope()}`);
  expect(await values()).toEqual(before);

  await grant(applyIdentity());
  const ok = await cli(emu, ['apply', '--policies', changedTree(true), ...allowed()]);
  expect(withoutProgress(ok.stderr)).not.toMatch(/error/i);
  expect(ok.code).toBe(0);
  const after = await values();
  expect(Object.keys(after['identity'].userAssignedIdentities)).toEqual([uai()]);
  const made = Object.entries(after)
    .filter(([k]) => k.toLowerCase().startsWith('roleassignments/'))
    .map(([, v]) => v.properties);
  expect(made.map((p: any) => [p.scope, p.roleDefinitionId.split('/').pop()])).toEqual([[sbScope(), '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39']]);
  expect(after['apis/echo/policies/policy']).toContain('X-Changed');
}, 90000);

test('without allowed-scopes, role assignments are read at the subscription (the default allowed scope), which the emulator default grants', async () => {
  const tree = changedTree(true);
  writeFileSync(
    join(tree, 'identity.yaml'),
    ['identity:', '  systemAssigned: true', 'roleAssignments:', '  - identity: system', '    role: Azure Service Bus Data Sender', `    scope: ${sbScope()}`, ''].join('\n'),
  );
  expect((await cli(emu, ['apply', '--policies', tree])).code).toBe(0);
  // Now the system identity has a principal whose assignments the plan lists.
  expect((await cli(emu, ['plan', '--policies', tree, '--detailed-exitcode'])).code).toBe(0);
  const lists = ((await admin(emu, 'GET', 'requests')).log as LogEntry[]).filter((e) => /\/roleAssignments$/i.test(e.path)).map((e) => e.path.toLowerCase());
  expect([...new Set(lists)]).toEqual([`/subscriptions/${SUB}/providers/Microsoft.Authorization/roleAssignments`.toLowerCase()]);
}, 60000);
