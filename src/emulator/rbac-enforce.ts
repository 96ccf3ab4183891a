/**
 * ARM authorisation in the emulator: every ARM request is mapped to the action and scope ARM
 * checks (`requestActions`), and the deploying identity (the app the fake Entra issues tokens to)
 * must hold a role assignment at that scope or above whose role grants the action
 * (rbac-roles.ts). Refusals are ARM's: 403 `AuthorizationFailed` naming the client, its object
 * id, the action and the scope; a service PATCH that newly attaches a user-assigned identity is
 * also checked for `Microsoft.ManagedIdentity/userAssignedIdentities/assign/action` on each one
 * (403 `LinkedAuthorizationFailed`, the missing action second).
 *
 * The deployer's assignments live beside the state (`GET`/`POST /admin/rbac`). By default it holds
 * the minimum the README documents for plan + apply with identity.yaml: API Management Service
 * Contributor on the instance, Role Based Access Control Administrator and Managed Identity
 * Operator on the subscription (the default allowed scope of role assignments).
 */
import { stableGuid } from './arm-principals.js';
import { canonicalRoleName, roleGrants, ROLE_PERMISSIONS } from './rbac-roles.js';
import { armError, type EmulatorRequest, type EmulatorResponse, type EmulatorState } from './types.js';

export interface DeployerAssignment {
  role: string;
  scope: string;
}

export interface RequiredAction {
  action: string;
  scope: string;
}

const held = new WeakMap<EmulatorState, DeployerAssignment[]>();

const subscriptionScope = (state: EmulatorState) => `/subscriptions/${state.target.subscriptionId}`;
const serviceScope = (state: EmulatorState) => {
  const t = state.target;
  return `/subscriptions/${t.subscriptionId}/resourceGroups/${t.resourceGroup}/providers/Microsoft.ApiManagement/service/${t.serviceName}`;
};

/** The documented minimum for plan + apply with identity.yaml (default allowed scope: the subscription). */
export function defaultDeployerAssignments(state: EmulatorState): DeployerAssignment[] {
  return [
    { role: 'API Management Service Contributor', scope: serviceScope(state) },
    { role: 'Role Based Access Control Administrator', scope: subscriptionScope(state) },
    { role: 'Managed Identity Operator', scope: subscriptionScope(state) },
  ];
}

export function deployerAssignments(state: EmulatorState): DeployerAssignment[] {
  let a = held.get(state);
  if (!a) {
    a = defaultDeployerAssignments(state);
    held.set(state, a);
  }
  return a;
}

/** The deployer's stable object id (the service principal of the app `target.clientId`). */
export function deployerObjectId(state: EmulatorState): string {
  return stableGuid(`deployer:${state.target.clientId}`);
}

/** Validates and replaces the deployer's assignments; an error message when one is not valid. */
export function setDeployerAssignments(state: EmulatorState, value: unknown): string | undefined {
  if (!Array.isArray(value)) return 'body must be {"deployer":[{"role","scope"}, …]}';
  const out: DeployerAssignment[] = [];
  for (const [i, a] of value.entries()) {
    const role = typeof a?.role === 'string' ? canonicalRoleName(a.role) : undefined;
    if (!role) return `deployer[${i}]: unknown role ${JSON.stringify(a?.role)}; known roles: ${Object.keys(ROLE_PERMISSIONS).join(', ')}`;
    if (typeof a.scope !== 'string' || !/^\/(subscriptions\/[^/]+(\/.*)?)?$/i.test(a.scope) || /\/\.{1,2}(\/|$)/.test(a.scope)) {
      return `deployer[${i}]: scope ${JSON.stringify(a.scope)} is not an ARM scope (/, /subscriptions/…)`;
    }
    out.push({ role, scope: a.scope.replace(/\/+$/, '') || '/' });
  }
  held.set(state, out);
  return undefined;
}

const lower = (s: string) => s.toLowerCase();
/** Assignment scope `a` is at or above request scope `b` (whole segments, case-insensitive). */
export function scopeCovers(a: string, b: string): boolean {
  const x = lower(a).replace(/\/+$/, '');
  const y = lower(b).replace(/\/+$/, '');
  return x === '' || x === y || y.startsWith(`${x}/`);
}

export function isAllowed(state: EmulatorState, action: string, scope: string): boolean {
  return deployerAssignments(state).some((a) => scopeCovers(a.scope, scope) && roleGrants(a.role, action));
}

const verb = (method: string) => (method === 'GET' || method === 'HEAD' ? 'read' : method === 'DELETE' ? 'delete' : method === 'PUT' || method === 'PATCH' ? 'write' : undefined);

/**
 * The action and scope ARM checks for a request, or undefined when the path is not one the
 * emulator knows how to authorise (refused).
 */
