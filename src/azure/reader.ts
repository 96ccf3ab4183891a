/**
 * The live side of a plan: which scopes carry a policy (one paged `allPolicies` list, taken as a
 * hint: a desired address it lacks is read directly; when the list fails, the scopes are listed one
 * by one), the
 * fragments of the service and of each workspace, then every one of them with its content and
 * ETag; and, for reference checks, the names of the named values and backends.
 */
import type { FullOperationResponse } from '@azure/core-client';
import type { PagedAsyncIterableIterator } from '@azure/core-paging';
import { addressKey, fragmentAddress, parsePolicyAddress, resourceOfCopy } from '../model/address.js';
import { formatAddress, workspaceQualified, type EntityKind } from '../model/kinds.js';
import type { EntityState } from '../model/entities.js';
import { idSegmentProblem, idSegmentsProblem, showId } from '../model/arm-id.js';
import type { Address, Diagnostic, PolicyResource, State } from '../model/index.js';
import { parentListed, policyParents, type LiveNames, type LiveParents } from '../model/live.js';
import { ArmPolicyStore, addressOfId, listAll, type ArmSession } from './apim.js';
import { statusOf } from './arm-errors.js';
import { NotFound, Rejected } from '../model/live-errors.js';
import { serviceResourceId } from './target.js';

export interface LiveRead {
  state: State;
  workspaces: string[];
  /** Ids read from live that cannot be used (see liveIdProblem): warnings naming each raw id. */
  problems: Diagnostic[];
}

/**
 * An id read from live goes into URLs (and, in extract, file paths): `apis/..` would make a
 * DELETE of that API's policy a DELETE of the global one, `policyFragments/..` one of the service.
 * Such ids (see idSegmentProblem) are skipped with a warning naming the raw id, never used.
 */
function liveIdWarning(session: ArmSession, what: string, raw: string, problem: string): Diagnostic {
  return {
    severity: 'warning',
    rule: 'live-id',
    file: serviceResourceId(session.target),
    line: 1,
    column: 1,
    message:
      `live ${what} ${showId(raw)} ${problem}: skipped — it is never put into a URL or a file path, so this run neither plans, changes nor deletes it. ` +
      'Look at it in the Azure portal and rename or remove it there.',
  };
}

/** Workspaces of the instance; an instance (or emulator) without the workspace API has none. */
async function listWorkspaces(session: ArmSession, problems: Diagnostic[]): Promise<string[]> {
  const { client, target } = session;
  try {
    const items = await listAll(session, 'list workspaces', () => client.workspace.listByService(target.resourceGroup, target.serviceName));
    const names = items.map((w) => w.name!).filter(Boolean);
    return names.filter((name) => {
      const problem = idSegmentProblem(name);
      if (problem) problems.push(liveIdWarning(session, 'workspace id', name, `is not a clean ARM id (it ${problem})`));
      return !problem;
    });
  } catch (e) {
    if (e instanceof NotFound || e instanceof Rejected) return [];
    throw e;
  }
}

/** Statuses of an `allPolicies` list that mean "not supported here": the scopes are then listed one by one. */
const UNSUPPORTED = new Set([400, 404, 405, 501]);

/**
 * The `allPolicies` list, or undefined when the instance does not support it. Then the candidates
 * are the service policy and the policy of each API and each product (from the SDK's lists); which
 * of them exist is found by reading them.
 */
async function allPoliciesOrScopes(session: ArmSession): Promise<{ ids: Array<{ referencePolicyId?: string }>; candidates: Address[] }> {
  const { client, target } = session;
  const rg = target.resourceGroup;
  const svc = target.serviceName;
  try {
    return { ids: await listAll(session, 'list allPolicies', () => client.allPolicies.listByService(rg, svc)), candidates: [] };
  } catch (e) {
    if (!UNSUPPORTED.has(statusOf(e) ?? 0)) throw e;
  }
  const [apis, products] = await Promise.all([listAll(session, 'list apis', () => client.api.listByService(rg, svc)), listAll(session, 'list products', () => client.product.listByService(rg, svc))]);
  const clean = (names: Array<string | undefined>) => names.filter((n): n is string => !!n && !idSegmentProblem(n));
  return {
    ids: [],
    candidates: ['policies/policy', ...clean(apis.map((a) => a.name)).map((a) => `apis/${a}/policies/policy`), ...clean(products.map((p) => p.name)).map((p) => `products/${p}/policies/policy`)],
  };
}

