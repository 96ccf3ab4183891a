/**
 * ARM routes for APIM backends, as `apimbackends.json` (2024-05-01) describes them at service level
 * and `apimworkspacebackends.json` (`WorkspaceBackend_*`, the same contract) under a workspace
 * (`S/workspaces/{w}/backends…`, stored as `workspaces/{w}/backends/{id}`; a workspace the instance
 * lacks is ARM's 404 NotFound): `GET S/backends` (paged; `$filter` on name, title, url), `GET`/`HEAD S/backends/{id}`,
 * `PUT` (not long-running; If-Match optional; 201/200 with an ETag), `PATCH` (If-Match required;
 * 200), `DELETE` (If-Match required; 200, or 204 when absent).
 *
 * Stored as `backends/{id}` with value = the `properties` as sent, checked against
 * `BackendContractProperties` (url 1–2000 characters and an absolute URI, protocol `http` or
 * `soap`, …), plus the defaults the spec declares: `tls.validateCertificateChain` and
 * `tls.validateCertificateName` default to true. So a GET answers more than a file sets.
 */
import { addressKey } from '../model/address.js';
import {
  armId,
  isChildOf,
  fieldError,
  get,
  ifMatchProblem,
  matchServiceChild,
  methodNotAllowed,
  notFound,
  quote,
  readProperties,
  resourceType,
  storedMatching,
  type StoredRecord,
} from './arm-entities.js';
import { compileFilter } from './arm-odata.js';
import { armError, page, type EmulatorRequest, type EmulatorResponse, type EmulatorState, type RouteHandler } from './types.js';

const KNOWN = ['url', 'protocol', 'title', 'description', 'resourceId', 'properties', 'credentials', 'proxy', 'tls', 'circuitBreaker', 'pool', 'type'];
const OBJECTS = ['properties', 'credentials', 'proxy', 'tls', 'circuitBreaker', 'pool'];

/** Checks `BackendContractProperties` and returns what is stored (with the spec's defaults), or ARM's 400. */
export function checkBackend(p: Record<string, unknown>): Record<string, unknown> | { error: EmulatorResponse } {
  const unknown = Object.keys(p).filter((k) => !KNOWN.includes(k));
  if (unknown.length) return { error: fieldError(unknown[0]!, `Unknown backend property '${unknown[0]}' (known: ${KNOWN.join(', ')}).`) };
  const url = p.url;
  if (typeof url !== 'string' || url.length < 1 || url.length > 2000) return { error: fieldError('url', 'url is required: an absolute URI of 1 to 2000 characters.') };
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || !/^[a-z][a-z0-9+.-]*:/i.test(url) || (/^https?:$/i.test(parsed.protocol) && !parsed.host)) {
    return { error: fieldError('url', `url '${url}' is not an absolute URI (e.g. https://backend.example.com/api).`) };
  }
  if (p.protocol !== 'http' && p.protocol !== 'soap') return { error: fieldError('protocol', `protocol is required and must be 'http' or 'soap'; got ${JSON.stringify(p.protocol)}.`) };
  for (const [key, max] of [
    ['title', 300],
    ['description', 2000],
    ['resourceId', 2000],
  ] as const) {
    const v = p[key];
    if (v !== undefined && (typeof v !== 'string' || v.length < 1 || v.length > max)) return { error: fieldError(key, `${key} must be a string of 1 to ${max} characters.`) };
  }
  if (p.type !== undefined && p.type !== 'Single' && p.type !== 'Pool') return { error: fieldError('type', `type must be 'Single' or 'Pool'; got ${JSON.stringify(p.type)}.`) };
  for (const key of OBJECTS) {
    const v = p[key];
    if (v !== undefined && (typeof v !== 'object' || v === null || Array.isArray(v))) return { error: fieldError(key, `${key} must be an object.`) };
  }
  const tls = (p.tls ?? {}) as Record<string, unknown>;
  for (const key of ['validateCertificateChain', 'validateCertificateName']) {
    if (tls[key] !== undefined && typeof tls[key] !== 'boolean') return { error: fieldError(`tls.${key}`, `tls.${key} must be true or false.`) };
  }
  return { ...p, tls: { validateCertificateChain: true, validateCertificateName: true, ...tls } };
}

