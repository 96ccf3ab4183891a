/**
 * ARM routes for RBAC (Authorization 2022-04-01): role assignments PUT/GET/DELETE/list
 * (`atScope()`, `principalId eq '…'`), stored at `roleAssignments/<guid>`, with
 * `RoleAssignmentExists`, `RoleAssignmentUpdateNotPermitted` and injected `PrincipalNotFound`
 * (`state.faults.principalNotFound`); built-in role definitions (`roleName eq '…'`); seeding.
 */
import type { LiveSeedIdentity } from '../model/seed.js';
import { norm, parseJson, systemPrincipalId, userAssignedIdentityIds } from './arm-principals.js';
import { ROLE_PERMISSIONS } from './rbac-roles.js';
import { armError, page, type EmulatorRequest, type EmulatorResponse, type EmulatorState } from './types.js';

export const BUILT_IN_ROLES: Record<string, string> = {
  'Azure Service Bus Data Sender': '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39',
  'Azure Service Bus Data Receiver': '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0',
  'Azure Event Hubs Data Sender': '2b629674-e913-4c01-ae53-ef4638d8f975',
  'Key Vault Secrets User': '4633458b-17de-408a-b874-0445c86b69e6',
  'Key Vault Certificate User': 'db79e9a7-68ee-4b58-9aeb-b90e7c24fcba',
  'Cognitive Services OpenAI User': '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd',
  'Cognitive Services User': 'a97b65f3-24c7-4388-baec-2e87135dc908',
  'Storage Blob Data Reader': '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1',
  'Storage Blob Data Contributor': 'ba92f5b4-2d11-453d-a403-e96b0029c9fe',
  Owner: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635',
  Contributor: 'b24988ac-6180-42a0-ab88-20f7382dd24c',
  'User Access Administrator': '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9',
  'Role Based Access Control Administrator': 'f58310d9-a9f6-439a-9e8d-f62e7b41a168',
  // A built-in role the product does not list offline: it must be looked up (roleName eq) like a custom role.
  'Azure Maps Data Reader': '423170ca-a8f6-4b0f-8487-9e4eb8f49bfa',
  // The roles the emulator enforces for the deployer (rbac-roles.ts).
  ...Object.fromEntries(Object.entries(ROLE_PERMISSIONS).map(([name, r]) => [name, r.guid])),
};

const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// ---------- role definitions ----------

function roleDefinition(state: EmulatorState, roleName: string, guid: string) {
  return {
    id: `/subscriptions/${state.target.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${guid}`,
    name: guid,
    type: 'Microsoft.Authorization/roleDefinitions',
    properties: {
      roleName,
      type: 'BuiltInRole',
      description: `${roleName} (built-in role, emulated)`,
      assignableScopes: ['/'],
      permissions: [{ actions: ROLE_PERMISSIONS[roleName]?.actions ?? [], notActions: ROLE_PERMISSIONS[roleName]?.notActions ?? [], dataActions: [], notDataActions: [] }],
    },
  };
}

export function roleDefinitions(req: EmulatorRequest, state: EmulatorState, guid?: string): EmulatorResponse {
  if (req.method !== 'GET') return armError(405, 'MethodNotAllowed', 'Role definitions are read-only in the emulator.');
  const all = Object.entries(BUILT_IN_ROLES);
  if (guid !== undefined) {
    const hit = all.find(([, g]) => g === guid.toLowerCase());
    return hit ? { status: 200, body: roleDefinition(state, hit[0], hit[1]) } : armError(404, 'RoleDefinitionDoesNotExist', `The specified role definition with ID '${guid}' does not exist.`);
  }
  const filter = req.query['$filter'] ?? '';
  let list = all;
  if (filter) {
    const m = /roleName\s+eq\s+'((?:[^']|'')*)'/i.exec(filter);
    if (!m) return armError(400, 'UnsupportedQuery', `The filter '${filter}' is not supported.`);
    const wanted = m[1].replace(/''/g, "'").toLowerCase();
    list = all.filter(([n]) => n.toLowerCase() === wanted);
  }
  return { status: 200, body: { value: list.map(([n, g]) => roleDefinition(state, n, g)) } };
}