/** Addresses of every policy and fragment live (no content yet), and those that may be (`candidates`: to read directly). */
async function policyAddresses(session: ArmSession, problems: Diagnostic[]): Promise<{ addresses: Address[]; candidates: Address[]; workspaces: string[] }> {
  const { client, target } = session;
  const rg = target.resourceGroup;
  const svc = target.serviceName;
  const [{ ids: all, candidates }, fragments, listedWorkspaces] = await Promise.all([
    allPoliciesOrScopes(session),
    listAll(session, 'list policyFragments', () => client.policyFragment.listByService(rg, svc)),
    listWorkspaces(session, problems),
  ]);
  const found = new Map<string, Address>();
  const add = (address: Address | undefined) => {
    if (address && parsePolicyAddress(address)) found.set(addressKey(address), address);
  };
  for (const p of all) {
    const address = p.referencePolicyId ? addressOfId(target, p.referencePolicyId) : undefined;
    const problem = address === undefined ? undefined : idSegmentsProblem(address.split('/'));
    if (problem) problems.push(liveIdWarning(session, 'policy', address!, `(from allPolicies) is not a clean ARM id (${problem})`));
    else add(address);
  }
  /** A fragment name from a list: one segment, or a warning. */
  const fragment = (workspace: string | undefined, name: string | undefined): Address | undefined => {
    if (!name) return undefined;
    const problem = idSegmentProblem(name);
    if (!problem) return fragmentAddress(name, workspace);
    problems.push(liveIdWarning(session, 'policy fragment id', fragmentAddress(name, workspace), `is not a clean ARM id (its name ${problem})`));
    return undefined;
  };
  for (const f of fragments) add(fragment(undefined, f.name));
  const workspaces = new Map(listedWorkspaces.map((w) => [w.toLowerCase(), w]));
  for (const address of found.values()) {
    const ws = parsePolicyAddress(address)?.workspace;
    if (ws && !workspaces.has(ws.toLowerCase())) workspaces.set(ws.toLowerCase(), ws);
  }
  const wsFragments = await Promise.all(
    [...workspaces.values()].map((ws) =>
      listAll(session, `list ${workspaceQualified('policyFragments', ws)}`, () => client.workspacePolicyFragment.listByService(rg, svc, ws)).then((items) => items.map((f) => fragment(ws, f.name))),
    ),
  );
  for (const list of wsFragments) list.forEach(add);
  return { addresses: [...found.values()], candidates, workspaces: [...workspaces.values()] };
}

/**
 * The live policies and fragments as a State, each with the ETag it was read at. `desired`: the
 * policy addresses of the desired tree; one that no list named is read directly (a 404 = absent),
 * so a scope `allPolicies` leaves out is never planned as a create while it exists.
 */
export async function readLivePolicies(session: ArmSession, desired: Address[] = []): Promise<LiveRead> {
  const problems: Diagnostic[] = [];
  const { addresses, candidates, workspaces } = await policyAddresses(session, problems);
  const toRead = new Map(addresses.map((a) => [addressKey(a), a]));
  for (const a of [...candidates, ...desired]) {
    const scope = parsePolicyAddress(a);
    // Fragments come from their own lists; an address that is not clean is never sent.
    if (!scope || scope.kind === 'fragment' || idSegmentsProblem(a.split('/'))) continue;
    if (!toRead.has(addressKey(a))) toRead.set(addressKey(a), a);
  }
  const store = new ArmPolicyStore(session);
  const copies = await Promise.all([...toRead.values()].map((a) => store.read(a)));
  const resources = new Map<string, PolicyResource>();
  // Deleted between the list and the read: not live.
  for (const copy of copies) if (copy) resources.set(addressKey(copy.address), resourceOfCopy(copy));
  return { state: { resources }, workspaces, problems };
}

