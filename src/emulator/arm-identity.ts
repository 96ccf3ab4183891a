/**
 * ARM routes for the instance's identity (APIM 2024-05-01, Managed Identity 2024-11-30), and the
 * router for identity and RBAC (arm-rbac.ts):
 * - `GET S` / `PATCH S` (identity, a long-running operation polled at `S/operationresults/{id}`);
 * - user-assigned identities: a first GET of an unknown ID under the emulator's subscription creates
 *   it, with principalId/clientId derived deterministically from the (lower-cased) resource ID.
 */
import { norm, parseJson, servicePath, stableGuid, userAssignedIdentityIds } from './arm-principals.js';
import { listAssignments, roleAssignment, roleDefinitions } from './arm-rbac.js';
import { armError, type EmulatorRequest, type EmulatorResponse, type EmulatorState, type RouteHandler } from './types.js';

export const APIM_API_VERSION = '2024-05-01';

const IDENTITY_TYPES = ['None', 'SystemAssigned', 'UserAssigned', 'SystemAssigned, UserAssigned'];

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

function requireApiVersion(req: EmulatorRequest): EmulatorResponse | undefined {
  if (!req.query['api-version']) {
    return armError(400, 'MissingApiVersionParameter', 'The api-version query parameter (?api-version=) is required for all requests.');
  }
  return undefined;
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
    const type = IDENTITY_TYPES.find(
      (t) =>
        t.replace(/\s/g, '').toLowerCase() ===
        String(id.type ?? '')
          .replace(/\s/g, '')
          .toLowerCase(),
    );
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
