/**
 * Every ARM call that plan, apply (policies, fragments, identity and role assignments, deletes),
 * extract, a destructive identity apply and the named value / backend store (read with listValue, put, remove) make, as the emulator logs them, checked against the
 * operations the REST specs declare (`__tests__/helpers/arm-contract.ts`, written from the specs):
 * method and path, api-version, query parameters and their values, If-Match, and the body's keys.
 * The bundled CLI runs in its own process, the real Azure SDKs over HTTPS.
 */
import { rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ApiManagementClient, getContinuationToken } from '@azure/arm-apimanagement';
import { armClientOptions } from '../../src/azure/apim.js';
import { ArmEntityStore } from '../../src/azure/entities.js';
import { createArmScheduler } from '../../src/azure/scheduler.js';
import { startSeededEmulator as startEmulator } from '../../src/cli/emulator-seed.js';
import type { RunningEmulator } from '../../src/emulator/server.js';
import { ARM_CONTRACT, contractViolations, type LoggedCall } from '../helpers/arm-contract.js';
import { admin, cliAgainst as cli, emulatorCredential } from '../helpers/emulator.js';
import { edit, makeTree, sampleCopy } from '../helpers/tree.js';

let emu: RunningEmulator;
afterEach(async () => {
  await emu?.close();
});