/** Names of named values and backends, of the service and of the given workspaces. */
export async function readLiveNames(session: ArmSession, workspaces: string[]): Promise<LiveNames> {
  return (await readLiveEntities(session, workspaces)).names;
}

/**
 * The named values and backends of the service and of the given workspaces, from one list each:
 * their names (for reference checks) and each whole item (`properties` exactly as ARM returned them,
 * taken from the raw pages). A name that is not one clean segment is left out of both.
 */
export async function readLiveEntities(session: ArmSession, workspaces: string[]): Promise<{ names: LiveNames; entities: EntityState }> {
  const { client, target } = session;
  const rg = target.resourceGroup;
  const svc = target.serviceName;
  const entities: EntityState = { resources: new Map() };
  type Item = { name?: string; value?: string };
  type Options = { onResponse: (r: FullOperationResponse) => void };
  // One list of the service and one per workspace, as lower-cased `[workspaces/<w>/]<name>`.
  const namesOf = async (
    kind: EntityKind,
    collection: string,
    service: (o: Options) => PagedAsyncIterableIterator<Item>,
    inWorkspace: (ws: string, o: Options) => PagedAsyncIterableIterator<Item>,
  ) => {
    const listOf = async (ws: string | undefined) => {
      // The raw items of every page (a page read twice after a retry lands on the same keys).
      const options: Options = {
        onResponse: (r) => {
          for (const raw of rawItems(r)) {
            if (idSegmentProblem(raw.name)) continue;
            const address = formatAddress({ kind, params: { [kind === 'namedValue' ? 'namedValueId' : 'backendId']: raw.name }, ...(ws !== undefined ? { workspace: ws } : {}) })!;
            entities.resources.set(addressKey(address), { type: 'entity', kind, address, id: raw.name, ...(ws !== undefined ? { workspace: ws } : {}), properties: raw.properties });
          }
        },
      };
      const items = await listAll(session, `list ${ws === undefined ? collection : workspaceQualified(collection, ws)}`, () => (ws === undefined ? service(options) : inWorkspace(ws, options)));
      return items.map((i) => ({ key: i.name && (ws === undefined ? i.name : workspaceQualified(i.name, ws)), value: i.value }));
    };
    const lists = await Promise.all([listOf(undefined), ...workspaces.map((ws) => listOf(ws))]);
    // A name that is not one clean segment is left out: a reference to it is then reported as missing.
    return lists
      .flat()
      .filter((i): i is { key: string; value: string | undefined } => !!i.key && !idSegmentProblem(i.key.split('/').pop()!))
      .map((i) => ({ ...i, key: i.key.toLowerCase() }));
  };
  const [namedValues, backends] = await Promise.all([
    namesOf(
      'namedValue',
      'namedValues',
      (o) => client.namedValue.listByService(rg, svc, o),
      (ws, o) => client.workspaceNamedValue.listByService(rg, svc, ws, o),
    ),
    namesOf(
      'backend',
      'backends',
      (o) => client.backend.listByService(rg, svc, o),
      (ws, o) => client.workspaceBackend.listByWorkspace(rg, svc, ws, o),
    ),
  ]);
  return {
    names: {
      namedValues: new Set(namedValues.map((i) => i.key)),
      backends: new Set(backends.map((i) => i.key)),
      namedValueValues: new Map(namedValues.filter((i) => typeof i.value === 'string').map((i) => [i.key, i.value!])),
    },
    entities,
  };
}

