/**
 * What a change reaches: for a changed fragment, named value or backend, the policies that use it
 * once the plan is applied, directly or through fragments (and, for a named value, the backends
 * whose properties name it, and through them their policies). Pure: built from the resources as they stand after apply (the desired
 * tree, plus live resources the plan keeps), never from ARM. delete-guards.ts reads the same index.
 *
 * Workspaces: a policy in a workspace resolves `{{name}}` and `backend-id` to the workspace's own
 * named value or backend when the workspace has one, else to the service's — the same lookup the
 * reference checks (references.ts) make. APIM's workspace documentation does not spell out the
 * fallback; when the workspace entity is unknown (no `entitiesAfter`) a reference counts for both,
 * so an impact list or a delete guard errs on the side of listing a user.
 */
import { addressKey, fragmentAddress, parsePolicyAddress } from '../model/address.js';
import type { EntityResource } from '../model/entities.js';
import { formatAddress, parseAddress, rankOf, type EntityKind } from '../model/kinds.js';
import type { Address, Change, PolicyResource } from '../model/index.js';
import { includedFragments, literalAttribute, parsePolicyDocument, walkElements, type PolicyDocument } from '../policy-xml/index.js';
import { namedValuesInText, walkTexts } from './references.js';

/** The kinds of thing a policy can reference by name. */
export type ReferenceKind = 'fragment' | 'namedValue' | 'backend';

/** A resource that references another: its address and, when known, its file and the line of the reference. */
export interface Use {
  address: Address;
  file?: string;
  line?: number;
}

/** Who references what: kind → address key of the referenced resource → address key of the user → the use. */
export type ReferenceIndex = Map<ReferenceKind, Map<string, Map<string, Use>>>;

type Documents = { get(key: string): PolicyDocument | undefined };

const PARAM: Record<EntityKind, string> = { namedValue: 'namedValueId', backend: 'backendId' };

/** The address key of a named value or backend. */
function entityKey(kind: EntityKind, id: string, workspace: string | undefined): string {
  return addressKey(formatAddress({ kind, params: { [PARAM[kind]]: id }, ...(workspace !== undefined ? { workspace } : {}) }) ?? `${kind}/${id}`);
}

/**
 * Resolves a name a policy (or backend) at `workspace` uses to the address keys of what it means.
 * Named values are named by id or display name (APIM's `{{…}}` takes the display name; the id is
 * accepted too), backends by id; case-insensitively.
 */
export function entityResolver(entitiesAfter?: Iterable<EntityResource>): (kind: EntityKind, name: string, workspace: string | undefined) => string[] {
  const names = new Map<string, string>();
  const at = (kind: EntityKind, workspace: string | undefined, name: string) => `${kind}\n${(workspace ?? '').toLowerCase()}\n${name.toLowerCase()}`;
  for (const e of entitiesAfter ?? []) {
    const key = addressKey(e.address);
    names.set(at(e.kind, e.workspace, e.id), key);
    const display = e.properties['displayName'];
    if (e.kind === 'namedValue' && typeof display === 'string' && !names.has(at(e.kind, e.workspace, display))) names.set(at(e.kind, e.workspace, display), key);
  }
  return (kind, name, workspace) => {
    const own = workspace !== undefined ? names.get(at(kind, workspace, name)) : undefined;
    if (own) return [own];
    const service = names.get(at(kind, undefined, name));
    if (service) return [service];
    // Not known after apply (deleted, or no entities given): the workspace's and the service's.
    return workspace !== undefined ? [entityKey(kind, name, workspace), entityKey(kind, name, undefined)] : [entityKey(kind, name, undefined)];
  };
}

/** Every string of a JSON value. */
function stringsOf(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) value.forEach((v) => stringsOf(v, out));
  else if (value && typeof value === 'object') Object.values(value).forEach((v) => stringsOf(v, out));
  return out;
}

/**
 * The reference index of `resources` (policies and fragments) and of the backends of
 * `entities` (the named values their properties name). A document is taken from `documents` when
 * it has one (the loaded tree), else parsed from the resource's text; one that does not parse
 * references nothing.
 */
