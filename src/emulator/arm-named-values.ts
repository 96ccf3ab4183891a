/**
 * ARM routes for APIM named values, as `apimnamedvalues.json` (2024-05-01) and its examples
 * describe them, at service level (`S`) and, with the same contract (`WorkspaceNamedValue_*` in
 * `apimworkspaces.json`), under a workspace (`S/workspaces/{w}`, stored as
 * `workspaces/{w}/namedValues/{id}`, apart from a service-level one of the same id; a workspace the
 * instance lacks is ARM's 404 NotFound). Key Vault reads use the service's identities either way:
 * - `GET S/namedValues` (paged; `$filter` on displayName and tags, `isKeyVaultRefreshFailed`),
 *   `GET`/`HEAD S/namedValues/{id}`: a secret's value is never in the body.
 * - `PUT` (If-Match optional) and `PATCH` (If-Match required) are long-running (final state via
 *   location): `PUT` answers 201/200 with `provisioningState: InProgress`, `PATCH` 202, both with
 *   `Location` and `Azure-AsyncOperation`; nothing changes until a poll of
 *   `S/tenant/operationResults/{id}` completes the operation (arm-policies.ts, as for fragments).
 * - `DELETE` (If-Match required; 200, or 204 when absent).
 * - `POST …/listValue` answers `{value}` (a secret's too); `POST …/refreshSecret` (long-running)
 *   re-reads a Key Vault reference.
 *
 * Stored as `namedValues/{id}` with value `{displayName, tags, secret, value?, keyVault?:
 * {secretIdentifier, identityClientId?, lastStatus}}`. A Key Vault reference is "read" when it is
 * created, updated or refreshed: it succeeds when the identity it names (the user-assigned one
 * with `identityClientId`, else the system identity) is attached to the service and holds Key
 * Vault Secrets User, Secrets Officer or Administrator on the vault
 * (`…/providers/Microsoft.KeyVault/vaults/{vault}` in any resource group of the subscription), on
 * the secret, or on an enclosing scope (the service's resource group, the subscription, `/`);
 * otherwise Key Vault refuses. A refused read fails a create or update (the write's operation ends
 * Failed and nothing is stored: Terraform's azurerm issue 19255, "APIM named value creation fails
 * for Key Vault value on the first run") and, for a refresh, is recorded in `lastStatus`; a
 * `identityClientId` the service has no identity for is a 400 at once (APIOps issue 257). A value
 * stored by a seed or the admin API may carry a failed status (a role taken away later).
 */