/** The items of a list page's raw answer that have a name and properties (anything else is left to the SDK's reading). */
function rawItems(r: FullOperationResponse): Array<{ name: string; properties: Record<string, unknown> }> {
  if (r.status !== 200 || !r.bodyAsText) return [];
  try {
    const body = JSON.parse(r.bodyAsText) as { value?: unknown };
    if (!Array.isArray(body.value)) return [];
    return body.value.filter(
      (i): i is { name: string; properties: Record<string, unknown> } =>
        !!i &&
        typeof i === 'object' &&
        typeof (i as { name?: unknown }).name === 'string' &&
        !!(i as { properties?: unknown }).properties &&
        typeof (i as { properties?: unknown }).properties === 'object',
    );
  } catch {
    return [];
  }
}

/**
 * The parents the desired policies at `addresses` need (ARM refuses a policy under an API,
 * operation, product or workspace it lacks): level by level, only the collections some address
 * needs and only under parents that exist — the workspaces when an address names one, the APIs and
 * products of the service and of each existing workspace, the operations only of the existing APIs
 * that carry an operation policy in `addresses`. A parent that a `live` policy lies under exists:
 * no list is made for it (so a tree with no new scope costs no list). A collection the instance
 * does not answer (404, 400) is left out, so nothing under it is called missing.
 */
export async function readLiveParents(session: ArmSession, addresses: Address[], live: Iterable<Address>): Promise<LiveParents> {
  const { client, target } = session;
  const rg = target.resourceGroup;
  const svc = target.serviceName;
  const known = new Set([...live].flatMap((a) => policyParents(a).map((p) => `${p.collection}/${p.name}`.toLowerCase())));
  const parents: LiveParents = { service: svc, collections: new Map(), known };
  const wanted = addresses.filter((a) => !idSegmentsProblem(a.split('/'))).map(policyParents);
  /** The SDK list of a collection address (`workspaces`, `[workspaces/w/]apis`, `…products`, `…apis/a/operations`). */
  const lister = (collection: string[]): (() => PagedAsyncIterableIterator<{ name?: string }>) | undefined => {
    const ws = collection.length >= 3 && collection[0] === 'workspaces' ? collection[1]! : undefined;
    const rest = ws ? collection.slice(2) : collection;
    if (!ws && rest.length === 1 && rest[0] === 'workspaces') return () => client.workspace.listByService(rg, svc);
    if (rest.length === 1 && rest[0] === 'apis') return () => (ws ? client.workspaceApi.listByService(rg, svc, ws) : client.api.listByService(rg, svc));
    if (rest.length === 1 && rest[0] === 'products') return () => (ws ? client.workspaceProduct.listByService(rg, svc, ws) : client.product.listByService(rg, svc));
    if (rest.length === 3 && rest[0] === 'apis' && rest[2] === 'operations')
      return () => (ws ? client.workspaceApiOperation.listByApi(rg, svc, ws, rest[1]!) : client.apiOperation.listByApi(rg, svc, rest[1]!));
    return undefined;
  };
  for (let depth = 0; depth < 3; depth++) {
    // The collections at this depth under parents that exist; spelled as the tree spells them (for the SDK call).
    const todo = new Map<string, string[]>();
    for (const chain of wanted) {
      const parent = chain[depth];
      if (!parent || chain.slice(0, depth).some((p) => parentListed(parents, p) !== true)) continue;
      if (parentListed(parents, parent) === true) continue;
      if (!parents.collections.has(parent.collection) && !todo.has(parent.collection)) {
        const spelled = [...chain.slice(0, depth).flatMap((p) => (p.kind === 'workspace' ? ['workspaces', p.name] : p.kind === 'api' ? ['apis', p.name] : [])), parent.collection.split('/').pop()!];
        todo.set(parent.collection, spelled);
      }
    }
    await Promise.all(
      [...todo].map(async ([collection, spelled]) => {
        const call = lister(spelled);
        if (!call) return;
        try {
          const items = await listAll(session, `list ${spelled.join('/')}`, call);
          parents.collections.set(
            collection,
            items.map((i) => i.name).filter((n): n is string => !!n),
          );
        } catch (e) {
          if (!(e instanceof NotFound || e instanceof Rejected)) throw e;
        }
      }),
    );
  }
  return parents;
}
