/**
 * ARM routes for APIM policies, policy fragments, `allPolicies`, and the read-only lists a
 * deployment needs (APIs, operations, products, named values, backends), as the APIM 2024-05-01
 * REST API answers them.
 *
 * Storage (in `state.resources`, keyed by the lower-cased address):
 * - a policy at `[workspaces/{w}/](policies/policy | apis/{a}/policies/policy |
 *   apis/{a}/operations/{o}/policies/policy | products/{p}/policies/policy)` and a fragment at
 *   `[workspaces/{w}/]policyFragments/{id}` have `value` = the APIM `format=xml` serialisation
 *   (expressions escaped; fragments with their `<fragment>` wrapper). `rawxml` reads re-parse that
 *   text and serialise it raw, so nothing else is stored. A fragment's description is kept in an
 *   extra `description` property of the stored record (not in `value`).
 *   Reads re-parse the stored text, so a value written by the admin API's `POST edit` (any XML
 *   spelling) is returned as APIM would; text that does not parse is returned as stored.
 * - APIs, operations, products, workspaces: `apis/{a}`, `apis/{a}/operations/{o}`, `products/{p}`,
 *   `workspaces/{w}` with value `{displayName}`, stored by the seed or the admin API (never implied
 *   by a policy's address). A policy call under one the instance lacks is ARM's 404 `NotFound`
 *   ("Entity with specified identifier not found"), whatever the method.
 * - a fragment PUT is long-running: it is stored only when a poll of its operation completes it
 *   (`state.operations`; see acceptFragment).
 * - named values and backends, of the service and of its workspaces: arm-named-values.ts and
 *   arm-backends.ts (full CRUD, asked first). Certificates `certificates/{id}`
 *   `{subject?, thumbprint?, keyVault?}` (seeded; read only here).
 */
import { addressKey, parsePolicyAddress } from '../model/address.js';
import {
  apiContract,
  armId,
  bareEtag,
  certificateContract,
  decodeSegment,
  displayName,
  entities,
  eq,
  get,
  header,
  isFragmentAddress,
  methodNotAllowed,
  missingParent,
  notFound,
  operationContract,
  parentNotFound,
  productContract,
  quote,
  resourceType,
  servicePrefix,
  storedMatching,
  type StoredRecord,
} from './arm-entities.js';
import { serialiseLikeApim, type ApimFormat } from './apim-serialise.js';
import { backendContract, createBackendRoutes } from './arm-backends.js';
import { createNamedValueRoutes, namedValueContract } from './arm-named-values.js';
import { PolicyTextError, readPolicyText } from './policy-text.js';
import { armError, page, type EmulatorRequest, type EmulatorResponse, type EmulatorState, type FragmentOperation, type RouteHandler } from './types.js';

export interface PolicyRoutesOptions {
  /** Items per page of paged lists (and the most `$top` may ask for). Default 100. */
  pageSize?: number;
}

const SERVICE = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.ApiManagement\/service\/([^/]+)(?:\/(.*))?$/i;

/** Stores a parsed-and-accepted policy as a PUT does; returns whether it was created. */
export function storePolicy(state: EmulatorState, address: string, xml: string, description?: string, format: ApimFormat = 'xml'): { created: boolean; record: StoredRecord } {
  const fragment = isFragmentAddress(address);
  const doc = readPolicyText(xml, fragment ? 'fragment' : 'policies', format);
  const existing = get(state, address);
  const record: StoredRecord = {
    address: existing?.address ?? address,
    value: serialiseLikeApim(doc, 'xml'),
    etag: quote(state.nextEtag()),
  };
  if (fragment) {
    const desc = description ?? existing?.description;
    if (desc !== undefined) record.description = desc;
  }
  state.resources.set(addressKey(address), record);
  return { created: !existing, record };
}

/** The content type of a bare rawxml read (see the `rawxmlBare` fault knob). */
const RAW_XML_CONTENT_TYPE = 'application/vnd.ms-azure-apim.policy.raw+xml';

/** The stored text in the asked format (see the module comment). */
function storedAs(record: StoredRecord, format: ApimFormat): string {
  const text = typeof record.value === 'string' ? record.value : JSON.stringify(record.value);
  try {
    const doc = readPolicyText(text, isFragmentAddress(record.address) ? 'fragment' : 'any');
    return serialiseLikeApim(doc, format);
  } catch {
    return text;
  }
}

