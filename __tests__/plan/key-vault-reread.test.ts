/**
 * Which unchanged Key Vault named values a plan writes again (plan/key-vault-reread.ts): those whose
 * last read failed and whose fetching identity this plan switches on, attaches or gives a Key Vault
 * secrets role on the vault (or an enclosing scope).
 */
import type { EntityResource, EntityState } from '../../src/model/entities.js';
import type { Change, RoleAssignment } from '../../src/model/index.js';
import { readAgainNote, valuesToReadAgain } from '../../src/plan/key-vault-reread.js';

const SUB = '/subscriptions/00000000-0000-4000-8000-00000000a001';
const VAULT = `${SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-a`;
const UAI = `${SUB}/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-kv`;
const CLIENT = '11111111-2222-4333-8444-555555555555';
const URL = 'https://kv-a.vault.azure.net/secrets/s';

const value = (id: string, keyVault: Record<string, unknown>): EntityResource => ({
  type: 'entity',
  kind: 'namedValue',
  id,
  address: `namedValues/${id}`,
  properties: { displayName: id, secret: true, keyVault },
});
const live = (...values: Array<[string, string]>): EntityState => ({
  resources: new Map(values.map(([id, code]) => [`namedvalues/${id}`, value(id, { secretIdentifier: URL, lastStatus: { code, timeStampUtc: '2026-12-01T00:00:00Z' } })])),
});
const role = (identity: string, scope: string, roleDefinitionGuid = '4633458b-17de-408a-b874-0445c86b69e6'): Change => ({
  address: 'roleAssignments/x',
  action: 'create',
  resourceType: 'roleAssignment',
  roleAssignment: { identity, scope, roleDefinitionGuid, roleName: 'r' } as RoleAssignment,
});
const identity = (before: { systemAssigned: boolean; userAssigned: string[] }, after: { systemAssigned: boolean; userAssigned: string[] }): Change => ({
  address: 'identity',
  action: 'update',
  resourceType: 'identity',
  identity: { before, after },
});
const clients = new Map([[CLIENT, { alias: 'kv-reader', resourceId: UAI }]]);

test('the note: only for a last read that did not succeed', () => {
  expect(readAgainNote({ keyVault: { secretIdentifier: URL, lastStatus: { code: 'Forbidden' } } })).toContain('its last read failed (Forbidden)');
  expect(readAgainNote({ keyVault: { secretIdentifier: URL, lastStatus: { code: 'Success' } } })).toBeUndefined();
  expect(readAgainNote({ keyVault: { secretIdentifier: URL } })).toBeUndefined();
  expect(readAgainNote({ value: 'x' })).toBeUndefined();
});

test('the system identity: switched on, or given a secrets role on the vault, its resource group or the subscription; not a role on another vault, nor one that cannot read secrets (Key Vault Reader)', () => {
  const desired = [value('a', { secretIdentifier: URL })];
  const failed = live(['a', 'IdentityNotFound']);
  const off = { systemAssigned: false, userAssigned: [] };
  const on = { systemAssigned: true, userAssigned: [] };
  expect([...valuesToReadAgain(desired, failed, [identity(off, on)], clients)]).toEqual(['namedvalues/a']);
  for (const scope of [VAULT, `${VAULT}/secrets/s`, `${SUB}/resourceGroups/rg`, SUB]) expect([scope, valuesToReadAgain(desired, failed, [role('system', scope)], clients).size]).toEqual([scope, 1]);
  expect(valuesToReadAgain(desired, failed, [role('system', VAULT.replace('kv-a', 'kv-b'))], clients).size).toBe(0);
  expect(valuesToReadAgain(desired, failed, [role('system', VAULT, '21090545-7ca7-4776-b22c-e363652d74d2')], clients).size).toBe(0);
  expect(valuesToReadAgain(desired, failed, [role('kv-reader', VAULT)], clients).size).toBe(0);
  expect(valuesToReadAgain(desired, failed, [], clients).size).toBe(0);
});

test('a user-assigned identity named by identityClientId: its alias given the role, or attached by this plan', () => {
  const desired = [value('a', { secretIdentifier: URL, identityClientId: CLIENT })];
  const failed = live(['a', 'Forbidden']);
  expect(valuesToReadAgain(desired, failed, [role('kv-reader', VAULT)], clients).size).toBe(1);
  expect(valuesToReadAgain(desired, failed, [role('system', VAULT)], clients).size).toBe(0);
  expect(valuesToReadAgain(desired, failed, [role(UAI, VAULT)], clients).size).toBe(1);
  expect(valuesToReadAgain(desired, failed, [identity({ systemAssigned: false, userAssigned: [] }, { systemAssigned: false, userAssigned: [UAI.toUpperCase()] })], clients).size).toBe(1);
  expect(valuesToReadAgain(desired, failed, [identity({ systemAssigned: false, userAssigned: [UAI] }, { systemAssigned: true, userAssigned: [UAI] })], clients).size).toBe(0);
  // A client ID no identity after apply has: nothing to grant.
  expect(valuesToReadAgain([value('a', { secretIdentifier: URL, identityClientId: '99999999-2222-4333-8444-555555555555' })], failed, [role('kv-reader', VAULT)], clients).size).toBe(0);
});

test('a value whose last read succeeded, or that live does not have, is not written again', () => {
  const desired = [value('ok', { secretIdentifier: URL }), value('new', { secretIdentifier: URL })];
  expect(valuesToReadAgain(desired, live(['ok', 'Success']), [role('system', VAULT)], clients).size).toBe(0);
});