import { addressKey } from '../model/address.js';
import {
  armId,
  isChildOf,
  eq,
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
import { servicePath, systemPrincipalId, userAssignedIdentityIds } from './arm-principals.js';
import { armError, page, type EmulatorRequest, type EmulatorResponse, type EmulatorState, type FragmentOperation, type RouteHandler } from './types.js';

export interface KeyVaultStatus {
  code: string;
  message?: string;
  timeStampUtc: string;
}

export interface StoredNamedValue {
  displayName: string;
  tags: string[];
  secret: boolean;
  value?: string;
  keyVault?: { secretIdentifier: string; identityClientId?: string; lastStatus?: KeyVaultStatus };
}

/** Key Vault data roles that may read secrets (Secrets User, Secrets Officer, Administrator). */
const KEY_VAULT_SECRET_READERS = ['4633458b-17de-408a-b874-0445c86b69e6', 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7', '00482a5a-887f-4fb3-b363-3b7fe8e74483'];

const DISPLAY_NAME = /^[A-Za-z0-9-._]+$/;
const ID = /^[^*#&+:<>?]+$/;
const SECRET_ID = /^https:\/\/([A-Za-z0-9-]{3,24})\.vault\.azure\.net(?::443)?\/secrets\/([A-Za-z0-9-]{1,127})(?:\/([0-9a-fA-F]{32}))?\/?$/;
const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/**
 * Checks the properties of a create (`NamedValueCreateContractProperties`) or of the merged result
 * of an update, and returns what is stored. `requireValue`: a plain value needs `value` (a seed
 * from an APIOps extract may lack a secret's value).
 */
export function checkNamedValue(p: Record<string, unknown>, requireValue = true): StoredNamedValue | EmulatorResponse {
  const dn = p.displayName;
  if (typeof dn !== 'string' || dn.length < 1 || dn.length > 256) return fieldError('displayName', 'displayName is required: 1 to 256 characters.');
  if (!DISPLAY_NAME.test(dn)) return fieldError('displayName', `displayName '${dn}' may contain only letters, digits, '-', '.' and '_' (pattern ^[A-Za-z0-9-._]+$).`);
  if (p.value !== undefined && (typeof p.value !== 'string' || p.value.length > 4096)) return fieldError('value', 'value must be a string of at most 4096 characters.');
  if (p.secret !== undefined && typeof p.secret !== 'boolean') return fieldError('secret', 'secret must be true or false.');
  const tags = p.tags ?? [];
  if (!Array.isArray(tags) || tags.length > 32 || tags.some((t) => typeof t !== 'string')) return fieldError('tags', 'tags must be an array of at most 32 strings.');
  const out: StoredNamedValue = { displayName: dn, tags: tags as string[], secret: p.secret === true };
  if (p.keyVault !== undefined && p.keyVault !== null) {
    const kv = p.keyVault as { secretIdentifier?: unknown; identityClientId?: unknown };
    if (typeof kv !== 'object' || Array.isArray(kv)) return fieldError('keyVault', 'keyVault must be {"secretIdentifier", "identityClientId"?}.');
    if (p.value !== undefined) return fieldError('value', 'A named value has either a value or a keyVault reference, not both.');
    if (typeof kv.secretIdentifier !== 'string' || !SECRET_ID.test(kv.secretIdentifier)) {
      return fieldError(
        'keyVault.secretIdentifier',
        `secretIdentifier must be a Key Vault secret URL (https://{vault}.vault.azure.net/secrets/{name}[/{version}]); got ${JSON.stringify(kv.secretIdentifier)}.`,
      );
    }
    if (kv.identityClientId !== undefined && kv.identityClientId !== null && (typeof kv.identityClientId !== 'string' || !GUID.test(kv.identityClientId))) {
      return fieldError('keyVault.identityClientId', `identityClientId must be the client id (a GUID) of a user-assigned identity; got ${JSON.stringify(kv.identityClientId)}.`);
    }
    if (p.secret === false) return fieldError('secret', 'A Key Vault named value is a secret: secret must be true (or left out).');
    out.secret = true;
    out.keyVault = { secretIdentifier: kv.secretIdentifier, ...(typeof kv.identityClientId === 'string' ? { identityClientId: kv.identityClientId } : {}) };
  } else if (typeof p.value === 'string') out.value = p.value;
  else if (requireValue) return fieldError('value', 'value is required unless keyVault is given.');
  return out;
}

/** Whether the named identity may read the secret now (see the module comment). */
export function keyVaultStatus(state: EmulatorState, kv: { secretIdentifier: string; identityClientId?: string }): KeyVaultStatus {
  const now = new Date().toISOString();
  const [, vault, secret] = SECRET_ID.exec(kv.secretIdentifier) ?? [];
  const identity = (state.resources.get('identity')?.value ?? { type: 'None' }) as { type?: string; userAssignedIdentities?: Record<string, unknown> };
  let principal: string | undefined;
  let client: string | undefined = kv.identityClientId;
  if (kv.identityClientId) {
    const uai = Object.keys(identity.userAssignedIdentities ?? {}).find((id) => eq(userAssignedIdentityIds(id).clientId, kv.identityClientId!));
    if (!uai) {
      return {
        code: 'IdentityNotFound',
        message: `No user-assigned identity with client id '${kv.identityClientId}' is assigned to the API Management service; attach it before referencing it.`,
        timeStampUtc: now,
      };
    }
    principal = userAssignedIdentityIds(uai).principalId;
  } else {
    if (!/systemassigned/i.test(identity.type ?? '')) {
      return { code: 'IdentityNotFound', message: 'The API Management service has no system-assigned identity to read Key Vault with; enable it or set identityClientId.', timeStampUtc: now };
    }
    principal = systemPrincipalId(state);
    client = principal;
  }
  const sub = state.target.subscriptionId.toLowerCase();
  const vaultScope = new RegExp(`^/subscriptions/${sub}/resourcegroups/[^/]+/providers/microsoft\\.keyvault/vaults/${vault!.toLowerCase()}(/secrets/${secret!.toLowerCase()})?$`);
  const enclosing = ['', `/subscriptions/${sub}`, `/subscriptions/${sub}/resourcegroups/${state.target.resourceGroup.toLowerCase()}`];
  const granted = [...state.resources.entries()].some(([key, r]) => {
    if (!key.startsWith('roleassignments/')) return false;
    const a = (r.value as { properties?: { scope?: string; principalId?: string; roleDefinitionId?: string } }).properties ?? {};
    const scope = String(a.scope ?? '')
      .toLowerCase()
      .replace(/\/+$/, '');
    const role = String(a.roleDefinitionId ?? '')
      .split('/')
      .pop()!
      .toLowerCase();
    return eq(String(a.principalId ?? ''), principal!) && KEY_VAULT_SECRET_READERS.includes(role) && (enclosing.includes(scope) || vaultScope.test(scope));
  });
  if (granted) return { code: 'Success', timeStampUtc: now };
  return {
    code: 'Forbidden',
    message:
      `Caller is not authorized to perform action on resource. Caller: appid=${client};oid=${principal} Action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action' ` +
      `Resource: 'vaults/${vault}/secrets/${secret}' Assignment: (not found). Give the identity the 'Key Vault Secrets User' role on the vault, then refresh the secret.`,
    timeStampUtc: now,
  };
}

/**
 * A Key Vault read made by a write or a refresh: `keyVaultStatus`, except that while the
 * `keyVaultDenials` fault lasts a read that would succeed is refused as Key Vault refuses a role
 * assignment it has not seen yet (Azure RBAC propagates in minutes; counted here, not timed).
 */
function readKeyVault(state: EmulatorState, kv: { secretIdentifier: string; identityClientId?: string }): KeyVaultStatus {
  const status = keyVaultStatus(state, kv);
  if (status.code !== 'Success' || state.faults.keyVaultDenials <= 0) return status;
  state.faults.keyVaultDenials -= 1;
  return {
    code: 'Forbidden',
    message:
      `Caller is not authorized to perform action on resource. If role assignments, deny assignments or role definitions were changed recently, please observe propagation time. ` +
      `Action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action' Resource: '${kv.secretIdentifier}' (fault injected by the emulator: keyVaultDenials).`,
    timeStampUtc: status.timeStampUtc,
  };
}

/**
 * Completes a named value write: a Key Vault reference is read first, and a read that fails fails
 * the write (ARM's operation ends Failed; nothing is stored, a value there before stays) — a Key
 * Vault named value cannot be created or changed while APIM cannot read its secret.
 */
function completeWrite(state: EmulatorState, address: string, value: StoredNamedValue, etag?: string): void | { code: string; message: string } {
  if (value.keyVault) {
    const status = readKeyVault(state, value.keyVault);
    if (status.code !== 'Success') {
      return {
        code: status.code,
        message: `Named value '${address.split('/').pop()}': the secret ${value.keyVault.secretIdentifier} could not be read from Key Vault. ${status.message ?? ''}`.trim(),
      };
    }
    storeNamedValue(state, address, { ...value, keyVault: { ...value.keyVault, lastStatus: status } }, etag);
    return;
  }
  storeNamedValue(state, address, value, etag);
}

/** Stores a checked named value (a Key Vault reference is read now, unless `value` carries the status of a read just made); a fresh ETag. */
export function storeNamedValue(state: EmulatorState, address: string, value: StoredNamedValue, etag = quote(state.nextEtag())): StoredRecord {
  const stored: StoredNamedValue = value.keyVault && !value.keyVault.lastStatus ? { ...value, keyVault: { ...value.keyVault, lastStatus: keyVaultStatus(state, value.keyVault) } } : value;
  const record: StoredRecord = { address: get(state, address)?.address ?? address, value: stored, etag };
  state.resources.set(addressKey(address), record);
  return record;
}

/** The `NamedValueContract` of a stored record (never a secret's value). Tolerates values written by the admin API. */
export function namedValueContract(state: EmulatorState, r: StoredRecord, provisioningState = 'Succeeded'): unknown {
  const v = (r.value ?? {}) as Partial<StoredNamedValue>;
  const name = r.address.split('/').pop()!;
  const secret = v.secret === true;
  const properties: Record<string, unknown> = { displayName: typeof v.displayName === 'string' ? v.displayName : name, tags: Array.isArray(v.tags) ? v.tags : [], secret };
  if (!secret && v.value !== undefined) properties.value = v.value;
  if (v.keyVault !== undefined) properties.keyVault = v.keyVault;
  properties.provisioningState = provisioningState;
  return { id: armId(state, r.address), type: resourceType(r.address), name, properties };
}

/** Accepts a long-running write: `apply` runs when a poll completes it (see arm-policies.ts pollOperation). */
function accept(req: EmulatorRequest, state: EmulatorState, address: string, status: number, apply: () => void, body?: unknown, etag?: string): EmulatorResponse {
  for (const op of state.operations.values()) if (op.status === 'InProgress' && eq(op.address, address)) op.status = 'Failed';
  const id = Buffer.from(state.nextEtag(), 'base64').toString('hex');
  const op: FragmentOperation = { id, address, xml: '', polls: 0, status: 'InProgress', fail: false, started: new Date().toISOString(), apply };
  state.operations.set(id, op);
  const version = encodeURIComponent(req.query['api-version'] ?? '');
  return {
    status,
    headers: {
      Location: `${req.baseUrl}${armId(state, address)}?api-version=${version}&asyncId=${id}&asyncCode=${status}`,
      'Azure-AsyncOperation': `${req.baseUrl}${servicePath(state)}/tenant/operationResults/${id}?api-version=${version}`,
      ...(etag ? { ETag: etag } : {}),
    },
    ...(body !== undefined ? { body } : {}),
  };
}

/**
 * A write naming, in `keyVault.identityClientId`, a user-assigned identity the service does not
 * have: refused at once (400 ValidationError at `identityClientId`, as ARM answered in APIOps issue 257).
 */
function unknownIdentity(state: EmulatorState, value: StoredNamedValue): EmulatorResponse | undefined {
  const clientId = value.keyVault?.identityClientId;
  if (!clientId) return undefined;
  const identity = (state.resources.get('identity')?.value ?? {}) as { userAssignedIdentities?: Record<string, unknown> };
  if (Object.keys(identity.userAssignedIdentities ?? {}).some((id) => eq(userAssignedIdentityIds(id).clientId, clientId))) return undefined;
  return fieldError('identityClientId', `Can not find Managed Identity with provided IdentityClientId : ${clientId}. For more information please see aka.ms/apimmsi.`);
}

function item(req: EmulatorRequest, state: EmulatorState, prefix: string, id: string): EmulatorResponse {
  const address = `${prefix}namedValues/${id}`;
  const record = get(state, address);
  const method = req.method.toUpperCase();
  switch (method) {
    case 'GET':
      return record ? { status: 200, headers: { ETag: record.etag }, body: namedValueContract(state, record) } : notFound('NamedValue');
    case 'HEAD':
      return record ? { status: 200, headers: { ETag: record.etag } } : { status: 404 };
    case 'PUT': {
      if (id.length > 256 || !ID.test(id)) return fieldError('namedValueId', `Named value id '${id}' may not contain * # & + : < > ? and has at most 256 characters.`);
      const problem = ifMatchProblem(req, record, false);
      if (problem) return problem;
      const read = readProperties(req.body);
      if ('error' in read) return read.error;
      const checked = checkNamedValue(read.props);
      if ('status' in checked) return checked as EmulatorResponse;
      const unknown = unknownIdentity(state, checked);
      if (unknown) return unknown;
      const etag = quote(state.nextEtag());
      const preview: StoredRecord = { address, value: checked, etag };
      return accept(req, state, address, record ? 200 : 201, () => completeWrite(state, address, checked, etag), namedValueContract(state, preview, 'InProgress'), etag);
    }
    case 'PATCH': {
      const problem = ifMatchProblem(req, record, true);
      if (problem) return problem;
      if (!record) return notFound('NamedValue');
      const read = readProperties(req.body);
      if ('error' in read) return read.error;
      const props = read.props;
      if (props.value !== undefined && (typeof props.value !== 'string' || props.value.length < 1)) return fieldError('value', 'value must be 1 to 4096 characters.');
      const current = record.value as Partial<StoredNamedValue>;
      const merged: Record<string, unknown> = { ...current, ...props };
      if (props.value !== undefined && props.keyVault === undefined) delete merged.keyVault;
      if (props.keyVault !== undefined && props.value === undefined) delete merged.value;
      // A seeded secret without a value (APIOps extracts omit them) may be patched without giving one.
      const valueless = current.value === undefined && current.keyVault === undefined && props.value === undefined && props.keyVault === undefined;
      const checked = checkNamedValue(merged, !valueless);
      if ('status' in checked) return checked as EmulatorResponse;
      const unknown = unknownIdentity(state, checked);
      if (unknown) return unknown;
      // What was stored carries the last read's status; the write reads the vault again.
      if (checked.keyVault) delete checked.keyVault.lastStatus;
      return accept(req, state, address, 202, () => completeWrite(state, address, checked));
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

function action(req: EmulatorRequest, state: EmulatorState, prefix: string, id: string, name: string): EmulatorResponse {
  const address = `${prefix}namedValues/${id}`;
  const record = get(state, address);
  if (req.method.toUpperCase() !== 'POST') return methodNotAllowed(req.method.toUpperCase());
  if (!record) return notFound('NamedValue');
  const v = record.value as Partial<StoredNamedValue>;
  if (eq(name, 'listValue')) {
    if (v.keyVault) {
      if (v.keyVault.lastStatus?.code !== 'Success') {
        return armError(
          400,
          'ValidationError',
          `Named value '${id}' has no value: its last Key Vault read failed (${v.keyVault.lastStatus?.message ?? 'never read'}). Fix the access, then POST …/refreshSecret.`,
        );
      }
      // The emulator has no vault: a stand-in for the secret it read.
      return { status: 200, headers: { ETag: record.etag }, body: { value: `emulated-secret:${v.keyVault.secretIdentifier}` } };
    }
    return { status: 200, headers: { ETag: record.etag }, body: v.value !== undefined ? { value: v.value } : {} };
  }
  if (eq(name, 'refreshSecret')) {
    if (!v.keyVault) return armError(400, 'ValidationError', `Named value '${id}' is not a Key Vault reference; there is no secret to refresh.`);
    const kv = v.keyVault;
    return accept(req, state, address, 202, () => {
      const now = get(state, address);
      if (!now) return;
      const cur = now.value as StoredNamedValue;
      if (!cur.keyVault || cur.keyVault.secretIdentifier !== kv.secretIdentifier) return;
      state.resources.set(addressKey(address), { ...now, value: { ...cur, keyVault: { ...cur.keyVault, lastStatus: readKeyVault(state, cur.keyVault) } }, etag: quote(state.nextEtag()) });
    });
  }
  return armError(404, 'NotFound', `No action '${name}' on named values.`);
}

/** The route handler for named values of the service and of its workspaces; `pageSize` as for the policy routes. */
export function createNamedValueRoutes(options: { pageSize?: number } = {}): RouteHandler {
  const pageSize = options.pageSize ?? 100;
  return (req, state) => {
    const m = matchServiceChild(req, state, 'namedValues');
    if (!m) return undefined;
    if ('response' in m) return m.response;
    if (m.id !== undefined && m.action !== undefined) return action(req, state, m.prefix, m.id, m.action);
    if (m.id !== undefined) return item(req, state, m.prefix, m.id);
    if (req.method.toUpperCase() !== 'GET') return methodNotAllowed(req.method.toUpperCase());
    const filter = compileFilter(req.query['$filter'], { strings: ['displayName'], arrays: ['tags'] });
    if (typeof filter === 'string') return armError(400, 'ValidationError', filter);
    const failedOnly = req.query['isKeyVaultRefreshFailed'];
    if (failedOnly !== undefined && failedOnly !== 'true' && failedOnly !== 'false') return armError(400, 'ValidationError', `isKeyVaultRefreshFailed must be true or false; got '${failedOnly}'.`);
    const list = storedMatching(state, (a) => isChildOf(a, m.prefix, 'namedValues'))
      .map((r) => namedValueContract(state, r) as { properties: Record<string, unknown> & { keyVault?: StoredNamedValue['keyVault'] } })
      .filter((c) => filter(c.properties))
      .filter((c) => failedOnly !== 'true' || (c.properties.keyVault !== undefined && c.properties.keyVault.lastStatus?.code !== 'Success'));
    return { status: 200, body: page(req, list, pageSize) };
  };
}

export const namedValueRoutes: RouteHandler = createNamedValueRoutes();