function policyBody(state: EmulatorState, record: StoredRecord, format: ApimFormat): Record<string, unknown> {
  const fragment = isFragmentAddress(record.address);
  const parts = record.address.split('/');
  const properties: Record<string, unknown> = { value: storedAs(record, format), format };
  if (fragment) {
    if (record.description !== undefined) properties.description = record.description;
    properties.provisioningState = 'Succeeded';
  }
  return {
    id: armId(state, record.address),
    type: resourceType(record.address),
    name: parts[parts.length - 1],
    properties,
  };
}

function formatOf(req: EmulatorRequest): ApimFormat | EmulatorResponse {
  const f = req.query['format'];
  if (f === undefined || f === '' || eq(f, 'xml')) return 'xml';
  if (eq(f, 'rawxml')) return 'rawxml';
  return armError(400, 'ValidationError', `Invalid format '${f}'. Allowed values: xml, rawxml.`);
}

function validationError(e: PolicyTextError): EmulatorResponse {
  return armError(400, 'ValidationError', 'One or more fields contain incorrect values:', [
    { code: 'ValidationError', target: 'representation', message: `${e.reason}. Line ${e.line}, position ${e.column}.` },
  ]);
}

/**
 * A fragment PUT is a long-running operation (spec `PolicyFragment_CreateOrUpdate`, example
 * ApiManagementCreatePolicyFragment.json): 201 (new) or 200 (update) with `provisioningState:
 * InProgress`, an `Azure-AsyncOperation` and a `Location` header, and no ETag. The text is checked
 * now; nothing is visible until a poll of the operation completes it (see `pollOperation`).
 */
function acceptFragment(req: EmulatorRequest, state: EmulatorState, address: string, xml: string, description: string | undefined, exists: boolean): EmulatorResponse {
  let value: string;
  try {
    value = serialiseLikeApim(readPolicyText(xml, 'fragment'), 'xml');
  } catch (e) {
    if (e instanceof PolicyTextError) return validationError(e);
    throw e;
  }
  // A later write to the same fragment supersedes one still running.
  for (const op of state.operations.values()) if (op.status === 'InProgress' && eq(op.address, address)) op.status = 'Failed';
  const id = Buffer.from(state.nextEtag(), 'base64').toString('hex');
  const fail = state.faults.fragmentLroFail > 0;
  if (fail) state.faults.fragmentLroFail -= 1;
  const op: FragmentOperation = { id, address, xml, polls: 0, status: 'InProgress', fail, started: new Date().toISOString(), ...(description !== undefined ? { description } : {}) };
  state.operations.set(id, op);
  const status = exists ? 200 : 201;
  const version = encodeURIComponent(req.query['api-version'] ?? '');
  const parts = address.split('/');
  const desc = description ?? get(state, address)?.description;
  return {
    status,
    headers: {
      Location: `${req.baseUrl}${armId(state, address)}?api-version=${version}&asyncId=${id}&asyncCode=${status}`,
      'Azure-AsyncOperation': `${req.baseUrl}${servicePrefix(state)}/tenant/operationResults/${id}?api-version=${version}`,
    },
    body: {
      id: armId(state, address),
      type: resourceType(address),
      name: parts[parts.length - 1],
      properties: { format: 'xml', value, ...(desc !== undefined ? { description: desc } : {}), provisioningState: 'InProgress' },
    },
  };
}

/** `GET tenant/operationResults/{id}`: the first poll answers InProgress, the next completes the operation. */
function pollOperation(state: EmulatorState, id: string): EmulatorResponse {
  const op = [...state.operations.values()].find((o) => eq(o.id, id));
  if (!op) return notFound('Operation');
  op.polls += 1;
  let error: { code: string; message: string } | undefined;
  if (op.status === 'InProgress' && op.polls >= 2) {
    if (op.fail) op.status = 'Failed';
    else if (op.apply) {
      const failure = op.apply();
      if (failure) op.error = failure;
      op.status = failure ? 'Failed' : 'Succeeded';
    } else if (missingParent(state, op.address)) op.status = 'Failed';
    else {
      storePolicy(state, op.address, op.xml, op.description);
      op.status = 'Succeeded';
    }
  }
  if (op.status === 'Failed') {
    error = op.error
      ? op.error
      : op.fail
        ? { code: 'InternalServerError', message: `Provisioning of policy fragment '${op.address.split('/').pop()}' failed (fault injected by the emulator: fragmentLroFail).` }
        : { code: 'Conflict', message: `The operation on '${op.address}' was superseded by a later write or its parent was removed.` };
  }
  return {
    status: 200,
    body: {
      id: `${servicePrefix(state)}/tenant/operationResults/${op.id}`,
      name: op.id,
      status: op.status,
      started: op.started,
      updated: new Date().toISOString(),
      ...(error ? { error } : {}),
    },
  };
}

