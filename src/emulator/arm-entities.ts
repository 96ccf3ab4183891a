/**
 * The emulator's stored records (`state.resources`) as ARM entities: address helpers shared by the
 * ARM route handlers, and the read-only contracts of APIs, operations, products and certificates
 * (which the policy routes list; see arm-policies.ts for storage). Named values and backends have
 * their own routes (arm-named-values.ts, arm-backends.ts).
 */
import { addressKey, parsePolicyAddress } from '../model/address.js';
import { armError, type EmulatorRequest, type EmulatorResponse, type EmulatorState } from './types.js';

export type StoredRecord = { address: string; value: unknown; etag: string; description?: string };

export const eq = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

export function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export function quote(token: string): string {
  return token.startsWith('"') ? token : `"${token}"`;
}

export function bareEtag(etag: string): string {
  return etag
    .trim()
    .replace(/^W\//, '')
    .replace(/^"(.*)"$/, '$1');
}

export function header(req: EmulatorRequest, name: string): string | undefined {
  const key = Object.keys(req.headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : req.headers[key];
}

/** `Microsoft.ApiManagement/service/apis/policies` from `apis/echo/policies/policy`. */
export function resourceType(address: string): string {
  const parts = address.split('/');
  const collections = parts.filter((_p, i) => i % 2 === 0);
  return ['Microsoft.ApiManagement/service', ...collections].join('/');
}

export function servicePrefix(state: EmulatorState): string {
  const t = state.target;
  return `/subscriptions/${t.subscriptionId}/resourceGroups/${t.resourceGroup}/providers/Microsoft.ApiManagement/service/${t.serviceName}`;
}

export function armId(state: EmulatorState, address: string): string {
  return `${servicePrefix(state)}/${address}`;
}

export function get(state: EmulatorState, address: string): StoredRecord | undefined {
  return state.resources.get(addressKey(address)) as StoredRecord | undefined;
}

export function isFragmentAddress(address: string): boolean {
  return parsePolicyAddress(address)?.kind === 'fragment';
}

export function notFound(what: string): EmulatorResponse {
  return armError(404, 'ResourceNotFound', `${what} not found.`);
}

export function methodNotAllowed(method: string): EmulatorResponse {
  return armError(405, 'MethodNotAllowed', `The HTTP method '${method}' is not supported here.`);
}

/** Every stored record whose address matches, sorted by address key for stable paging. */
export function storedMatching(state: EmulatorState, test: (address: string) => boolean): StoredRecord[] {
  return [...state.resources.entries()]
    .filter(([, r]) => test(r.address))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, r]) => r as StoredRecord);
}

/**
 * Entities of one collection (`apis`, `operations`, `products`, `workspaces`) directly under
 * `prefix`: only those stored themselves (`apis/{a}` …). ARM has no implied entities: a policy's
 * API exists because it was created, not because a policy names it.
 */
export function entities(state: EmulatorState, prefix: string, collection: string): Array<{ name: string; address: string; value: unknown }> {
  const p = (prefix + collection + '/').toLowerCase();
  return [...state.resources.entries()]
    .filter(([key]) => key.startsWith(p) && key.length > p.length && !key.slice(p.length).includes('/'))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, r]) => ({ name: r.address.slice(p.length), address: r.address, value: r.value }));
}

/**
 * The entities a policy or fragment address lies under, outermost first: its workspace, API,
 * operation or product (`workspaces/w/apis/a/operations/o/policies/policy` → `workspaces/w`,
 * `workspaces/w/apis/a`, `workspaces/w/apis/a/operations/o`). A service-level fragment or the
 * global policy has none.
 */
export function parentsOf(address: string): string[] {
  const scope = parsePolicyAddress(address);
  if (!scope) return [];
  const parts = address.split('/');
  const out: string[] = [];
  const ws = scope.workspace !== undefined ? 2 : 0;
  if (ws) out.push(parts.slice(0, 2).join('/'));
  if (scope.kind === 'fragment') return out;
  for (let i = ws + 2; i <= parts.length - 2; i += 2) out.push(parts.slice(0, i).join('/'));
  return out;
}