// ---------- role assignments ----------

const guidOf = (roleDefinitionId: string) => (roleDefinitionId.split('/').pop() ?? '').toLowerCase();
const normScope = (s: string) => {
  const n = norm(s.startsWith('/') ? s : `/${s}`);
  return n === '' ? '/' : n;
};
/** a is at or above b. */
const atOrAbove = (a: string, b: string) => a === '/' || a === b || b.startsWith(`${a}/`);

function allAssignments(state: EmulatorState): any[] {
  const out: any[] = [];
  for (const [key, r] of state.resources) if (key.startsWith('roleassignments/')) out.push(r.value);
  return out;
}

function putAssignment(req: EmulatorRequest, state: EmulatorState, scope: string, name: string): EmulatorResponse {
  if (!GUID_RE.test(name)) {
    return armError(400, 'InvalidRoleAssignmentId', `The role assignment ID '${name}' is not valid. The role assignment ID must be a GUID.`);
  }
  const { value, error } = parseJson(req.body);
  if (error) return error;
  const p = value?.properties ?? {};
  if (!p.roleDefinitionId || !p.principalId) {
    return armError(400, 'InvalidCreateRoleAssignmentRequest', 'The request to create role assignment is invalid: roleDefinitionId and principalId are required.');
  }
  const roleGuid = guidOf(String(p.roleDefinitionId));
  if (!Object.values(BUILT_IN_ROLES).includes(roleGuid)) {
    return armError(400, 'RoleDefinitionDoesNotExist', `The specified role definition with ID '${roleGuid}' does not exist.`);
  }
  const key = `roleassignments/${name.toLowerCase()}`;
  const existing = state.resources.get(key)?.value as any;
  const nScope = normScope(scope);
  const now = new Date().toISOString();
  if (existing) {
    const e = existing.properties;
    if (normScope(e.scope) !== nScope || e.principalId.toLowerCase() !== String(p.principalId).toLowerCase() || guidOf(e.roleDefinitionId) !== roleGuid) {
      return armError(400, 'RoleAssignmentUpdateNotPermitted', 'Tenant ID, application ID, principal ID, and scope are not allowed to be updated.');
    }
    const updated = {
      ...existing,
      properties: { ...e, description: p.description ?? e.description, condition: p.condition ?? e.condition, conditionVersion: p.conditionVersion ?? e.conditionVersion, updatedOn: now },
    };
    state.resources.set(key, { address: `roleAssignments/${existing.name}`, value: updated, etag: `"${state.nextEtag()}"` });
    return { status: 200, body: updated };
  }
  const dup = allAssignments(state).find(
    (a) => normScope(a.properties.scope) === nScope && a.properties.principalId.toLowerCase() === String(p.principalId).toLowerCase() && guidOf(a.properties.roleDefinitionId) === roleGuid,
  );
  if (dup) {
    return armError(409, 'RoleAssignmentExists', `The role assignment already exists. The ID of the existing role assignment is ${String(dup.name).replace(/-/g, '')}.`);
  }
  if (state.faults.principalNotFound > 0) {
    state.faults.principalNotFound -= 1;
    return armError(
      400,
      'PrincipalNotFound',
      `Principal ${String(p.principalId).replace(/-/g, '')} does not exist in the directory ${state.target.tenantId}. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group.  See https://aka.ms/docs-principaltype`,
    );
  }
  const created = storeAssignment(state, scope, name, roleGuid, String(p.principalId), p);
  return { status: 201, body: created };
}

