/**
 * The emulator's RBAC: each request mapped to the action and scope ARM checks, the built-in roles'
 * wildcards, notActions and inheritance down the scope tree, ARM's refusal messages, and the admin
 * API that sets the deployer's role assignments. Expectations are written from the addendum of
 * AZURE-CONTRACT.md and Microsoft's published role definitions, not from running the code.
 */
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { authorize, deployerObjectId, requestActions, scopeCovers, setDeployerAssignments } from '../../src/emulator/rbac-enforce.js';
import { actionMatches, roleGrants } from '../../src/emulator/rbac-roles.js';
import { createEmulatorState } from '../../src/emulator/state.js';
import { DEFAULT_TARGET } from '../../src/emulator/server.js';
import type { EmulatorRequest } from '../../src/emulator/types.js';
import { raw } from '../helpers/emulator.js';

const SUB = '/subscriptions/00000000-0000-4000-8000-00000000a001';
const RG = `${SUB}/resourceGroups/rg-apim-emulator`;
const S = `${RG}/providers/Microsoft.ApiManagement/service/apim-emulator`;
const UAI = `${SUB}/resourceGroups/rg-id/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-a`;

describe('request → action and scope', () => {
  test.each([
    ['GET', S, 'Microsoft.ApiManagement/service/read', S],
    ['PATCH', S, 'Microsoft.ApiManagement/service/write', S],
    ['GET', `${S}/operationresults/abc`, 'Microsoft.ApiManagement/service/operationresults/read', `${S}/operationresults/abc`],
    ['GET', `${S}/policies/policy`, 'Microsoft.ApiManagement/service/policies/read', `${S}/policies/policy`],
    ['PUT', `${S}/policies/policy`, 'Microsoft.ApiManagement/service/policies/write', `${S}/policies/policy`],
    ['PUT', `${S}/apis/echo/policies/policy`, 'Microsoft.ApiManagement/service/apis/policies/write', `${S}/apis/echo/policies/policy`],
    ['DELETE', `${S}/apis/echo/operations/op/policies/policy`, 'Microsoft.ApiManagement/service/apis/operations/policies/delete', `${S}/apis/echo/operations/op/policies/policy`],
    ['PUT', `${S}/products/p/policies/policy`, 'Microsoft.ApiManagement/service/products/policies/write', `${S}/products/p/policies/policy`],
    ['PUT', `${S}/policyFragments/f`, 'Microsoft.ApiManagement/service/policyFragments/write', `${S}/policyFragments/f`],
    ['PUT', `${S}/workspaces/w/apis/a/policies/policy`, 'Microsoft.ApiManagement/service/workspaces/apis/policies/write', `${S}/workspaces/w/apis/a/policies/policy`],
    ['GET', `${S}/workspaces/w/policyFragments`, 'Microsoft.ApiManagement/service/workspaces/policyFragments/read', `${S}/workspaces/w`],
    ['GET', `${S}/allPolicies`, 'Microsoft.ApiManagement/service/allPolicies/read', S],
    ['GET', `${S}/apis`, 'Microsoft.ApiManagement/service/apis/read', S],
    ['GET', `${S}/apis/echo/operations`, 'Microsoft.ApiManagement/service/apis/operations/read', `${S}/apis/echo`],
    ['GET', `${S}/namedValues/nv`, 'Microsoft.ApiManagement/service/namedValues/read', `${S}/namedValues/nv`],
    ['POST', `${S}/namedValues/nv/listValue`, 'Microsoft.ApiManagement/service/namedValues/listValue/action', `${S}/namedValues/nv`],
    ['GET', `${S}/backends`, 'Microsoft.ApiManagement/service/backends/read', S],
    ['GET', UAI, 'Microsoft.ManagedIdentity/userAssignedIdentities/read', UAI],
    ['GET', `${SUB}/providers/Microsoft.Authorization/roleAssignments`, 'Microsoft.Authorization/roleAssignments/read', SUB],
    ['GET', `${RG}/providers/Microsoft.Authorization/roleAssignments`, 'Microsoft.Authorization/roleAssignments/read', RG],
    ['PUT', `${RG}/providers/Microsoft.Authorization/roleAssignments/g1`, 'Microsoft.Authorization/roleAssignments/write', `${RG}/providers/Microsoft.Authorization/roleAssignments/g1`],
    ['DELETE', `${RG}/providers/Microsoft.Authorization/roleAssignments/g1`, 'Microsoft.Authorization/roleAssignments/delete', `${RG}/providers/Microsoft.Authorization/roleAssignments/g1`],
    ['GET', `${RG}/providers/Microsoft.Authorization/roleDefinitions`, 'Microsoft.Authorization/roleDefinitions/read', RG],
    ['GET', `${SUB}/providers/Microsoft.Authorization/roleDefinitions/abc`, 'Microsoft.Authorization/roleDefinitions/read', SUB],
  ])('%s %s → %s', (method, path, action, scope) => {
    expect(requestActions(method, path)).toEqual({ action, scope });
  });

  test('a request the emulator cannot place is unmapped (and so refused)', () => {
    expect(requestActions('POST', `${S}/apis/echo`)).toBeUndefined();
    expect(requestActions('POST', `${S}/backup`)).toEqual({ action: 'Microsoft.ApiManagement/service/backup/action', scope: S });
    expect(requestActions('GET', '/foo/bar')).toBeUndefined();
  });
});

