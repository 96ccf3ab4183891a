/**
 * ARM routes for identity and RBAC (AZURE-CONTRACT.md §3–§5):
 * - `GET S` / `PATCH S` (identity, a long-running operation polled at `S/operationresults/{id}`);
 * - user-assigned identities: a first GET of an unknown ID under the emulator's subscription creates
 *   it, with principalId/clientId derived deterministically from the (lower-cased) resource ID;
 * - role assignments PUT/GET/DELETE/list (`atScope()`, `principalId eq '…'`), stored at
 *   `roleAssignments/<guid>`, with `RoleAssignmentExists`, `RoleAssignmentUpdateNotPermitted` and
 *   injected `PrincipalNotFound` (`state.faults.principalNotFound`);
 * - built-in role definitions (`roleName eq '…'`).
 */
import { createHash } from 'node:crypto';
import type { LiveSeedIdentity } from '../model/seed.js';
import { armError, page, type EmulatorRequest, type EmulatorResponse, type EmulatorState, type RouteHandler } from './types.js';

export const APIM_API_VERSION = '2024-05-01';

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
};

const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const IDENTITY_TYPES = ['None', 'SystemAssigned', 'UserAssigned', 'SystemAssigned, UserAssigned'];

/** A GUID derived from a string (stable across runs). */
export function stableGuid(seed: string): string {
  const h = createHash('sha256').update(seed.toLowerCase()).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Identity of a user-assigned identity: deterministic from its resource ID. */
export function userAssignedIdentityIds(resourceId: string): { principalId: string; clientId: string } {
  return { principalId: stableGuid(`uai-principal:${resourceId}`), clientId: stableGuid(`uai-client:${resourceId}`) };
}

interface SideData {
  serviceEtag?: string;
  /** operation id → remaining 202 polls */
  operations: Map<string, number>;
  lroPolls: number;
  uais: Set<string>;
}
const side = new WeakMap<EmulatorState, SideData>();
function sideOf(state: EmulatorState): SideData {
  let s = side.get(state);
  if (!s) {
    s = { operations: new Map(), lroPolls: 1, uais: new Set() };
    side.set(state, s);
  }
  return s;
}

/** How many polls of an identity LRO answer 202 before 200 (default 1). */
export function setIdentityLroPolls(state: EmulatorState, polls: number): void {
  sideOf(state).lroPolls = Math.max(0, polls);
}

const norm = (p: string) => p.replace(/\/{2,}/g, '/').replace(/\/+$/, '').toLowerCase();

function servicePath(state: EmulatorState): string {
  const t = state.target;
  return `/subscriptions/${t.subscriptionId}/resourceGroups/${t.resourceGroup}/providers/Microsoft.ApiManagement/service/${t.serviceName}`;
}

function requireApiVersion(req: EmulatorRequest): EmulatorResponse | undefined {
  if (!req.query['api-version']) {
    return armError(
      400,
      'MissingApiVersionParameter',
      "The api-version query parameter (?api-version=) is required for all requests.",
    );
  }
  return undefined;
}

function parseJson(body: string): { value?: any; error?: EmulatorResponse } {
  if (!body.trim()) return { value: {} };
  try {
    return { value: JSON.parse(body) };
  } catch (e) {
    return { error: armError(400, 'InvalidRequestContent', `The request content was invalid and could not be deserialized: '${(e as Error).message}'.`) };
  }
}

// ---------- service identity ----------

function storedIdentity(state: EmulatorState): any {
  return state.resources.get('identity')?.value ?? { type: 'None' };
}

function enrichIdentity(state: EmulatorState, raw: any): any {
  const type: string = raw?.type ?? 'None';
  if (/^none$/i.test(type)) return { type: 'None' };
  const out: any = { type };
  if (/systemassigned/i.test(type)) {
    out.principalId = raw.principalId ?? stableGuid(`system:${servicePath(state)}`);
    out.tenantId = raw.tenantId ?? state.target.tenantId;
  }
  if (/userassigned/i.test(type)) {
    out.userAssignedIdentities = {};
    for (const id of Object.keys(raw.userAssignedIdentities ?? {})) {
      out.userAssignedIdentities[id] = userAssignedIdentityIds(id);
    }
  }
  return out;
}

function serviceResource(state: EmulatorState): Record<string, unknown> {
  const s = sideOf(state);
  if (!s.serviceEtag) s.serviceEtag = `"${state.nextEtag()}"`;
  const t = state.target;
  const host = `${t.serviceName}.azure-api.net`;
  return {
    id: servicePath(state),
    name: t.serviceName,
    type: 'Microsoft.ApiManagement/service',
    location: 'West Europe',
    etag: s.serviceEtag,
    tags: {},
    sku: { name: 'Developer', capacity: 1 },
    identity: enrichIdentity(state, storedIdentity(state)),
    systemData: { createdBy: 'emulator', createdByType: 'Application' },
    properties: {
      publisherEmail: 'apis@example.com',
      publisherName: 'Emulator',
      provisioningState: 'Succeeded',
      targetProvisioningState: '',
      createdAtUtc: '2024-01-01T00:00:00Z',
      gatewayUrl: `https://${host}`,
      portalUrl: `https://${t.serviceName}.portal.azure-api.net`,
      managementApiUrl: `https://${t.serviceName}.management.azure-api.net`,
      developerPortalUrl: `https://${t.serviceName}.developer.azure-api.net`,
      hostnameConfigurations: [{ type: 'Proxy', hostName: host, negotiateClientCertificate: false, defaultSslBinding: true, certificateSource: 'BuiltIn' }],
      publicIPAddresses: ['203.0.113.10'],
      virtualNetworkType: 'None',
      disableGateway: false,
      natGatewayState: 'Disabled',
      apiVersionConstraint: {},
      publicNetworkAccess: 'Enabled',
      platformVersion: 'stv2',
    },
  };
}

function patchService(req: EmulatorRequest, state: EmulatorState): EmulatorResponse {
  const { value, error } = parseJson(req.body);
  if (error) return error;
  const etagHeader = req.headers['if-match'];
  const s = sideOf(state);
  if (etagHeader && etagHeader !== '*' && s.serviceEtag && etagHeader !== s.serviceEtag) {
    return armError(412, 'PreconditionFailed', 'The resource has been modified since it was last read (ETag mismatch).');
  }
  if (value?.identity !== undefined) {
    const id = value.identity ?? {};
    const type = IDENTITY_TYPES.find((t) => t.replace(/\s/g, '').toLowerCase() === String(id.type ?? '').replace(/\s/g, '').toLowerCase());
    if (!type) {
      return armError(400, 'ValidationError', `Identity type '${String(id.type)}' is not supported. Supported values: ${IDENTITY_TYPES.join(', ')}.`);
    }
    const current = storedIdentity(state);
    const uai: Record<string, object> = {};
    if (/userassigned/i.test(type)) {
      const existing = (current.userAssignedIdentities ?? {}) as Record<string, unknown>;
      for (const k of Object.keys(existing)) uai[k] = {};
      for (const [k, v] of Object.entries((id.userAssignedIdentities ?? {}) as Record<string, unknown>)) {
        const same = Object.keys(uai).find((e) => e.toLowerCase() === k.toLowerCase());
        if (same) delete uai[same];
        if (v !== null) uai[k] = {};
      }
      if (Object.keys(uai).length === 0) {
        return armError(400, 'ValidationError', "Identity type 'UserAssigned' requires at least one entry in userAssignedIdentities.");
      }
      for (const k of Object.keys(uai)) {
        if (!/^\/subscriptions\/[^/]+\/resourcegroups\/[^/]+\/providers\/microsoft\.managedidentity\/userassignedidentities\/[^/]+$/i.test(k)) {
          return armError(400, 'InvalidUserAssignedIdentityId', `The user-assigned identity '${k}' is not a valid resource ID.`);
        }
      }
    }
    const stored: any = { type };
    if (Object.keys(uai).length) stored.userAssignedIdentities = uai;
    state.resources.set('identity', { address: 'identity', value: stored, etag: `"${state.nextEtag()}"` });
  }
  s.serviceEtag = `"${state.nextEtag()}"`;
  const opId = stableGuid(`op:${s.serviceEtag}:${Date.now()}:${Math.random()}`).replace(/-/g, '');
  s.operations.set(opId.toLowerCase(), s.lroPolls);
  const url = `${req.baseUrl}${servicePath(state)}/operationresults/${opId}?api-version=${req.query['api-version']}&asyncResponse`;
  return { status: 202, headers: { Location: url, 'Azure-AsyncOperation': url, 'Retry-After': '1' } };
}

function operationResult(state: EmulatorState, opId: string): EmulatorResponse {
  const s = sideOf(state);
  const remaining = s.operations.get(opId.toLowerCase());
  if (remaining === undefined) {
    return armError(404, 'ResourceNotFound', `The operation '${opId}' was not found.`);
  }
  if (remaining > 0) {
    s.operations.set(opId.toLowerCase(), remaining - 1);
    return { status: 202, headers: { 'Retry-After': '1' }, body: { status: 'InProgress' } };
  }
  return { status: 200, body: serviceResource(state) };
}

// ---------- user-assigned identities ----------

function userAssignedIdentity(req: EmulatorRequest, state: EmulatorState, sub: string, rg: string, name: string): EmulatorResponse {
  if (req.method !== 'GET') return armError(405, 'MethodNotAllowed', `The emulator supports only GET on user-assigned identities.`);
  if (sub.toLowerCase() !== state.target.subscriptionId.toLowerCase()) {
    return armError(404, 'SubscriptionNotFound', `The subscription '${sub}' could not be found.`);
  }
  const id = `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;
  sideOf(state).uais.add(id.toLowerCase()); // created on first GET; IDs are deterministic anyway
  return {
    status: 200,
    body: {
      id,
      name,
      type: 'Microsoft.ManagedIdentity/userAssignedIdentities',
      location: 'westeurope',
      tags: {},
      properties: { tenantId: state.target.tenantId, ...userAssignedIdentityIds(id), isolationScope: 'None' },
    },
  };
}

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
      permissions: [{ actions: [], notActions: [], dataActions: [], notDataActions: [] }],
    },
  };
}

function roleDefinitions(req: EmulatorRequest, state: EmulatorState, guid?: string): EmulatorResponse {
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
    (a) =>
      normScope(a.properties.scope) === nScope &&
      a.properties.principalId.toLowerCase() === String(p.principalId).toLowerCase() &&
      guidOf(a.properties.roleDefinitionId) === roleGuid,
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

/** The system identity's principal the emulator reports once the identity is on. */
export function systemPrincipalId(state: EmulatorState): string {
  return enrichIdentity(state, { type: 'SystemAssigned' }).principalId;
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

function roleAssignment(req: EmulatorRequest, state: EmulatorState, scope: string, name: string): EmulatorResponse {
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

function listAssignments(req: EmulatorRequest, state: EmulatorState, scope: string): EmulatorResponse {
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

// ---------- router ----------

export const identityRoutes: RouteHandler = (req, state) => {
  const path = req.path.replace(/\/{2,}/g, '/').replace(/\/+$/, '');
  const lower = path.toLowerCase();
  const S = norm(servicePath(state));

  let m: RegExpExecArray | null;
  let route: (() => EmulatorResponse) | undefined;
  if (lower === S) {
    if (req.method === 'GET') route = () => ({ status: 200, body: serviceResource(state) });
    else if (req.method === 'PATCH') route = () => patchService(req, state);
    else return undefined;
  } else if ((m = new RegExp(`^${escapeRe(S)}/operationresults/([^/]+)$`).exec(lower))) {
    const id = m[1];
    if (req.method !== 'GET') return undefined;
    route = () => operationResult(state, id);
  } else if ((m = /^\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)\/providers\/microsoft\.managedidentity\/userassignedidentities\/([^/]+)$/i.exec(path))) {
    const [, sub, rg, name] = m;
    route = () => userAssignedIdentity(req, state, sub, rg, name);
  } else if ((m = /^(.*)\/providers\/microsoft\.authorization\/roleassignments\/([^/]+)$/i.exec(path))) {
    const [, scope, name] = m;
    route = () => roleAssignment(req, state, scope, name);
  } else if ((m = /^(.*)\/providers\/microsoft\.authorization\/roleassignments$/i.exec(path))) {
    const [, scope] = m;
    route = () => listAssignments(req, state, scope);
  } else if ((m = /^(.*)\/providers\/microsoft\.authorization\/roledefinitions(?:\/([^/]+))?$/i.exec(path))) {
    const guid = m[2];
    route = () => roleDefinitions(req, state, guid);
  }
  if (!route) return undefined;
  return requireApiVersion(req) ?? route();
};

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
