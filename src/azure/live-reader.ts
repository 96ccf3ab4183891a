/**
 * The `LiveReader` over ARM: the policies and fragments (all of them through `allPolicies`, or
 * the addresses a scoped plan names), the names of named values and backends for the reference
 * checks (with the whole named values and backends, and the values of the secrets asked for), the APIs, operations, products and workspaces the planned policies lie under, and the
 * identity and role assignments identity.yaml needs (or only what is attached).
 */
import { addressKey, parsePolicyAddress, resourceOfCopy } from '../model/address.js';
import type { EntityState } from '../model/entities.js';
import type { PolicyResource } from '../model/index.js';
import { parentListed, type LiveReader, type LiveRequest, type LiveState, type UserAssignedInfo } from '../model/live.js';
import type { ArmPolicyStore, ArmSession } from './apim.js';
import { readLiveIdentity, type ArmIdentityStore } from './identity.js';
import { ArmEntityStore, isListableSecret } from './entities.js';
import { readLiveEntities, readLiveParents, readLivePolicies } from './reader.js';

/** The user-assigned identities attached to the instance now, with their principal and client IDs. */
async function attachedIdentities(identities: ArmIdentityStore): Promise<UserAssignedInfo[]> {
  const attached = (await identities.readService()).identity?.userAssignedIdentities ?? {};
  return Object.entries(attached)
    .filter(([, v]) => v.principalId && v.clientId)
    .map(([resourceId, v]) => ({ resourceId, principalId: v.principalId!, clientId: v.clientId! }));
}

export class ArmLiveReader implements LiveReader {
  constructor(
    private readonly session: ArmSession,
    private readonly store: ArmPolicyStore,
    private readonly identities: ArmIdentityStore,
  ) {}

  async read(request: LiveRequest): Promise<LiveState> {
    const live: LiveState = { state: { resources: new Map() } };
    let workspaces: string[];
    // The policies whose parents (API, operation, product, workspace) must exist: those planned.
    let toCheck: string[];
    if (request.addresses) {
      const referenced = new Set((request.referenced ?? []).map(addressKey));
      const copies = await Promise.all(request.addresses.map((a) => this.store.read(a)));
      const planned = new Map<string, PolicyResource>();
      const onlyReferenced = new Map<string, PolicyResource>();
      for (const copy of copies) {
        if (!copy) continue;
        const key = addressKey(copy.address);
        (referenced.has(key) ? onlyReferenced : planned).set(key, resourceOfCopy(copy));
      }
      live.state = { resources: planned };
      live.referenced = { resources: onlyReferenced };
      toCheck = request.addresses.filter((a) => !referenced.has(addressKey(a)));
      workspaces = [...new Set(request.addresses.map((a) => parsePolicyAddress(a)?.workspace).filter((w): w is string => !!w))];
    } else {
      const read = await readLivePolicies(this.session, request.desired ?? []);
      live.state = read.state;
      live.problems = read.problems;
      workspaces = read.workspaces;
      toCheck = request.desired ?? [];
    }
    // The workspaces of the tree's named values and backends must exist (ARM's 404 otherwise): checked
    // as a workspace policy's would be; the entities of those that exist are listed too (a scoped read
    // knows only the workspaces of its policies).
    const known = new Set(workspaces.map((w) => w.toLowerCase()));
    const unknown = (request.entities?.workspaces ?? []).filter((w) => !known.has(w.toLowerCase()));
    const [listed, parents, rbac, attached] = await Promise.all([
      // Listed at once unless some workspace's existence must be read first.
      unknown.length ? undefined : readLiveEntities(this.session, workspaces),
      readLiveParents(
        this.session,
        [...toCheck, ...unknown.map((w) => `workspaces/${w}/policies/policy`)],
        [...live.state.resources.values(), ...(live.referenced?.resources.values() ?? [])].map((r) => r.address),
      ),
      request.identity ? readLiveIdentity(this.identities, this.session, request.identity) : undefined,
      request.identity ? undefined : attachedIdentities(this.identities),
    ]);
    const existing = unknown.filter((w) => parentListed(parents, { kind: 'workspace', collection: 'workspaces', name: w }) === true);
    const names = listed ?? (await readLiveEntities(this.session, [...workspaces, ...existing]));
    live.names = names.names;
    live.entities = names.entities;
    if (request.entities?.secrets.length) live.entitySecrets = await this.secretsOf(request.entities.secrets, names.entities);
    live.parents = parents;
    if (rbac) live.rbac = rbac;
    if (attached) live.attached = attached;
    return live;
  }

  /**
   * The values of the secret named values among `addresses` that exist live and are not Key Vault
   * references (ARM `listValue`: a POST, so a write to ARM's throttling), by address key.
   */
  private async secretsOf(addresses: string[], entities: EntityState): Promise<Map<string, string>> {
    const store = new ArmEntityStore(this.session);
    const listable = [...new Map(addresses.map((a) => [addressKey(a), a])).entries()].filter(([key]) => {
      const live = entities.resources.get(key);
      return live?.kind === 'namedValue' && isListableSecret(live.properties);
    });
    const values = await Promise.all(listable.map(async ([key, a]) => [key, await store.listValue(entities.resources.get(key)!.address ?? a)] as const));
    return new Map(values);
  }
}