export function buildReferenceIndex(resources: Iterable<PolicyResource>, documents?: Documents, entities?: Iterable<EntityResource>): ReferenceIndex {
  const index: ReferenceIndex = new Map();
  const entityList = [...(entities ?? [])];
  const resolve = entityResolver(entityList);
  const add = (kind: ReferenceKind, target: string, use: Use) => {
    let byTarget = index.get(kind);
    if (!byTarget) index.set(kind, (byTarget = new Map()));
    let users = byTarget.get(target);
    if (!users) byTarget.set(target, (users = new Map()));
    if (!users.has(addressKey(use.address))) users.set(addressKey(use.address), use);
  };
  for (const resource of resources) {
    let doc: PolicyDocument | undefined;
    try {
      doc =
        documents?.get(addressKey(resource.address)) ??
        parsePolicyDocument(resource.xml, { file: resource.file ?? resource.address, expect: resource.scope.kind === 'fragment' ? 'fragment' : 'policies' });
    } catch {
      continue;
    }
    const workspace = resource.scope.workspace;
    const use = (line: number): Use => ({ address: resource.address, ...(resource.file !== undefined ? { file: resource.file } : {}), line });
    for (const inc of includedFragments(doc.root)) add('fragment', addressKey(fragmentAddress(inc.fragmentId, workspace)), use(inc.element.line));
    for (const { element, texts } of walkTexts(doc.root)) {
      for (const text of texts) for (const name of namedValuesInText(text)) for (const key of resolve('namedValue', name, workspace)) add('namedValue', key, use(element.line));
    }
    for (const { element } of walkElements(doc.root)) {
      const id = element.name === 'set-backend-service' ? literalAttribute(element, 'backend-id')?.trim() : undefined;
      if (id) for (const key of resolve('backend', id, workspace)) add('backend', key, use(element.line));
    }
  }
  for (const e of entityList) {
    if (e.kind !== 'backend') continue;
    const use: Use = { address: e.address, ...(e.file !== undefined ? { file: e.file } : {}), ...(e.line !== undefined ? { line: e.line } : {}) };
    for (const text of stringsOf(e.properties)) for (const name of namedValuesInText(text)) for (const key of resolve('namedValue', name, e.workspace)) add('namedValue', key, use);
  }
  return index;
}

const byAddress = (a: string, b: string) => (a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0);

/**
 * The policies (not fragments) that use the resource `target` of `kind`: those that reference it,
 * and those that include a fragment that does, at any depth; for a named value also the backends
 * whose properties name it, and the policies that use those backends (directly or through
 * fragments). Cycles end the walk. In apply order (backends, global, product, API, operation),
 * then by address.
 */
export function impactOf(index: ReferenceIndex, kind: ReferenceKind, target: Address, kindOf: (address: Address) => string): Address[] {
  const seen = new Set<string>([addressKey(target)]);
  const found = new Map<string, Address>();
  // What to walk on from: a fragment's includers, a backend's users.
  const queue: Array<{ kind: 'fragment' | 'backend'; key: string }> = [];
  const visitUse = (key: string, address: Address) => {
    if (seen.has(key)) return;
    seen.add(key);
    const k = kindOf(address);
    if (k === 'fragment') queue.push({ kind: 'fragment', key });
    else {
      found.set(key, address);
      if (k === 'backend') queue.push({ kind: 'backend', key });
    }
  };
  for (const [key, use] of index.get(kind)?.get(addressKey(target)) ?? []) visitUse(key, use.address);
  while (queue.length) {
    // shift() before the lookup: `users?.get(queue.shift())` would not shift when there are no users.
    const next = queue.shift()!;
    for (const [key, use] of index.get(next.kind)?.get(next.key) ?? []) visitUse(key, use.address);
  }
  return [...found.values()].sort((a, b) => rankOf(kindOf(a)) - rankOf(kindOf(b)) || byAddress(a, b));
}

/** The policies that run the fragment at `fragment` (see impactOf). */
export function fragmentImpact(index: ReferenceIndex, fragment: Address, kindOf: (address: Address) => string): Address[] {
  return impactOf(index, 'fragment', fragment, kindOf);
}

const REFERENCED: ReadonlySet<string> = new Set<ReferenceKind>(['fragment', 'namedValue', 'backend']);

/** The kind of an address: from the resources when known, else from the address itself. */
export function kindLookup(resources: readonly PolicyResource[]): (address: Address) => string {
  const kinds = new Map(resources.map((r) => [addressKey(r.address), r.scope.kind as string]));
  return (address) => kinds.get(addressKey(address)) ?? parsePolicyAddress(address)?.kind ?? parseAddress(address)?.kind ?? 'operation';
}

/**
 * Sets `impact` on every created, updated or deleted fragment, named value and backend of
 * `changes`: the policies of `after` (the resources as they stand once the plan is applied) that
 * run it, and for a named value the backends of `entitiesAfter` whose properties name it (with the
 * policies that use those).
 */
export function addImpact(changes: Change[], after: Iterable<PolicyResource>, documents?: Documents, entitiesAfter?: Iterable<EntityResource>): void {
  const reached = changes.filter((c) => REFERENCED.has(c.resourceType) && c.action !== 'noop');
  if (!reached.length) return;
  const resources = [...after];
  const index = buildReferenceIndex(resources, documents, entitiesAfter);
  const kindOf = kindLookup(resources);
  for (const c of reached) c.impact = impactOf(index, c.resourceType as ReferenceKind, c.address, kindOf);
}
