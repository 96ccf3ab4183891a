/**
 * The live side of a plan: which scopes carry a policy (one paged `allPolicies` list), the
 * fragments of the service and of each workspace, then every one of them with its content and
 * ETag; and, for reference checks, the names of the named values and backends.
 */
import { addressKey, parsePolicyAddress } from '../model/address.js';
import type { Address, PolicyResource, State } from '../model/index.js';
import { ArmPolicyStore, addressOfId, listAll, type ArmSession } from './apim.js';
import { statusOf } from './arm-errors.js';

export interface LiveNames {
  /** Lower-cased `[workspaces/<w>/]<name>` of every named value. */
  namedValues: Set<string>;
  /** Lower-cased `[workspaces/<w>/]<name>` of every backend. */
  backends: Set<string>;
}

export interface LiveRead {
  state: State;
  workspaces: string[];
}

/** Workspaces of the instance; an instance (or emulator) without the workspace API has none. */
async function listWorkspaces(session: ArmSession): Promise<string[]> {
  const { client, target } = session;
  try {
    const items = await listAll(session, 'list workspaces', (token) =>
      client.workspace.listByService(target.resourceGroup, target.serviceName).byPage(token ? { continuationToken: token } : {}),
    );
    return items.map((w) => w.name!).filter(Boolean);
  } catch (e) {
    if (statusOf(e) === 404 || statusOf(e) === 400) return [];
    throw e;
  }
}

/** Addresses of every policy and fragment live (no content yet). */
async function policyAddresses(session: ArmSession): Promise<{ addresses: Address[]; workspaces: string[] }> {
  const { client, target } = session;
  const rg = target.resourceGroup;
  const svc = target.serviceName;
  const [all, fragments, listedWorkspaces] = await Promise.all([
    listAll(session, 'list allPolicies', (token) => client.allPolicies.listByService(rg, svc).byPage(token ? { continuationToken: token } : {})),
    listAll(session, 'list policyFragments', (token) => client.policyFragment.listByService(rg, svc).byPage(token ? { continuationToken: token } : {})),
    listWorkspaces(session),
  ]);
  const found = new Map<string, Address>();
  const add = (address: Address | undefined) => {
    if (address && parsePolicyAddress(address)) found.set(addressKey(address), address);
  };
  for (const p of all) add(p.referencePolicyId ? addressOfId(target, p.referencePolicyId) : undefined);
  for (const f of fragments) add(f.name ? `policyFragments/${f.name}` : undefined);
  const workspaces = new Map(listedWorkspaces.map((w) => [w.toLowerCase(), w]));
  for (const address of found.values()) {
    const ws = parsePolicyAddress(address)?.workspace;
    if (ws && !workspaces.has(ws.toLowerCase())) workspaces.set(ws.toLowerCase(), ws);
  }
  const wsFragments = await Promise.all(
    [...workspaces.values()].map((ws) =>
      listAll(session, `list workspaces/${ws}/policyFragments`, (token) =>
        client.workspacePolicyFragment.listByService(rg, svc, ws).byPage(token ? { continuationToken: token } : {}),
      ).then((items) => items.map((f) => `workspaces/${ws}/policyFragments/${f.name}`)),
    ),
  );
  for (const list of wsFragments) list.forEach(add);
  return { addresses: [...found.values()], workspaces: [...workspaces.values()] };
}

/** The live policies and fragments as a State, each with the ETag it was read at. */
export async function readLivePolicies(session: ArmSession, only?: (address: Address) => boolean): Promise<LiveRead> {
  const { addresses, workspaces } = await policyAddresses(session);
  const store = new ArmPolicyStore(session);
  const wanted = only ? addresses.filter(only) : addresses;
  const copies = await Promise.all(wanted.map((a) => store.read(a)));
  const resources = new Map<string, PolicyResource>();
  for (const copy of copies) {
    // Deleted between the list and the read: not live.
    if (!copy) continue;
    const resource: PolicyResource = { type: 'policy', address: copy.address, scope: parsePolicyAddress(copy.address)!, xml: copy.xml };
    if (copy.etag !== undefined) resource.etag = copy.etag;
    if (copy.description !== undefined) resource.description = copy.description;
    resources.set(addressKey(copy.address), resource);
  }
  return { state: { resources }, workspaces };
}

/** Names of named values and backends, of the service and of the given workspaces. */
export async function readLiveNames(session: ArmSession, workspaces: string[]): Promise<LiveNames> {
  const { client, target } = session;
  const rg = target.resourceGroup;
  const svc = target.serviceName;
  const names = (prefix: string, items: Array<{ name?: string }>) => items.filter((i) => i.name).map((i) => `${prefix}${i.name}`.toLowerCase());
  const lists = await Promise.all([
    listAll(session, 'list namedValues', (t) => client.namedValue.listByService(rg, svc).byPage(t ? { continuationToken: t } : {})).then((i) => names('', i)),
    ...workspaces.map((ws) =>
      listAll(session, `list workspaces/${ws}/namedValues`, (t) => client.workspaceNamedValue.listByService(rg, svc, ws).byPage(t ? { continuationToken: t } : {})).then((i) =>
        names(`workspaces/${ws}/`, i),
      ),
    ),
  ]);
  const backendLists = await Promise.all([
    listAll(session, 'list backends', (t) => client.backend.listByService(rg, svc).byPage(t ? { continuationToken: t } : {})).then((i) => names('', i)),
    ...workspaces.map((ws) =>
      listAll(session, `list workspaces/${ws}/backends`, (t) => client.workspaceBackend.listByWorkspace(rg, svc, ws).byPage(t ? { continuationToken: t } : {})).then((i) =>
        names(`workspaces/${ws}/`, i),
      ),
    ),
  ]);
  return { namedValues: new Set(lists.flat()), backends: new Set(backendLists.flat()) };
}

