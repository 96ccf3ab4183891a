/**
 * Named values and backends over ARM with the real `@azure/arm-apimanagement` client, by address
 * (`[workspaces/<w>/]namedValues/<id>`, `…backends/<id>`): the `LiveWriter` side of the kinds whose
 * content is ARM `properties` as JSON. Reads take the body from the raw response, so the properties
 * are exactly what ARM returned. A named value's PUT is a long-running operation (longRunningWrite);
 * a backend's is not (2024-05-01 `Backend_CreateOrUpdate`). A secret's value comes only from
 * `listValue` (a POST, so a write to ARM's throttling) and is never put into a message.
 */
import type { FullOperationResponse } from '@azure/core-client';
import { idSegmentsProblem } from '../model/arm-id.js';
import { isEntityKind, parseAddress, type EntityKind } from '../model/kinds.js';
import type { Address, LiveCopy, LiveWriter } from '../model/index.js';
import { armCall, longRunningWrite, type ArmSession } from './arm-call.js';
import { statusOf } from './arm-errors.js';

export interface EntityAt {
  kind: EntityKind;
  id: string;
  workspace?: string;
}

/** The named value or backend an address names; undefined for any other address. */
export function entityOf(address: Address): EntityAt | undefined {
  const at = parseAddress(address);
  if (!at || !isEntityKind(at.kind)) return undefined;
  const id = at.kind === 'namedValue' ? at.params.namedValueId : at.params.backendId;
  if (id === undefined) return undefined;
  return { kind: at.kind, id, ...(at.workspace !== undefined ? { workspace: at.workspace } : {}) };
}

export const isEntityAddress = (address: Address): boolean => entityOf(address) !== undefined;

/**
 * The keys of each contract's `properties` a PUT may carry (2024-05-01 `NamedValueCreateContractProperties`,
 * `BackendContractProperties`), each with the name the SDK's flattened model gives it.
 */
const WRITABLE: Record<EntityKind, Record<string, string>> = {
  namedValue: { displayName: 'displayName', value: 'value', secret: 'secret', tags: 'tags', keyVault: 'keyVault' },
  backend: {
    url: 'url',
    protocol: 'protocol',
    title: 'title',
    description: 'description',
    resourceId: 'resourceId',
    properties: 'properties',
    credentials: 'credentials',
    proxy: 'proxy',
    tls: 'tls',
    circuitBreaker: 'circuitBreaker',
    pool: 'pool',
    type: 'typePropertiesType',
  },
};

/**
 * Properties ARM fills and a PUT does not send: `provisioningState` (readOnly in the spec) and a Key
 * Vault reference's `lastStatus` (the last refresh). Left out of extracted files too.
 */
export function withoutServerFilled(properties: Record<string, unknown>): Record<string, unknown> {
  const { provisioningState: _state, ...rest } = properties;
  const kv = rest.keyVault;
  if (kv && typeof kv === 'object' && !Array.isArray(kv) && 'lastStatus' in kv) {
    const { lastStatus: _status, ...keyVault } = kv as Record<string, unknown>;
    rest.keyVault = keyVault;
  }
  return rest;
}

/** Whether live properties are those of a secret whose value only `listValue` gives (not a Key Vault reference). */
export function isListableSecret(properties: Record<string, unknown>): boolean {
  return properties.secret === true && (properties.keyVault === undefined || properties.keyVault === null);
}

type EntityGroup = {
  get(...args: unknown[]): Promise<unknown>;
  createOrUpdate?(...args: unknown[]): Promise<unknown>;
  beginCreateOrUpdate?(...args: unknown[]): Promise<{ poll(): Promise<void>; isDone(): boolean; toString(): string }>;
  delete(...args: unknown[]): Promise<unknown>;
  listValue?(...args: unknown[]): Promise<{ value?: string }>;
};

function operationsFor(session: ArmSession, address: Address): { at: EntityAt; group: EntityGroup; ids: string[] } {
  const at = entityOf(address);
  if (!at) throw new Error(`${address} is not the address of a named value or a backend`);
  // The last guard before a URL is made of it.
  const problem = idSegmentsProblem(address.split('/'));
  if (problem) throw new Error(`${JSON.stringify(address)} is not a clean ARM id (${problem}); it is never sent to ARM`);
  const c = session.client;
  const [plain, workspace] = at.kind === 'namedValue' ? [c.namedValue, c.workspaceNamedValue] : [c.backend, c.workspaceBackend];
  return at.workspace !== undefined ? { at, group: workspace as unknown as EntityGroup, ids: [at.workspace, at.id] } : { at, group: plain as unknown as EntityGroup, ids: [at.id] };
}