const armCalls = async (): Promise<LoggedCall[]> => ((await admin(emu, 'GET', 'requests')).log as LoggedCall[]).filter((e) => /^\/subscriptions\//i.test(e.path));

/** Every call keeps to the spec (each problem named with its call), and each of `operations` was called. */
function expectToSpec(calls: LoggedCall[], operations: string[]): void {
  const broken = calls
    .map((c) => ({ c, v: contractViolations(c) }))
    .filter(({ v }) => v.problems.length)
    .map(({ c, v }) => `${c.method} ${c.path}?${new URLSearchParams(c.query)} → ${v.operation ?? '?'}: ${v.problems.join('; ')}`);
  expect(broken).toEqual([]);
  const hit = new Set(calls.map((c) => contractViolations(c).operation));
  for (const op of operations) expect([op, hit.has(op)]).toEqual([op, true]);
}

test('the table itself: every row names a distinct operation and matches the paths it is written for', () => {
  expect(new Set(ARM_CONTRACT.map((r) => r.operation)).size).toBe(ARM_CONTRACT.length);
  const svc = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.ApiManagement/service/apim';
  const check = (method: string, path: string, query: Record<string, string>, extra: Partial<LoggedCall> = {}) => contractViolations({ method, path, status: 200, query, ...extra });
  expect(check('GET', `${svc}/apis/a/operations/o/policies/policy`, { 'api-version': '2024-05-01', format: 'rawxml' })).toEqual({ operation: 'Policy_Get (all scopes)', problems: [] });
  // What the checker must catch: each of these breaks the spec in one way.
  expect(check('GET', `${svc}/apis/a/policies/policy`, { 'api-version': '2023-05-01-preview', format: 'rawxml' }).problems).toEqual(["api-version 2023-05-01-preview, the spec's is 2024-05-01"]);
  expect(check('GET', `${svc}/apis/a/policies/policy`, { 'api-version': '2024-05-01', format: 'json' }).problems).toEqual(['format=json is not a value the spec allows']);
  expect(check('DELETE', `${svc}/policies/policy`, { 'api-version': '2024-05-01' }).problems).toEqual(['If-Match is required']);
  expect(check('PUT', `${svc}/policies/policy`, { 'api-version': '2024-05-01' }, { bodyKeys: ['properties', 'properties.format'] }).problems).toEqual(['body lacks properties.value']);
  expect(check('PUT', `${svc}/policyFragments/f`, { 'api-version': '2024-05-01' }, { ifMatch: 'abc', bodyKeys: ['properties', 'properties.value'] }).problems).toEqual([
    'If-Match abc is neither * nor a quoted ETag',
  ]);
  expect(check('GET', `${svc}/apis/a/schemas`, { 'api-version': '2024-05-01' }).problems).toEqual([`no operation in the spec for GET ${svc}/apis/a/schemas`]);
  expect(check('GET', '/subscriptions/s/providers/Microsoft.Authorization/roleAssignments', { 'api-version': '2022-04-01', $filter: "principalName eq 'x'" }).problems).toEqual([
    "$filter=principalName eq 'x' is not a value the spec allows",
  ]);
});

test('plan, apply (policies, fragments, identity, deletes), extract and a destructive identity apply keep to the spec, call by call', async () => {
  // Live: the sample without identity.yaml, its global policy and with an older orders policy and fragment.
  const seedDir = sampleCopy();
  rmSync(join(seedDir, 'identity.yaml'));
  rmSync(join(seedDir, 'policy.xml'));
  edit(seedDir, 'apis/orders/policy.xml', '<base />', '<base />\n<set-header name="x-old" exists-action="override"><value>1</value></set-header>');
  edit(seedDir, 'policy fragments/correlation/policy.xml', '<fragment>', '<fragment>\n<set-variable name="old" value="1" />');
  emu = await startEmulator({ seedDir });

  // Desired: the sample, a new fragment, the chat API's policy gone.
  const tree = sampleCopy();
  rmSync(join(tree, 'apis/chat/policy.xml'));
  mkdirSync(join(tree, 'policy fragments/audit'), { recursive: true });
  writeFileSync(join(tree, 'policy fragments/audit/policy.xml'), '<fragment>\n    <set-header name="x-audit" exists-action="override">\n        <value>1</value>\n    </set-header>\n</fragment>\n');
  const planFile = join(makeTree({}), 'plan.json');
  const plan = await cli(emu, ['plan', '--policies', tree, '--out', planFile]);
  expect(plan.stderr).not.toMatch(/error/i);
  // Creates: the global policy, the audit fragment, the three role assignments (the Key Vault one for
  // the sample's logic-callback-sig among them); updates: identity, orders policy, correlation, and
  // logic-callback-sig written again (its last read failed; the plan grants the role).
  expect(plan.stdout).toMatch(/Plan: 5 to create, 4 to update, 1 to delete/);
  const apply = await cli(emu, ['apply', '--plan', planFile, '--allow-deletes']);
  expect(apply.code).toBe(0);
  expect((await cli(emu, ['extract', '--out', join(makeTree({}), 'extracted')])).code).toBe(0);

  // Then one role assignment less and the user-assigned identity detached: deletes in RBAC and a PATCH.
  const narrowed = sampleCopy();
  rmSync(join(narrowed, 'apis/chat/policy.xml'));
  mkdirSync(join(narrowed, 'policy fragments/audit'), { recursive: true });
  writeFileSync(
    join(narrowed, 'policy fragments/audit/policy.xml'),
    '<fragment>\n    <set-header name="x-audit" exists-action="override">\n        <value>1</value>\n    </set-header>\n</fragment>\n',
  );
  writeFileSync(
    join(narrowed, 'identity.yaml'),
    [
      'identity:',
      '  systemAssigned: true',
      'roleAssignments:',
      '  - identity: system',
      '    role: Azure Service Bus Data Sender',
      '    scope: /subscriptions/00000000-0000-4000-8000-00000000a001/resourceGroups/rg-integration/providers/Microsoft.ServiceBus/namespaces/sb-orders-prod',
      // Kept: the sample's Key Vault named value needs it (without it the plan stops with key-vault-access).
      '  - identity: system',
      '    role: Key Vault Secrets User',
      '    scope: /subscriptions/00000000-0000-4000-8000-00000000a001/resourceGroups/rg-apim-demo/providers/Microsoft.KeyVault/vaults/kv-apim-demo',
      '',
    ].join('\n'),
  );
  const narrowedApply = await cli(emu, ['apply', '--policies', narrowed, '--allow-destructive-identity-changes']);
  expect(narrowedApply.code).toBe(0);

  const calls = await armCalls();
  expectToSpec(calls, [
    'ApiManagementService_Get',
    'ApiManagementService_Update',
    'AllPolicies_ListByService',
    'Policy_Get (all scopes)',
    'Policy_CreateOrUpdate (all scopes)',
    'Policy_Delete (all scopes)',
    'PolicyFragment_CreateOrUpdate',
    'NamedValue_CreateOrUpdate',
    'NamedValue_ListValue',
    'RoleAssignments_Create',
    'RoleAssignments_Delete',
    'RoleAssignments_ListForScope',
    'UserAssignedIdentities_Get',
  ]);

  // Beyond the spec, what this tool promises: an update or delete names the ETag it planned against; a create sends none.
  const writes = calls.filter((c) => ['PUT', 'DELETE'].includes(c.method) && /Microsoft\.ApiManagement/i.test(c.path));
  // global policy and audit fragment created, orders policy, correlation fragment and logic-callback-sig updated, chat policy deleted
  expect(writes.length).toBe(6);
  for (const w of writes) {
    if (w.status === 201) expect([w.path, w.ifMatch]).toEqual([w.path, undefined]);
    else expect([w.path, w.ifMatch]).toEqual([w.path, expect.stringMatching(/^"[^"*]+"$/)]);
  }
}, 180_000);

test('named values and backends: extract, and the entity store read (listValue), put (long-running for named values) and remove keep to the spec', async () => {
  const info = (properties: object) => JSON.stringify({ properties });
  emu = await startEmulator({
    seedDir: makeTree({
      'policy.xml': '<policies>\n    <inbound>\n        <base />\n    </inbound>\n</policies>\n',
      'named values/plain/namedValueInformation.json': info({ displayName: 'plain', value: 'hello' }),
      'named values/secret/namedValueInformation.json': info({ displayName: 'secret', secret: true, value: 'contract-secret' }),
      'named values/kv/namedValueInformation.json': info({ displayName: 'kv', secret: true, keyVault: { secretIdentifier: 'https://kv-contract.vault.azure.net/secrets/s' } }),
      'backends/orders/backendInformation.json': info({ url: 'https://orders.example.com', protocol: 'http' }),
    }),
  });
  expect((await cli(emu, ['extract', '--out', join(makeTree({}), 'extracted')])).code).toBe(0);

  const credential = emulatorCredential(emu);
  const target = { armEndpoint: emu.ready.armEndpoint, subscriptionId: emu.ready.subscriptionId, resourceGroup: emu.ready.resourceGroup, serviceName: emu.ready.serviceName };
  const scheduler = createArmScheduler();
  const client = new ApiManagementClient(credential, target.subscriptionId, { ...armClientOptions({ target, scheduler }), tlsOptions: { ca: emu.caCert } });
  const store = new ArmEntityStore({ target, client, scheduler, credential, continuationToken: getContinuationToken });
  const secret = (await store.read('namedValues/secret'))!;
  const created = await store.put('namedValues/fresh', JSON.stringify({ displayName: 'fresh', value: 'v1', tags: ['a'] }), {});
  const updated = await store.put('namedValues/fresh', JSON.stringify({ displayName: 'fresh', secret: true, value: 'v2' }), { ifMatch: created.etag! });
  await store.remove('namedValues/fresh', updated.etag!);
  await store.remove('namedValues/secret', secret.etag!);
  const backend = await store.put('backends/billing', JSON.stringify({ url: 'https://billing.example.com', protocol: 'http', description: 'Billing', tls: { validateCertificateChain: true } }), {});
  const backend2 = await store.put('backends/billing', JSON.stringify({ url: 'https://billing.example.com/v2', protocol: 'http' }), { ifMatch: backend.etag! });
  await store.remove('backends/billing', backend2.etag!);

  const calls = await armCalls();
  expectToSpec(calls, [
    'NamedValue_ListByService',
    'Backend_ListByService',
    'NamedValue_Get',
    'NamedValue_ListValue',
    'NamedValue_CreateOrUpdate',
    'LRO status (tenant)',
    'NamedValue_Delete',
    'Backend_CreateOrUpdate',
    'Backend_Delete',
  ]);
  // Extract never asks for a secret's value: the only listValue is the store's read of `secret`.
  expect(calls.filter((c) => c.method === 'POST').map((c) => c.path.split('/').slice(-2).join('/'))).toEqual(['secret/listValue']);
}, 120_000);
