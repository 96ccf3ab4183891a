/**
 * identity.yaml against the emulator, as users run it: the bundled CLI in its own process, the
 * real Azure SDKs over HTTPS. What is asserted is what ARM ends up holding (the emulator's
 * state), what the CLI prints, and which writes reached ARM (the request log).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSeededEmulator as startEmulator } from '../../src/cli/emulator-seed.js';
import type { RunningEmulator } from '../../src/emulator/server.js';
import { admin, cliAgainst as cli, armWrites } from '../helpers/emulator.js';
import { runCliAsync, withoutProgress } from '../helpers/run.js';
import { makeTree, policy } from '../helpers/tree.js';

type LogEntry = { method: string; path: string; status: number };
type State = { resources: Record<string, { value: any; etag: string }> };

let emu: RunningEmulator;
let SUB: string;
beforeEach(async () => {
  emu = await startEmulator({ seedDir: makeTree({ 'policy.xml': policy() }) });
  SUB = emu.ready.subscriptionId;
});
afterEach(async () => {
  await emu?.close();
});

const sbScope = (ns = 'sb-orders') => `/subscriptions/${SUB}/resourceGroups/rg-integration/providers/Microsoft.ServiceBus/namespaces/${ns}`;
const aiScope = () => `/subscriptions/${SUB}/resourceGroups/rg-ai/providers/Microsoft.CognitiveServices/accounts/contoso-openai`;
const uai = () => `/subscriptions/${SUB}/resourceGroups/rg-identities/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-openai`;

function manifest(extra = ''): string {
  return [
    'identity:',
    '  systemAssigned: true',
    '  userAssigned:',
    `    openai: ${uai()}`,
    'roleAssignments:',
    '  - identity: system',
    '    role: Azure Service Bus Data Sender',
    `    scope: ${sbScope()}`,
    '  - identity: openai',
    '    role: Cognitive Services OpenAI User',
    `    scope: ${aiScope()}`,
    extra,
  ].join('\n');
}

const state = () => admin(emu, 'GET', 'state') as Promise<State>;
const assignments = async () =>
  Object.entries((await state()).resources)
    .filter(([k]) => k.toLowerCase().startsWith('roleassignments/'))
    .map(([, v]) => v.value);
const writes = async () => armWrites((await admin(emu, 'GET', 'requests')).log as LogEntry[]);
const planJson = async (tree: string, extra: string[] = []) => {
  const r = await cli(emu, ['plan', '--policies', tree, '--format', 'json', ...extra]);
  expect(withoutProgress(r.stderr)).toBe('');
  return JSON.parse(r.stdout);
};

test('enabling both identities with two role assignments: plan, apply, re-plan clean, a second apply writes nothing', async () => {
  const tree = makeTree({ 'policy.xml': policy(), 'identity.yaml': manifest() });
  const plan = await planJson(tree);
  const pending = plan.changes.filter((c: any) => c.action !== 'noop');
  expect(pending.map((c: any) => [c.action, c.resourceType, c.roleAssignment?.roleName ?? ''])).toEqual([
    ['update', 'identity', ''],
    ['create', 'roleAssignment', 'Azure Service Bus Data Sender'],
    ['create', 'roleAssignment', 'Cognitive Services OpenAI User'],
  ]);
  // The system identity does not exist yet: its principal, and so the assignment's name, is known after apply.
  expect(pending[1].roleAssignment.principalId).toBeUndefined();
  expect(pending[1].address).toBe('roleAssignments/(known after apply #1)');
  expect(pending[2].address).toMatch(/^roleAssignments\/[0-9a-f-]{36}$/);

  const planFile = join(makeTree({}), 'identity-plan.json');
  const text = await cli(emu, ['plan', '--policies', tree, '--out', planFile]);
  expect(text.stdout).toContain('+ roleAssignments/(known after apply #1) (Azure Service Bus Data Sender for system)');
  expect(text.stdout).toContain('Plan: 2 to create, 1 to update, 0 to delete, 1 unchanged.');

  // Right after the identity appears, the directory does not know it yet: the first PUT gets PrincipalNotFound.
  await admin(emu, 'POST', 'faults', { principalNotFound: 1 });
  const apply = await cli(emu, ['apply', '--plan', planFile]);
  expect(apply.stderr).not.toMatch(/error/i);
  expect(apply.code).toBe(0);
  expect(apply.stdout).toMatch(/^ {2}update identity … done$/m);
  expect(apply.stdout).toMatch(/^ {2}create roleAssignments\/[0-9a-f-]{36} \(Azure Service Bus Data Sender for system\) … done$/m);
  // The identity first, then its role assignments.
  expect(apply.stdout.indexOf('update identity')).toBeLessThan(apply.stdout.indexOf('create roleAssignments/'));

  const live = await state();
  const identity = live.resources['identity']!.value;
  expect(identity.type).toBe('SystemAssigned, UserAssigned');
  expect(Object.keys(identity.userAssignedIdentities)).toEqual([uai()]);
  const made = await assignments();
  expect(made).toHaveLength(2);
  const byRole = Object.fromEntries(made.map((a: any) => [a.properties.roleDefinitionId.split('/').pop(), a.properties]));
  expect(byRole['69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'].scope).toBe(sbScope());
  expect(byRole['5e0bd9bd-7b93-4f28-af87-19fc36ad61bd'].scope).toBe(aiScope());
  expect(byRole['69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'].principalType).toBe('ServicePrincipal');

  const replan = await cli(emu, ['plan', '--policies', tree, '--detailed-exitcode']);
  expect(replan.code).toBe(0);
  expect(replan.stdout).toContain('No changes.');
  const before = (await writes()).length;
  const again = await cli(emu, ['apply', '--policies', tree]);
  expect(again.code).toBe(0);
  expect(again.stdout).toContain('Nothing to apply.');
  expect((await writes()).length).toBe(before);
}, 60000);

test('an Owner grant or a scope outside the allowed ones is refused with the reason and the input; nothing is written', async () => {
  const owner = `  - identity: system\n    role: Owner\n    scope: /subscriptions/${SUB}/resourceGroups/rg-integration\n`;
  const tree = makeTree({ 'policy.xml': policy(), 'identity.yaml': manifest(owner) });
  const plan = await cli(emu, ['plan', '--policies', tree]);
  expect(plan.stdout).toMatch(
    /identity\.yaml:12:5: error: role "Owner" is privileged .*refused\. A workflow that means it sets input allow-privileged-roles: true \(CLI --allow-privileged-roles\) \[guardrail\]/,
  );
  const apply = await cli(emu, ['apply', '--policies', tree]);
  expect(apply.code).toBe(1);
  expect(apply.stderr).toMatch(/the plan has 1 problem\(s\) that stop it \(first: .*identity\.yaml:12 role "Owner" is privileged/);
  expect(await writes()).toEqual([]);

  const elsewhere = makeTree({ 'policy.xml': policy(), 'identity.yaml': manifest().replace(sbScope(), sbScope().replace(SUB, '11111111-2222-4333-8444-555555555555')) });
  const refused = await cli(emu, ['plan', '--policies', elsewhere]);
  expect(refused.stdout).toContain(`is outside the scopes this workflow allows (/subscriptions/${SUB}); refused. Widen input allowed-scopes (CLI --allowed-scopes)`);

  // The workflow, not the manifest, loosens the guardrails.
  const allowed = await cli(emu, ['apply', '--policies', tree, '--allow-privileged-roles']);
  expect(allowed.code).toBe(0);
  expect((await assignments()).map((a: any) => a.properties.roleDefinitionId.split('/').pop())).toContain('8e3af657-a8ff-443c-a75c-2fe8c4bcb635');
}, 60000);

test('variables resolve per environment; an unknown variable is an error at its file and line', async () => {
  const identity = manifest().replace(sbScope(), `/subscriptions/\${SUB}/resourceGroups/rg-integration/providers/Microsoft.ServiceBus/namespaces/\${SB_NAMESPACE}`);
  const tree = makeTree({
    'policy.xml': policy(),
    'identity.yaml': identity,
    'environments/dev.yaml': `variables:\n  SUB: ${SUB}\n  SB_NAMESPACE: sb-orders-dev\n`,
    'environments/prod.yaml': `variables:\n  SUB: ${SUB}\n  SB_NAMESPACE: sb-orders-prod\n`,
  });
  const scopeOf = (plan: any) => plan.changes.find((c: any) => c.roleAssignment?.roleName === 'Azure Service Bus Data Sender').roleAssignment.scope;
  expect(scopeOf(await planJson(tree, ['--environment', 'dev']))).toBe(sbScope('sb-orders-dev'));
  expect(scopeOf(await planJson(tree, ['--environment', 'prod']))).toBe(sbScope('sb-orders-prod'));

  writeFileSync(join(tree, 'environments/test.yaml'), `variables:\n  SUB: ${SUB}\n  SB_NAMESPCE: sb-orders-test\n`);
  const bad = await cli(emu, ['plan', '--policies', tree, '--environment', 'test']);
  expect(bad.code).toBe(1);
  expect(bad.stderr).toContain(`${join(tree, 'identity.yaml')}:8:`);
  expect(bad.stderr).toMatch(/unknown variable \$\{SB_NAMESPACE\}: .*environments\/test\.yaml has no variable SB_NAMESPACE \(known: SB_NAMESPCE, SUB\); did you mean SB_NAMESPCE\?/);
  expect(await writes()).toEqual([]);
});

test('malformed manifests fail lint with file and line: wrong type, unknown alias, unknown role (with a suggestion), bad scope', async () => {
  const broken = [
    'identity:',
    '  systemAssigned: "yes"',
    'roleAssignments:',
    '  - identity: opneai',
    '    role: Azure Service Bus Data Sender',
    `    scope: ${sbScope()}`,
    '  - identity: system',
    '    role: Azure Service Bus Data Sendr',
    `    scope: ${sbScope()}`,
    '  - identity: system',
    '    role: Key Vault Secrets User',
    '    scope: subscriptions/not-a-guid/resourceGroups/rg',
    '',
  ].join('\n');
  const tree = makeTree({ 'policy.xml': policy(), 'identity.yaml': broken });
  const lint = await runCliAsync(['lint', '--policies', tree]);
  expect(lint.code).toBe(1);
  const file = join(tree, 'identity.yaml');
  const lines = lint.stdout.split('\n').filter((l) => l.startsWith(file));
  expect(lines.find((l) => l.startsWith(`${file}:2:`))).toMatch(/systemAssigned must be true or false/);
  expect(lines.find((l) => l.startsWith(`${file}:4:`))).toMatch(/identity "opneai"/);
  // A name not known offline is no load error (custom roles exist): lint's unknown-role warns once the manifest loads (roles-live.test.ts).
  expect(lines.find((l) => l.startsWith(`${file}:8:`))).toBeUndefined();
  expect(lines.find((l) => l.startsWith(`${file}:12:`))).toMatch(/scope/);
  // The plan refuses the same tree before any Azure call.
  const plan = await cli(emu, ['plan', '--policies', tree]);
  expect(plan.code).toBe(1);
  expect(((await admin(emu, 'GET', 'requests')).log as LogEntry[]).filter((e) => /^\/subscriptions\//i.test(e.path))).toEqual([]);
});

test('taking away needs the opt-in; assignments the tool did not make are reported and never deleted; Key Vault users are warned about', async () => {
  const tree = makeTree({ 'policy.xml': policy(), 'identity.yaml': manifest() });
  expect((await cli(emu, ['apply', '--policies', tree])).code).toBe(0);
  const openaiPrincipal = (await state()).resources['identity']!.value;
  expect(openaiPrincipal.type).toBe('SystemAssigned, UserAssigned');
  // Somebody grants the user-assigned identity a role by hand (another name than the tool's).
  const made = await assignments();
  const mine = made.find((a: any) => a.properties.scope === aiScope());
  const handName = '0f0f0f0f-1111-4222-8333-444444444444';
  const hand = {
    ...mine,
    name: handName,
    id: `${sbScope()}/providers/Microsoft.Authorization/roleAssignments/${handName}`,
    properties: { ...mine.properties, scope: sbScope(), roleDefinitionId: mine.properties.roleDefinitionId.replace('5e0bd9bd-7b93-4f28-af87-19fc36ad61bd', '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0') },
  };
  await admin(emu, 'POST', 'edit', { address: `roleAssignments/${handName}`, value: hand });
  // A Key Vault-backed named value read with the system identity.
  await admin(emu, 'POST', 'edit', { address: 'namedValues/kv-secret', value: { displayName: 'kv-secret', secret: true, keyVault: { secretIdentifier: 'https://kv.vault.azure.net/secrets/x' } } });

  // Now the manifest drops the system identity and its Service Bus role.
  const narrowed = [
    'identity:',
    '  systemAssigned: false',
    '  userAssigned:',
    `    openai: ${uai()}`,
    'roleAssignments:',
    '  - identity: openai',
    '    role: Cognitive Services OpenAI User',
    `    scope: ${aiScope()}`,
    '',
  ].join('\n');
  writeFileSync(join(tree, 'identity.yaml'), narrowed);
  const plan = await cli(emu, ['plan', '--policies', tree]);
  expect(plan.stdout).toMatch(/identity\.yaml:1:1: warning: named value "kv-secret" reads its Key Vault secret with the system-assigned identity, which this plan takes away/);
  expect(plan.stdout).toMatch(new RegExp(`info: roleAssignments/${handName} \\(Azure Service Bus Data Receiver for openai .*was not made by apim-policy-deploy, so it is left alone`));
  expect(plan.stdout).toContain('2 change(s) take away an identity or access; apply makes them only with --allow-destructive-identity-changes:');
  expect(plan.stdout).toContain('identity: disables the system-assigned identity');
  expect(plan.stdout).toMatch(/deletes the role assignment Azure Service Bus Data Sender for system/);

  const without = await cli(emu, ['apply', '--policies', tree]);
  expect(without.code).toBe(0);
  expect(without.stdout).toContain('2 identity/RBAC removal(s) were not applied (pass --allow-destructive-identity-changes)');
  expect((await state()).resources['identity']!.value.type).toBe('SystemAssigned, UserAssigned');
  expect(await assignments()).toHaveLength(3);

  const withFlag = await cli(emu, ['apply', '--policies', tree, '--allow-destructive-identity-changes']);
  expect(withFlag.code).toBe(0);
  expect((await state()).resources['identity']!.value.type).toBe('UserAssigned');
  const left = (await assignments()).map((a: any) => a.name).sort();
  expect(left).toEqual([handName, mine.name].sort());
}, 60000);

test("an identity with more role assignments than one page of ARM's list: every one is read (the list is followed to its end)", async () => {
  const tree = makeTree({ 'policy.xml': policy(), 'identity.yaml': manifest() });
  expect((await cli(emu, ['apply', '--policies', tree])).code).toBe(0);
  const mine = (await assignments()).find((a: any) => a.properties.scope === aiScope());
  // 45 grants by hand to the same identity: the emulator lists role assignments 20 to a page.
  const names = Array.from({ length: 45 }, (_, i) => `0f0f0f0f-1111-4222-8333-${String(i).padStart(12, '0')}`);
  for (const [i, name] of names.entries()) {
    const scope = sbScope(`sb-hand-${i}`);
    const value = { ...mine, name, id: `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`, properties: { ...mine.properties, scope } };
    await admin(emu, 'POST', 'edit', { address: `roleAssignments/${name}`, value });
  }
  const plan = await cli(emu, ['plan', '--policies', tree]);
  expect(plan.code).toBe(0);
  const reported = [...plan.stdout.matchAll(/info: roleAssignments\/([0-9a-f-]{36}) .*was not made by apim-policy-deploy/g)].map((m) => m[1]);
  expect(reported.sort()).toEqual([...names].sort());
  expect(plan.stdout).toContain('No changes');
  const pages = ((await admin(emu, 'GET', 'requests')).log as LogEntry[]).filter((e) => /providers\/Microsoft\.Authorization\/roleAssignments$/i.test(e.path.split('?')[0]!));
  expect(pages.length).toBeGreaterThanOrEqual(3);
}, 60000);

test('client-id in a policy must be a client ID of an attached identity; a principal ID there gets its own message; extract writes identity.yaml', async () => {
  const tree = makeTree({ 'policy.xml': policy(), 'identity.yaml': manifest() });
  expect((await cli(emu, ['apply', '--policies', tree])).code).toBe(0);
  const plan = await planJson(tree);
  expect(plan.problems).toEqual([]);
  const principal = plan.changes.find((c: any) => c.roleAssignment?.identity === 'openai').roleAssignment.principalId as string;
  expect(principal).toMatch(/^[0-9a-f-]{36}$/);

  const out = join(makeTree({}), 'extracted');
  const extract = await cli(emu, ['extract', '--out', out]);
  expect(extract.code).toBe(0);
  const extracted = readFileSync(join(out, 'identity.yaml'), 'utf8');
  expect(extracted).toContain(`id-openai: ${uai()}`);
  expect(extracted).toContain('role: Cognitive Services OpenAI User');
  // The extracted tree plans clean, identity and role assignments included.
  expect((await cli(emu, ['plan', '--policies', out, '--detailed-exitcode'])).code).toBe(0);

  const chat = (clientId: string) =>
    makeTree({
      'policy.xml': policy(),
      'identity.yaml': manifest(),
      'apis/chat/policy.xml': policy(`<authentication-managed-identity resource="https://cognitiveservices.azure.com" client-id="${clientId}" />`),
    });
  const wrong = '00000000-1111-4222-8333-444444444444';
  const bad = await cli(emu, ['plan', '--policies', chat(wrong)]);
  expect(bad.stdout).toMatch(new RegExp(`apis/chat/policy\\.xml:3:9: error: client-id "${wrong}" is not the client ID of a user-assigned identity the instance will have \\(openai [0-9a-f-]{36}\\)`));
  const mixed = await cli(emu, ['plan', '--policies', chat(principal)]);
  expect(mixed.stdout).toMatch(new RegExp(`error: client-id "${principal}" is the principal \\(object\\) ID of openai; client-id needs its client ID [0-9a-f-]{36}`));
}, 60000);