export function requestActions(method: string, rawPath: string): RequiredAction | undefined {
  const path = rawPath.replace(/\/{2,}/g, '/').replace(/\/+$/, '');
  const m = method.toUpperCase();
  let x: RegExpExecArray | null;
  // Role assignments and definitions at any scope (an extension resource: the scope is the path before /providers/Microsoft.Authorization).
  if (/^(.*)\/providers\/Microsoft\.Authorization\/roleAssignments\/[^/]+$/i.test(path)) {
    const v = verb(m);
    return v ? { action: `Microsoft.Authorization/roleAssignments/${v}`, scope: path } : undefined;
  }
  if ((x = /^(.*)\/providers\/Microsoft\.Authorization\/roleAssignments$/i.exec(path))) {
    return m === 'GET' ? { action: 'Microsoft.Authorization/roleAssignments/read', scope: x[1] || '/' } : undefined;
  }
  if ((x = /^(.*)\/providers\/Microsoft\.Authorization\/roleDefinitions(\/[^/]+)?$/i.exec(path))) {
    return m === 'GET' ? { action: 'Microsoft.Authorization/roleDefinitions/read', scope: x[1] || '/' } : undefined;
  }
  if (/^\/subscriptions\/[^/]+$/i.test(path)) return m === 'GET' ? { action: 'Microsoft.Resources/subscriptions/read', scope: path } : undefined;
  if (/^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+$/i.test(path)) {
    const v = verb(m);
    return v ? { action: `Microsoft.Resources/subscriptions/resourceGroups/${v}`, scope: path } : undefined;
  }
  // A provider resource: /subscriptions/s/resourceGroups/rg/providers/{namespace}/{type}/{name}[/{type}/{name}…][/{type} | /{action}]
  if ((x = /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/([^/]+)\/(.+)$/i.exec(path))) {
    const namespace = x[1]!;
    const rest = x[2]!.split('/');
    const types = rest.filter((_, i) => i % 2 === 0);
    const parent = types.length > 1 ? path.split('/').slice(0, -1).join('/') : path;
    if (rest.length % 2 === 0) {
      // An item: GET read, PUT/PATCH write, DELETE delete.
      const v = verb(m);
      return v ? { action: `${namespace}/${types.join('/')}/${v}`, scope: path } : undefined;
    }
    if (m === 'GET' || m === 'HEAD') return rest.length === 1 ? undefined : { action: `${namespace}/${types.join('/')}/read`, scope: parent };
    if (m === 'POST' && rest.length > 1) {
      // POST …/{name}/{action}: the action of the resource it is posted on.
      const name = types.pop()!;
      return { action: `${namespace}/${types.join('/')}/${name}/action`, scope: parent };
    }
  }
  return undefined;
}

/** The user-assigned identities a service PATCH attaches that the service does not have yet. */
function newlyAttached(req: EmulatorRequest, state: EmulatorState): string[] {
  if (req.method !== 'PATCH' && req.method !== 'PUT') return [];
  if (!/\/providers\/Microsoft\.ApiManagement\/service\/[^/]+$/i.test(req.path.replace(/\/+$/, ''))) return [];
  let body: any;
  try {
    body = JSON.parse(req.body || '{}');
  } catch {
    return []; // the handler answers the malformed body
  }
  const wanted = Object.entries((body?.identity?.userAssignedIdentities ?? {}) as Record<string, unknown>)
    .filter(([, v]) => v !== null)
    .map(([k]) => k);
  const current = Object.keys(((state.resources.get('identity')?.value as any)?.userAssignedIdentities ?? {}) as Record<string, unknown>).map(lower);
  return wanted.filter((id) => !current.includes(lower(id)));
}

const REFRESH = 'If access was recently granted, please refresh your credentials.';

/** 403 when the deployer may not make this ARM request; undefined when it may. */
export function authorize(req: EmulatorRequest, state: EmulatorState): EmulatorResponse | undefined {
  const client = state.target.clientId;
  const oid = deployerObjectId(state);
  const need = requestActions(req.method, req.path);
  if (!need) {
    return armError(
      403,
      'AuthorizationFailed',
      `The client '${client}' with object id '${oid}' does not have authorization to perform action '${req.method} ${req.path}' over scope '${req.path}' or the scope is invalid. ${REFRESH}`,
    );
  }
  if (!isAllowed(state, need.action, need.scope)) {
    return armError(
      403,
      'AuthorizationFailed',
      `The client '${client}' with object id '${oid}' does not have authorization to perform action '${need.action}' over scope '${need.scope}' or the scope is invalid. ${REFRESH}`,
    );
  }
  const assign = 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action';
  const denied = newlyAttached(req, state).filter((id) => !isAllowed(state, assign, id));
  if (denied.length) {
    return armError(
      403,
      'LinkedAuthorizationFailed',
      `The client '${client}' with object id '${oid}' has permission to perform action '${need.action}' on scope '${need.scope}'; however, it does not have permission to perform action(s) '${denied.map(() => assign).join(',')}' on the linked scope(s) '${denied.join(',')}' (respectively) or the linked scope(s) are invalid.`,
    );
  }
  return undefined;
}

/** `GET /admin/rbac` and `POST /admin/rbac` (same shape: `{"deployer":[{"role","scope"}]}`, replaces them). */
export function rbacAdmin(req: EmulatorRequest, state: EmulatorState): EmulatorResponse {
  if (req.method === 'POST') {
    let body: any;
    try {
      body = JSON.parse(req.body || '{}');
    } catch {
      return { status: 400, body: { error: 'body must be JSON: {"deployer":[{"role","scope"}, …]}' } };
    }
    const problem = setDeployerAssignments(state, body?.deployer);
    if (problem) return { status: 400, body: { error: problem } };
  }
  return { status: 200, body: { deployer: deployerAssignments(state), clientId: state.target.clientId, objectId: deployerObjectId(state) } };
}