/** The `properties` of an ARM answer's JSON body, as sent (nothing dropped); undefined when it has none. */
export function propertiesOf(raw: FullOperationResponse | undefined): Record<string, unknown> | undefined {
  if (!raw?.bodyAsText) return undefined;
  try {
    const body = JSON.parse(raw.bodyAsText) as { properties?: unknown };
    return body.properties && typeof body.properties === 'object' && !Array.isArray(body.properties) ? (body.properties as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Reads and writes named values and backends by address. */
export class ArmEntityStore implements LiveWriter {
  constructor(private readonly session: ArmSession) {}

  private get rg(): string {
    return this.session.target.resourceGroup;
  }
  private get service(): string {
    return this.session.target.serviceName;
  }

  /** The resource with its ETag, `xml` = its properties as JSON; a secret named value's value (listValue) in `secret`. */
  async read(address: Address): Promise<LiveCopy | undefined> {
    const { at, group, ids } = operationsFor(this.session, address);
    const got = await armCall(this.session, 'read', `GET ${address}`, async () => {
      let raw: FullOperationResponse | undefined;
      try {
        await group.get(this.rg, this.service, ...ids, { onResponse: (r: FullOperationResponse) => (raw = r) });
      } catch (e) {
        if (statusOf(e) === 404) return undefined;
        throw e;
      }
      const properties = propertiesOf(raw);
      if (!properties) throw new Error(`ARM returned no properties for ${address}`);
      return { properties, etag: raw?.headers.get('etag') };
    });
    if (!got) return undefined;
    const copy: LiveCopy = { address, xml: JSON.stringify(got.properties) };
    if (got.etag) copy.etag = got.etag;
    if (at.kind === 'namedValue' && isListableSecret(got.properties)) copy.secret = await this.listValue(address);
    return copy;
  }

  /** A secret named value's value (ARM `listValue`). Never logged; a failure names the address only. */
  async listValue(address: Address): Promise<string> {
    const { at, group, ids } = operationsFor(this.session, address);
    if (at.kind !== 'namedValue') throw new Error(`${address} is not a named value; only a named value has a value to list`);
    // A POST: ARM counts it against the write bucket.
    const value = await armCall(this.session, 'write', `POST ${address}/listValue`, async () => (await group.listValue!(this.rg, this.service, ...ids)).value);
    if (typeof value !== 'string') throw new Error(`ARM returned no value for ${address} (listValue)`);
    return value;
  }

  /** Creates or replaces with `json` (the properties, tokens resolved); the ETag of what ARM then holds. */
  async put(address: Address, json: string, options: { ifMatch?: string }): Promise<{ etag?: string }> {
    const { at, group, ids } = operationsFor(this.session, address);
    const params = sdkParameters(at.kind, address, json);
    let etag: string | undefined;
    const heard = (r: FullOperationResponse) => (etag = r.headers.get('etag') ?? etag);
    const ifMatch = options.ifMatch ? { ifMatch: options.ifMatch } : {};
    if (at.kind === 'namedValue') {
      // Long-running: the ETag last heard is the final GET's, of what the operation left.
      await longRunningWrite(this.session, `PUT ${address}`, (o) => group.beginCreateOrUpdate!(this.rg, this.service, ...ids, params, { ...ifMatch, ...o }), heard);
    } else await armCall(this.session, 'write', `PUT ${address}`, () => group.createOrUpdate!(this.rg, this.service, ...ids, params, { ...ifMatch, onResponse: heard }));
    return etag ? { etag } : {};
  }

  async remove(address: Address, ifMatch: string): Promise<void> {
    const { group, ids } = operationsFor(this.session, address);
    await armCall(this.session, 'write', `DELETE ${address}`, () => group.delete(this.rg, this.service, ...ids, ifMatch));
  }
}

/**
 * The SDK's flattened model of the properties in `json`. A key the contract has not is an error
 * naming it (the SDK would drop it silently); the error never quotes a value (it may be a secret).
 */
function sdkParameters(kind: EntityKind, address: Address, json: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new Error(`${address}: the properties to write are not JSON; nothing was sent`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${address}: the properties to write are not a JSON object; nothing was sent`);
  const keys = WRITABLE[kind];
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(withoutServerFilled(parsed as Record<string, unknown>))) {
    const sdkKey = keys[k];
    if (!sdkKey) {
      throw new Error(`${address}: "${k}" is not a property of ARM's ${kind === 'namedValue' ? 'named value' : 'backend'} contract (2024-05-01: ${Object.keys(keys).join(', ')}); nothing was sent`);
    }
    out[sdkKey] = v;
  }
  return out;
}