/** The first parent of `address` the instance does not have, if any. */
export function missingParent(state: EmulatorState, address: string): string | undefined {
  return parentsOf(address).find((p) => !state.resources.has(addressKey(p)));
}

/** ARM's answer for a call under an API, operation, product or workspace that does not exist. */
export function parentNotFound(): EmulatorResponse {
  return armError(404, 'NotFound', 'Entity with specified identifier not found');
}

/** Stores an API, operation, product or workspace (`{displayName}`), keeping one already stored. */
export function storeEntity(state: EmulatorState, address: string, displayName?: string): void {
  if (state.resources.has(addressKey(address))) return;
  const id = address.split('/').pop()!;
  const rev = /;rev=\d+$/i.exec(id);
  state.resources.set(addressKey(address), { address, value: { displayName: displayName ?? (rev ? id.slice(0, rev.index) : id) }, etag: quote(state.nextEtag()) });
}

/** Deletes an entity and, as ARM does, everything under it (an API's operations and policies); returns whether it existed. */
export function deleteEntity(state: EmulatorState, address: string): boolean {
  const key = addressKey(address);
  const had = state.resources.delete(key);
  for (const k of [...state.resources.keys()]) if (k.startsWith(key + '/')) state.resources.delete(k);
  return had;
}

export function displayName(value: unknown, fallback: string): string {
  const d = (value as { displayName?: unknown } | undefined)?.displayName;
  return typeof d === 'string' ? d : fallback;
}

export function apiContract(state: EmulatorState, e: { name: string; address: string; value: unknown }): unknown {
  const rev = /;rev=(\d+)$/i.exec(e.name);
  return {
    id: armId(state, e.address),
    type: resourceType(e.address),
    name: e.name,
    properties: {
      displayName: displayName(e.value, rev ? e.name.slice(0, rev.index) : e.name),
      apiRevision: rev ? rev[1] : '1',
      isCurrent: !rev,
      path: (rev ? e.name.slice(0, rev.index) : e.name).toLowerCase(),
      protocols: ['https'],
    },
  };
}

export function operationContract(state: EmulatorState, e: { name: string; address: string; value: unknown }): unknown {
  return {
    id: armId(state, e.address),
    type: resourceType(e.address),
    name: e.name,
    properties: { displayName: displayName(e.value, e.name), method: 'GET', urlTemplate: `/${e.name}` },
  };
}

export function productContract(state: EmulatorState, e: { name: string; address: string; value: unknown }): unknown {
  return {
    id: armId(state, e.address),
    type: resourceType(e.address),
    name: e.name,
    properties: { displayName: displayName(e.value, e.name), state: 'published', subscriptionRequired: true },
  };
}

export function certificateContract(state: EmulatorState, r: StoredRecord): unknown {
  const v = (r.value ?? {}) as { subject?: unknown; thumbprint?: unknown; expirationDate?: unknown; keyVault?: unknown };
  const name = r.address.split('/').pop()!;
  const properties: Record<string, unknown> = { subject: v.subject ?? `CN=${name}`, thumbprint: v.thumbprint ?? '0'.repeat(40), expirationDate: v.expirationDate ?? '2030-01-01T00:00:00Z' };
  if (v.keyVault !== undefined) properties.keyVault = v.keyVault;
  return { id: armId(state, r.address), type: resourceType(r.address), name, properties };
}

const SERVICE_CHILD = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.ApiManagement\/service\/([^/]+)(?:\/workspaces\/([^/]+))?\/([^/]+)(?:\/([^/]+))?(?:\/([^/]+))?$/i;

/**
 * Matches `S/{collection}`, `S/{collection}/{id}` and `S/{collection}/{id}/{action}` at service level
 * and the same under a workspace (`S/workspaces/{w}/{collection}…`). Undefined when the path is not
 * one of those; otherwise `prefix` (the address prefix: `''` or `workspaces/{w}/`), the id and action,
 * or ARM's answer for a wrong subscription, resource group or service, a missing api-version, or a
 * workspace the instance does not have (404 NotFound, as for a policy under it; HEAD without a body).
 */