function policyItem(req: EmulatorRequest, state: EmulatorState, address: string, entity: string): EmulatorResponse {
  const record = get(state, address);
  const method = req.method.toUpperCase();
  const fragment = isFragmentAddress(address);
  // Under an API, operation, product or workspace the instance lacks: ARM's 404, for every method.
  if (missingParent(state, address)) return method === 'HEAD' ? { status: 404 } : parentNotFound();
  switch (method) {
    case 'GET': {
      if (!record) return notFound(entity);
      const format = formatOf(req);
      if (typeof format !== 'string') return format;
      // Fault knob `rawxmlBare`: the bare XML with APIM's raw content type, as live instances have answered.
      if (format === 'rawxml' && state.faults.rawxmlBare) return { status: 200, headers: { ETag: record.etag, 'Content-Type': RAW_XML_CONTENT_TYPE }, body: storedAs(record, format) };
      return { status: 200, headers: { ETag: record.etag }, body: policyBody(state, record, format) };
    }
    case 'HEAD':
      if (!record) return { status: 404 };
      return { status: 200, headers: { ETag: record.etag } };
    case 'PUT': {
      const ifMatch = header(req, 'if-match');
      if (record && ifMatch !== undefined && ifMatch.trim() !== '*' && ifMatch.trim() !== '' && bareEtag(ifMatch) !== bareEtag(record.etag)) {
        return armError(412, 'PreconditionFailed', `The entity's ETag does not match the If-Match header; it was changed since it was read.`);
      }
      let body: { properties?: { value?: unknown; format?: unknown; description?: unknown } };
      try {
        body = JSON.parse(req.body || '{}') as typeof body;
      } catch (e) {
        return armError(400, 'InvalidRequestContent', `The request content is not valid JSON: ${(e as Error).message}`);
      }
      const props = body?.properties ?? {};
      const format = props.format ?? 'xml';
      if (format !== 'xml' && format !== 'rawxml') {
        return armError(400, 'ValidationError', `Policy format '${String(format)}' is not supported here; use xml or rawxml.`);
      }
      if (typeof props.value !== 'string' || props.value.trim() === '') {
        return armError(400, 'ValidationError', 'One or more fields contain incorrect values:', [{ code: 'ValidationError', target: 'value', message: 'Policy value is required.' }]);
      }
      if (props.description !== undefined && (typeof props.description !== 'string' || props.description.length > 1000)) {
        return armError(400, 'ValidationError', 'description must be a string of at most 1000 characters.');
      }
      if (fragment) return acceptFragment(req, state, address, props.value, props.description as string | undefined, !!record);
      let stored;
      try {
        stored = storePolicy(state, address, props.value, fragment ? (props.description as string | undefined) : undefined, format);
      } catch (e) {
        if (e instanceof PolicyTextError) return validationError(e);
        throw e;
      }
      return {
        status: stored.created ? 201 : 200,
        headers: { ETag: stored.record.etag },
        body: policyBody(state, stored.record, 'xml'),
      };
    }
    case 'DELETE': {
      const ifMatch = header(req, 'if-match');
      if (ifMatch === undefined || ifMatch.trim() === '') {
        return armError(400, 'BadRequest', 'The If-Match header is required to delete this entity (use "*" to delete unconditionally).');
      }
      if (!record) return { status: 204 };
      if (ifMatch.trim() !== '*' && bareEtag(ifMatch) !== bareEtag(record.etag)) {
        return armError(412, 'PreconditionFailed', `The entity's ETag does not match the If-Match header; it was changed since it was read.`);
      }
      state.resources.delete(addressKey(address));
      return { status: 200 };
    }
    default:
      return methodNotAllowed(method);
  }
}