/** Stores a role assignment as ARM returns it (PUT, and seeding). */
function storeAssignment(
  state: EmulatorState,
  scope: string,
  name: string,
  roleGuid: string,
  principalId: string,
  p: { principalType?: string; condition?: string; conditionVersion?: string; description?: string } = {},
): unknown {
  const now = new Date().toISOString();
  const scopeOut = scope.startsWith('/') ? scope.replace(/\/{2,}/g, '/') : `/${scope}`;
  const created = {
    id: `${scopeOut === '/' ? '' : scopeOut}/providers/Microsoft.Authorization/roleAssignments/${name}`,
    name,
    type: 'Microsoft.Authorization/roleAssignments',
    properties: {
      roleDefinitionId: `/subscriptions/${state.target.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${roleGuid}`,
      principalId,
      principalType: p.principalType ?? 'ServicePrincipal',
      scope: scopeOut,
      condition: p.condition ?? null,
      conditionVersion: p.conditionVersion ?? null,
      description: p.description ?? null,
      createdOn: now,
      updatedOn: now,
      createdBy: state.target.clientId,
      updatedBy: state.target.clientId,
      delegatedManagedIdentityResourceId: null,
    },
  };
  state.resources.set(`roleassignments/${name.toLowerCase()}`, { address: `roleAssignments/${name}`, value: created, etag: `"${state.nextEtag()}"` });
  return created;
}

/**
 * Seeds identity and role assignments (`--seed` with an identity.yaml): the identity as given,
 * and each assignment under `seed.assignmentName(scope, principal, role)` (the name the tool
 * itself would use).
 */
export function seedIdentity(state: EmulatorState, seed: LiveSeedIdentity): void {
  const type = seed.systemAssigned ? (seed.userAssigned.length ? 'SystemAssigned, UserAssigned' : 'SystemAssigned') : seed.userAssigned.length ? 'UserAssigned' : 'None';
  const stored: any = { type };
  if (seed.userAssigned.length) stored.userAssignedIdentities = Object.fromEntries(seed.userAssigned.map((id) => [id, {}]));
  state.resources.set('identity', { address: 'identity', value: stored, etag: `"${state.nextEtag()}"` });
  for (const a of seed.roleAssignments) {
    const principalId = a.identity === 'system' ? systemPrincipalId(state) : userAssignedIdentityIds(a.identity).principalId;
    storeAssignment(state, a.scope, seed.assignmentName(a.scope, principalId, a.roleDefinitionGuid), a.roleDefinitionGuid, principalId);
  }
}

export function roleAssignment(req: EmulatorRequest, state: EmulatorState, scope: string, name: string): EmulatorResponse {
  const key = `roleassignments/${name.toLowerCase()}`;
  const existing = state.resources.get(key)?.value;
  switch (req.method) {
    case 'PUT':
      return putAssignment(req, state, scope, name);
    case 'GET':
      return existing ? { status: 200, body: existing } : armError(404, 'RoleAssignmentNotFound', `The role assignment '${name}' is not found.`);
    case 'DELETE':
      if (!existing) return { status: 204 };
      state.resources.delete(key);
      return { status: 200, body: existing };
    default:
      return armError(405, 'MethodNotAllowed', `The method '${req.method}' is not supported.`);
  }
}

/** Role assignments per page of a list (small, so that paging is exercised). */
const ROLE_ASSIGNMENT_PAGE_SIZE = 20;

export function listAssignments(req: EmulatorRequest, state: EmulatorState, scope: string): EmulatorResponse {
  if (req.method !== 'GET') return armError(405, 'MethodNotAllowed', `The method '${req.method}' is not supported.`);
  const filter = req.query['$filter'] ?? '';
  const atScope = /atScope\(\)/i.test(filter);
  const principal = /principalId\s+eq\s+'([^']*)'/i.exec(filter)?.[1]?.toLowerCase();
  if (filter && !atScope && principal === undefined) {
    return armError(400, 'UnsupportedQuery', `The filter '${filter}' is not supported.`);
  }
  const s = normScope(scope);
  const value = allAssignments(state).filter((a) => {
    const as = normScope(a.properties.scope);
    if (principal !== undefined && a.properties.principalId.toLowerCase() !== principal) return false;
    if (atScope) return atOrAbove(as, s);
    return atOrAbove(as, s) || atOrAbove(s, as);
  });
  // In pages, as ARM answers long lists: a client that does not follow nextLink misses assignments.
  return { status: 200, body: page(req, value, ROLE_ASSIGNMENT_PAGE_SIZE) };
}