export function matchServiceChild(req: EmulatorRequest, state: EmulatorState, collection: string): { prefix: string; id?: string; action?: string } | { response: EmulatorResponse } | undefined {
  const m = SERVICE_CHILD.exec(req.path.replace(/\/+$/, ''));
  if (!m || !eq(m[5]!, collection)) return undefined;
  const [, sub, rg, name] = m;
  const t = state.target;
  if (!eq(sub!, t.subscriptionId)) return { response: armError(404, 'SubscriptionNotFound', `The subscription '${sub}' could not be found.`) };
  if (!eq(rg!, t.resourceGroup)) return { response: armError(404, 'ResourceGroupNotFound', `Resource group '${rg}' could not be found.`) };
  if (!eq(name!, t.serviceName)) {
    return { response: armError(404, 'ResourceNotFound', `The Resource 'Microsoft.ApiManagement/service/${name}' under resource group '${rg}' was not found.`) };
  }
  if (!req.query['api-version']) {
    return { response: armError(400, 'MissingApiVersionParameter', 'The api-version query parameter (?api-version=) is required for all requests.') };
  }
  let prefix = '';
  if (m[4] !== undefined) {
    const workspace = get(state, `workspaces/${decodeSegment(m[4])}`);
    if (!workspace) return { response: req.method.toUpperCase() === 'HEAD' ? { status: 404 } : parentNotFound() };
    prefix = `${workspace.address}/`;
  }
  return { prefix, ...(m[6] !== undefined ? { id: decodeSegment(m[6]) } : {}), ...(m[7] !== undefined ? { action: decodeSegment(m[7]) } : {}) };
}

/** Whether `address` is one entity of `collection` directly under `prefix` (`''` or `workspaces/{w}/`). */
export function isChildOf(address: string, prefix: string, collection: string): boolean {
  const head = `${prefix}${collection}/`.toLowerCase();
  const a = address.toLowerCase();
  return a.startsWith(head) && a.length > head.length && !a.slice(head.length).includes('/');
}

/**
 * ARM's If-Match check for a write to `record`: 400 when `required` and absent, 412 when it names
 * another version (`*` matches any existing entity). Undefined when the write may go ahead.
 */
export function ifMatchProblem(req: EmulatorRequest, record: StoredRecord | undefined, required: boolean): EmulatorResponse | undefined {
  const ifMatch = header(req, 'if-match')?.trim();
  if (ifMatch === undefined || ifMatch === '') {
    return required ? armError(400, 'BadRequest', 'The If-Match header is required for this operation (use "*" to apply it unconditionally).') : undefined;
  }
  if (!record) return undefined;
  if (ifMatch !== '*' && bareEtag(ifMatch) !== bareEtag(record.etag)) {
    return armError(412, 'PreconditionFailed', `The entity's ETag does not match the If-Match header; it was changed since it was read.`);
  }
  return undefined;
}

/** ARM's 400 for one field: `{code: ValidationError, details: [{target, message}]}`. */
export function fieldError(target: string, message: string): EmulatorResponse {
  return armError(400, 'ValidationError', 'One or more fields contain incorrect values:', [{ code: 'ValidationError', target, message }]);
}

/** The `properties` object of a PUT or PATCH body, or ARM's 400. */
export function readProperties(body: string): { props: Record<string, unknown> } | { error: EmulatorResponse } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body || 'null');
  } catch (e) {
    return { error: armError(400, 'InvalidRequestContent', `The request content is not valid JSON: ${(e as Error).message}`) };
  }
  const props = (parsed as { properties?: unknown } | null)?.properties;
  if (typeof props !== 'object' || props === null || Array.isArray(props)) return { error: fieldError('properties', 'The request body must be {"properties": {…}}.') };
  return { props: props as Record<string, unknown> };
}