/** The route handler; `policyRoutes` is the default instance. */
export function createPolicyRoutes(options: PolicyRoutesOptions = {}): RouteHandler {
  const pageSize = options.pageSize ?? 100;
  // Named values and backends (service and workspace) have their own routes.
  const own = [createNamedValueRoutes({ pageSize }), createBackendRoutes({ pageSize })];

  return (req, state) => {
    for (const h of own) {
      const res = h(req, state);
      if (res) return res;
    }
    const m = SERVICE.exec(req.path.replace(/\/+$/, ''));
    if (!m) return undefined;
    const raw = m[4] ?? '';
    const segs = raw === '' ? [] : raw.split('/').map(decodeSegment);

    // Which workspace, then the scope-relative segments.
    let ws = '';
    let s = segs;
    if (s.length >= 3 && eq(s[0]!, 'workspaces')) {
      ws = `workspaces/${s[1]}/`;
      s = s.slice(2);
    }
    const n = s.length;
    const is = (i: number, word: string) => s[i] !== undefined && eq(s[i]!, word);

    // Classify the route; anything else under the service is another handler's.
    type Route =
      | { kind: 'policyItem'; address: string; entity: string }
      | { kind: 'policyList'; scope: string }
      | { kind: 'fragmentList' }
      | { kind: 'allPolicies' }
      | { kind: 'operation'; id: string }
      | { kind: 'apis' }
      | { kind: 'operations'; api: string }
      | { kind: 'products' }
      | { kind: 'workspaces' }
      | { kind: 'namedValues' | 'backends' | 'certificates'; id?: string };
    let route: Route | undefined;
    let policyId: string | undefined;
    if (n === 1 && is(0, 'policies')) route = { kind: 'policyList', scope: ws };
    else if (n === 2 && is(0, 'policies')) {
      policyId = s[1];
      route = { kind: 'policyItem', address: `${ws}policies/policy`, entity: 'Policy' };
    } else if (n === 1 && is(0, 'apis')) route = { kind: 'apis' };
    else if (n === 3 && is(0, 'apis') && is(2, 'policies')) route = { kind: 'policyList', scope: `${ws}apis/${s[1]}/` };
    else if (n === 4 && is(0, 'apis') && is(2, 'policies')) {
      policyId = s[3];
      route = { kind: 'policyItem', address: `${ws}apis/${s[1]}/policies/policy`, entity: 'Policy' };
    } else if (n === 3 && is(0, 'apis') && is(2, 'operations')) route = { kind: 'operations', api: s[1]! };
    else if (n === 5 && is(0, 'apis') && is(2, 'operations') && is(4, 'policies')) {
      route = { kind: 'policyList', scope: `${ws}apis/${s[1]}/operations/${s[3]}/` };
    } else if (n === 6 && is(0, 'apis') && is(2, 'operations') && is(4, 'policies')) {
      policyId = s[5];
      route = { kind: 'policyItem', address: `${ws}apis/${s[1]}/operations/${s[3]}/policies/policy`, entity: 'Policy' };
    } else if (n === 1 && is(0, 'products')) route = { kind: 'products' };
    else if (n === 3 && is(0, 'products') && is(2, 'policies')) route = { kind: 'policyList', scope: `${ws}products/${s[1]}/` };
    else if (n === 4 && is(0, 'products') && is(2, 'policies')) {
      policyId = s[3];
      route = { kind: 'policyItem', address: `${ws}products/${s[1]}/policies/policy`, entity: 'Policy' };
    } else if (n === 1 && is(0, 'policyFragments')) route = { kind: 'fragmentList' };
    else if (n === 2 && is(0, 'policyFragments')) {
      route = { kind: 'policyItem', address: `${ws}policyFragments/${s[1]}`, entity: 'PolicyFragment' };
    } else if (n === 1 && is(0, 'allPolicies') && !ws) route = { kind: 'allPolicies' };
    else if (n === 3 && is(0, 'tenant') && is(1, 'operationResults') && !ws) route = { kind: 'operation', id: s[2]! };
    else if (n === 1 && is(0, 'workspaces') && !ws) route = { kind: 'workspaces' };
    else if ((n === 1 || n === 2) && (is(0, 'namedValues') || is(0, 'backends') || is(0, 'certificates'))) {
      route = { kind: is(0, 'namedValues') ? 'namedValues' : is(0, 'backends') ? 'backends' : 'certificates', ...(n === 2 ? { id: s[1]! } : {}) };
    }
    if (!route) return undefined;

    const [, sub, rg, name] = m;
    const t = state.target;
    if (!eq(sub!, t.subscriptionId)) return armError(404, 'SubscriptionNotFound', `The subscription '${sub}' could not be found.`);
    if (!eq(rg!, t.resourceGroup)) return armError(404, 'ResourceGroupNotFound', `Resource group '${rg}' could not be found.`);
    if (!eq(name!, t.serviceName)) {
      return armError(404, 'ResourceNotFound', `The Resource 'Microsoft.ApiManagement/service/${name}' under resource group '${rg}' was not found.`);
    }
    if (!req.query['api-version']) {
      return armError(400, 'MissingApiVersionParameter', 'The api-version query parameter (?api-version=) is required for all requests.');
    }
    if (policyId !== undefined && !eq(policyId, 'policy')) return notFound('Policy');

    const method = req.method.toUpperCase();
    if (route.kind === 'policyItem') return policyItem(req, state, route.address, route.entity);
    if (method !== 'GET') return methodNotAllowed(method);
    // Anything under a workspace, API, operation or product the instance lacks.
    if (ws && missingParent(state, `${ws}policies/policy`)) return parentNotFound();
    if (route.kind === 'policyList' && missingParent(state, `${route.scope}policies/policy`)) return parentNotFound();

    switch (route.kind) {
      case 'operation':
        return pollOperation(state, route.id);
      case 'policyList': {
        const record = get(state, `${route.scope}policies/policy`);
        const format = formatOf(req);
        if (typeof format !== 'string') return format;
        const value = record ? [policyBody(state, record, format)] : [];
        return { status: 200, body: { value, count: value.length } };
      }
      case 'fragmentList': {
        const format = formatOf(req);
        if (typeof format !== 'string') return format;
        const prefix = ws.toLowerCase();
        const list = storedMatching(state, (a) => {
          const scope = parsePolicyAddress(a);
          return scope?.kind === 'fragment' && (scope.workspace ? `workspaces/${scope.workspace}/`.toLowerCase() : '') === prefix;
        });
        return {
          status: 200,
          body: page(
            req,
            list.map((r) => policyBody(state, r, format)),
            pageSize,
          ),
        };
      }
      case 'allPolicies': {
        const failWith = state.faults.allPoliciesStatus;
        if (failWith)
          return armError(failWith, failWith === 404 ? 'NotFound' : failWith === 501 ? 'NotImplemented' : 'BadRequest', `allPolicies is not supported here (fault injected: HTTP ${failWith}).`);
        // A scope is left out when its address is the prefix or lies under it (`apis/orders` → its operations too).
        const omit = state.faults.omitFromAllPolicies ?? [];
        const omitted = (a: string) => omit.some((p) => a.toLowerCase() === p || a.toLowerCase().startsWith(p.replace(/\/+$/, '') + '/'));
        const list = storedMatching(state, (a) => {
          const scope = parsePolicyAddress(a);
          return scope !== undefined && scope.kind !== 'fragment' && !omitted(a);
        });
        const items = list.map((r) => {
          // A stable, URL-safe name per policy (the real service uses opaque names).
          const itemName = r.address.replace(/[^A-Za-z0-9-]+/g, '-');
          return {
            id: `${servicePrefix(state)}/allPolicies/${itemName}`,
            name: itemName,
            type: 'Microsoft.ApiManagement/service/allPolicies',
            properties: { referencePolicyId: armId(state, r.address), complianceState: 'Compliant' },
          };
        });
        return { status: 200, body: page(req, items, pageSize) };
      }
      case 'apis':
        return {
          status: 200,
          body: page(
            req,
            entities(state, ws, 'apis').map((e) => apiContract(state, e)),
            pageSize,
          ),
        };
      case 'operations': {
        const apiPrefix = `${ws}apis/${route.api}/`;
        const api = entities(state, ws, 'apis').find((e) => eq(e.name, route.api));
        if (!api) return notFound('Api');
        return {
          status: 200,
          body: page(
            req,
            entities(state, apiPrefix, 'operations').map((e) => operationContract(state, e)),
            pageSize,
          ),
        };
      }
      case 'workspaces':
        return {
          status: 200,
          body: page(
            req,
            entities(state, '', 'workspaces').map((e) => ({ id: armId(state, e.address), type: resourceType(e.address), name: e.name, properties: { displayName: displayName(e.value, e.name) } })),
            pageSize,
          ),
        };
      case 'products':
        return {
          status: 200,
          body: page(
            req,
            entities(state, ws, 'products').map((e) => productContract(state, e)),
            pageSize,
          ),
        };
      case 'namedValues':
      case 'backends':
      case 'certificates': {
        const collection = route.kind;
        const contract = { namedValues: namedValueContract, backends: backendContract, certificates: certificateContract }[collection];
        if (route.id !== undefined) {
          const record = get(state, `${ws}${collection}/${route.id}`);
          if (!record) return notFound({ namedValues: 'NamedValue', backends: 'Backend', certificates: 'Certificate' }[collection]);
          return { status: 200, headers: { ETag: record.etag }, body: contract(state, record) };
        }
        const re = new RegExp(`^${ws.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}${collection}/[^/]+$`, 'i');
        const list = storedMatching(state, (a) => re.test(a));
        return {
          status: 200,
          body: page(
            req,
            list.map((r) => contract(state, r)),
            pageSize,
          ),
        };
      }
    }
  };
}

export const policyRoutes: RouteHandler = createPolicyRoutes();