describe('built-in roles', () => {
  test('wildcards', () => {
    expect(actionMatches('*/read', 'Microsoft.ApiManagement/service/read')).toBe(true);
    expect(actionMatches('*/read', 'Microsoft.ApiManagement/service/write')).toBe(false);
    expect(actionMatches('Microsoft.ApiManagement/service/*', 'Microsoft.ApiManagement/service/apis/policies/write')).toBe(true);
    expect(actionMatches('Microsoft.ApiManagement/service/*', 'Microsoft.ManagedIdentity/userAssignedIdentities/read')).toBe(false);
    expect(actionMatches('Microsoft.Authorization/*/Write', 'microsoft.authorization/roleassignments/write')).toBe(true);
    expect(actionMatches('Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action', 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action')).toBe(true);
  });

  test.each([
    ['Owner', 'Microsoft.Authorization/roleAssignments/write', true],
    ['Contributor', 'Microsoft.ApiManagement/service/apis/policies/write', true],
    ['Contributor', 'Microsoft.Authorization/roleAssignments/write', false],
    ['Contributor', 'Microsoft.Authorization/roleAssignments/delete', false],
    ['Contributor', 'Microsoft.Authorization/roleAssignments/read', true],
    ['Reader', 'Microsoft.ApiManagement/service/policies/read', true],
    ['Reader', 'Microsoft.ApiManagement/service/policies/write', false],
    ['API Management Service Reader Role', 'Microsoft.ApiManagement/service/apis/policies/read', true],
    ['API Management Service Reader Role', 'Microsoft.ApiManagement/service/read', true],
    ['API Management Service Reader Role', 'Microsoft.ApiManagement/service/apis/policies/write', false],
    ['API Management Service Reader Role', 'Microsoft.ApiManagement/service/users/keys/read', false],
    ['API Management Service Reader Role', 'Microsoft.ApiManagement/service/namedValues/listValue/action', false],
    ['API Management Service Contributor', 'Microsoft.ApiManagement/service/policyFragments/write', true],
    ['API Management Service Contributor', 'Microsoft.ApiManagement/service/namedValues/listValue/action', true],
    ['API Management Service Contributor', 'Microsoft.Authorization/roleAssignments/read', true],
    ['API Management Service Contributor', 'Microsoft.Authorization/roleAssignments/write', false],
    ['API Management Service Contributor', 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action', false],
    ['API Management Service Operator Role', 'Microsoft.ApiManagement/service/write', true],
    ['API Management Service Operator Role', 'Microsoft.ApiManagement/service/apis/policies/write', false],
    ['Role Based Access Control Administrator', 'Microsoft.Authorization/roleAssignments/write', true],
    ['Role Based Access Control Administrator', 'Microsoft.Authorization/roleAssignments/delete', true],
    ['Role Based Access Control Administrator', 'Microsoft.Authorization/roleDefinitions/write', false],
    ['Role Based Access Control Administrator', 'Microsoft.ApiManagement/service/write', false],
    ['User Access Administrator', 'Microsoft.Authorization/roleAssignments/write', true],
    ['User Access Administrator', 'Microsoft.ApiManagement/service/write', false],
    ['Managed Identity Operator', 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action', true],
    ['Managed Identity Operator', 'Microsoft.ManagedIdentity/userAssignedIdentities/read', true],
    ['Managed Identity Operator', 'Microsoft.ManagedIdentity/userAssignedIdentities/write', false],
  ])('%s: %s → %s', (role, action, granted) => {
    expect(roleGrants(role, action)).toBe(granted);
  });

  test('assignments inherit down the scope tree, by whole segments', () => {
    expect(scopeCovers('/', S)).toBe(true);
    expect(scopeCovers(SUB, S)).toBe(true);
    expect(scopeCovers(RG.toUpperCase(), `${S}/apis/echo/policies/policy`)).toBe(true);
    expect(scopeCovers(S, S)).toBe(true);
    expect(scopeCovers(`${S}/apis/echo`, S)).toBe(false);
    expect(scopeCovers(`${SUB}/resourceGroups/rg-apim`, RG)).toBe(false);
  });
});

describe('refusals', () => {
  const req = (method: string, path: string, body = ''): EmulatorRequest => ({ method, path, query: { 'api-version': '2024-05-01' }, headers: {}, body, baseUrl: 'https://127.0.0.1:1' });
  const state = () => createEmulatorState({ ...DEFAULT_TARGET });

  test("AuthorizationFailed names the client, its object id, the action and the scope, in ARM's words", () => {
    const s = state();
    expect(setDeployerAssignments(s, [{ role: 'API Management Service Reader Role', scope: S }])).toBeUndefined();
    expect(authorize(req('GET', `${S}/apis/echo/policies/policy`), s)).toBeUndefined();
    const r = authorize(req('PUT', `${S}/apis/echo/policies/policy`), s);
    expect(r?.status).toBe(403);
    expect(r?.body).toEqual({
      error: {
        code: 'AuthorizationFailed',
        message: `The client '${DEFAULT_TARGET.clientId}' with object id '${deployerObjectId(s)}' does not have authorization to perform action 'Microsoft.ApiManagement/service/apis/policies/write' over scope '${S}/apis/echo/policies/policy' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
      },
    });
    // The assignment is on the service: the resource group above it is not covered.
    expect(authorize(req('GET', `${RG}/providers/Microsoft.Authorization/roleAssignments`), s)?.status).toBe(403);
  });

  test('attaching a user-assigned identity needs assign/action on it (LinkedAuthorizationFailed, the missing action second); one already attached does not', () => {
    const s = state();
    setDeployerAssignments(s, [{ role: 'API Management Service Contributor', scope: S }]);
    const patch = req('PATCH', S, JSON.stringify({ identity: { type: 'UserAssigned', userAssignedIdentities: { [UAI]: {} } } }));
    const r = authorize(patch, s) as { status: number; body: { error: { code: string; message: string } } };
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('LinkedAuthorizationFailed');
    expect(r.body.error.message).toBe(
      `The client '${DEFAULT_TARGET.clientId}' with object id '${deployerObjectId(s)}' has permission to perform action 'Microsoft.ApiManagement/service/write' on scope '${S}'; however, it does not have permission to perform action(s) 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action' on the linked scope(s) '${UAI}' (respectively) or the linked scope(s) are invalid.`,
    );
    s.resources.set('identity', { address: 'identity', value: { type: 'UserAssigned', userAssignedIdentities: { [UAI]: {} } }, etag: '"1"' });
    expect(authorize(patch, s)).toBeUndefined();
    // A detach (null) needs nothing on the identity.
    s.resources.delete('identity');
    expect(authorize(req('PATCH', S, JSON.stringify({ identity: { type: 'None', userAssignedIdentities: { [UAI]: null } } })), s)).toBeUndefined();
    setDeployerAssignments(s, [
      { role: 'API Management Service Contributor', scope: S },
      { role: 'Managed Identity Operator', scope: `${SUB}/resourceGroups/rg-id` },
    ]);
    expect(authorize(patch, s)).toBeUndefined();
  });
});

describe('admin API', () => {
  let emu: RunningEmulator;
  afterEach(async () => {
    await emu?.close();
  });

  test('GET rbac shows the default (the documented minimum); POST replaces it; an unknown role is a 400 listing the known ones; the refusal reaches the client', async () => {
    emu = await startEmulator();
    const url = `${emu.ready.adminUrl}rbac`;
    const got = await raw(emu, 'GET', url);
    expect(got.status).toBe(200);
    expect(got.body.deployer).toEqual([
      { role: 'API Management Service Contributor', scope: S },
      { role: 'Role Based Access Control Administrator', scope: SUB },
      { role: 'Managed Identity Operator', scope: SUB },
    ]);
    const bad = await raw(emu, 'POST', url, { body: JSON.stringify({ deployer: [{ role: 'Ownr', scope: SUB }] }) });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toContain('unknown role "Ownr"');
    expect(bad.body.error).toContain('Owner, Contributor, Reader');
    expect((await raw(emu, 'GET', url)).body.deployer).toHaveLength(3);

    const set = await raw(emu, 'POST', url, { body: JSON.stringify({ deployer: [{ role: 'reader', scope: SUB }] }) });
    expect(set.status).toBe(200);
    expect(set.body.deployer).toEqual([{ role: 'Reader', scope: SUB }]);
    expect(set.body.objectId).toMatch(/^[0-9a-f-]{36}$/);
  });

  test('EmulatorOptions.rbac starts with given roles; an invalid one does not start', async () => {
    await expect(startEmulator({ rbac: [{ role: 'Nope', scope: SUB }] })).rejects.toThrow(/unknown role "Nope"/);
    emu = await startEmulator({ rbac: [{ role: 'Reader', scope: RG }] });
    expect((await raw(emu, 'GET', `${emu.ready.adminUrl}rbac`)).body.deployer).toEqual([{ role: 'Reader', scope: RG }]);
  });
});