/** The `BackendContract` of a stored record (tolerates values written by the admin API). */
export function backendContract(state: EmulatorState, r: StoredRecord): unknown {
  const name = r.address.split('/').pop()!;
  const properties = typeof r.value === 'object' && r.value !== null ? r.value : {};
  return { id: armId(state, r.address), type: resourceType(r.address), name, properties };
}

/** Stores checked properties with a fresh ETag. */
export function storeBackend(state: EmulatorState, address: string, properties: Record<string, unknown>): StoredRecord {
  const record: StoredRecord = { address: get(state, address)?.address ?? address, value: properties, etag: quote(state.nextEtag()) };
  state.resources.set(addressKey(address), record);
  return record;
}

function item(req: EmulatorRequest, state: EmulatorState, prefix: string, id: string): EmulatorResponse {
  const address = `${prefix}backends/${id}`;
  const record = get(state, address);
  const method = req.method.toUpperCase();
  switch (method) {
    case 'GET':
      return record ? { status: 200, headers: { ETag: record.etag }, body: backendContract(state, record) } : notFound('Backend');
    case 'HEAD':
      return record ? { status: 200, headers: { ETag: record.etag } } : { status: 404 };
    case 'PUT':
    case 'PATCH': {
      if (method === 'PUT' && (id.length < 1 || id.length > 80)) return fieldError('backendId', `Backend id '${id}' must have 1 to 80 characters.`);
      const problem = ifMatchProblem(req, record, method === 'PATCH');
      if (problem) return problem;
      if (method === 'PATCH' && !record) return notFound('Backend');
      const read = readProperties(req.body);
      if ('error' in read) return read.error;
      const merged = method === 'PATCH' ? { ...(record!.value as Record<string, unknown>), ...read.props } : read.props;
      const checked = checkBackend(merged);
      if ('error' in checked) return checked.error as EmulatorResponse;
      const stored = storeBackend(state, address, checked);
      return { status: method === 'PUT' && !record ? 201 : 200, headers: { ETag: stored.etag }, body: backendContract(state, stored) };
    }
    case 'DELETE': {
      const problem = ifMatchProblem(req, record, true);
      if (problem) return problem;
      if (!record) return { status: 204 };
      state.resources.delete(addressKey(address));
      return { status: 200 };
    }
    default:
      return methodNotAllowed(method);
  }
}

/** The route handler for backends of the service and of its workspaces; `pageSize` as for the policy routes. */
export function createBackendRoutes(options: { pageSize?: number } = {}): RouteHandler {
  const pageSize = options.pageSize ?? 100;
  return (req, state) => {
    const m = matchServiceChild(req, state, 'backends');
    if (!m) return undefined;
    if ('response' in m) return m.response;
    if (m.action !== undefined) return armError(404, 'NotFound', `The emulator has no backend action '${m.action}'.`);
    if (m.id !== undefined) return item(req, state, m.prefix, m.id);
    if (req.method.toUpperCase() !== 'GET') return methodNotAllowed(req.method.toUpperCase());
    const filter = compileFilter(req.query['$filter'], { strings: ['name', 'title', 'url'] });
    if (typeof filter === 'string') return armError(400, 'ValidationError', filter);
    const list = storedMatching(state, (a) => isChildOf(a, m.prefix, 'backends'))
      .map((r) => backendContract(state, r) as { name: string; properties: Record<string, unknown> })
      .filter((c) => filter({ ...c.properties, name: c.name }));
    return { status: 200, body: page(req, list, pageSize) };
  };
}

export const backendRoutes: RouteHandler = createBackendRoutes();
