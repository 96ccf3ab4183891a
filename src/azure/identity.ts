/**
 * The APIM instance's managed identities and their role assignments over ARM, with the real
 * `@azure/arm-apimanagement`, `@azure/arm-msi` and `@azure/arm-authorization` clients, every call
 * through the session's scheduler.
 *
 * Reads: the service (identity type, principals), each user-assigned identity the manifest names,
 * the role assignments of every principal involved (at the manifest's and the allowed scopes:
 * `listScopes`), the roles the manifest names, the Key Vault references that depend on an
 * identity. Writes: the identity PATCH (a long-running operation), role assignment PUT (409
 * RoleAssignmentExists is success; PrincipalNotFound right after an identity appears is retried
 * with backoff) and DELETE.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { AuthorizationManagementClient } from '@azure/arm-authorization';
import type { ManagedServiceIdentityClient } from '@azure/arm-msi';
import { KNOWN_BUILT_IN_ROLES } from '../model/roles.js';
import { roleAssignmentAddress } from '../model/address.js';
import { armIdSegments, idSegmentProblem } from '../model/arm-id.js';
import type { IdentityShape, IdentityState, IdentityWriter, RoleAssignment } from '../model/index.js';
import type { IdentityQuery, LiveIdentity, LiveRoleAssignment, UserAssignedInfo } from '../model/live.js';
import { armCall, armClientOptions, listAll, type ArmSession } from './apim.js';
import { statusOf } from './arm-errors.js';
import { NotFound } from '../model/live-errors.js';

const lower = (s: string) => s.toLowerCase();
const guidOf = (roleDefinitionId: string | undefined) => lower((roleDefinitionId ?? '').split('/').pop() ?? '');
/**
 * The SDK does not encode `scope` and would make `//subscriptions…` of a leading slash. The last
 * guard before a URL is made of a scope or an assignment name (from the manifest, from live or
 * from a saved plan): one that is not a clean ARM id would climb (`…/st1/../../..`), so it is
 * never sent.
 */
function sdkScope(scope: string, name?: string): string {
  const bare = scope.replace(/^\/+/, '');
  const problem = armIdSegments(`/${bare}`) ? (name === undefined ? undefined : idSegmentProblem(name)) : 'is not a clean ARM id';
  if (problem) throw new Error(`role assignment scope ${JSON.stringify(scope)}${name === undefined ? '' : ` (name ${JSON.stringify(name)})`} ${problem}; it is never sent to ARM`);
  return bare;
}
const subscriptionOf = (id: string) => /^\/subscriptions\/([^/]+)/i.exec(id)?.[1];

function parseUserAssignedId(id: string): { subscriptionId: string; resourceGroup: string; name: string } {
  const m = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/([^/]+)$/i.exec(id);
  if (!m) throw new Error(`${id} is not the resource ID of a user-assigned identity`);
  return { subscriptionId: m[1]!, resourceGroup: m[2]!, name: m[3]! };
}

/** ARM's `identity.type` for a shape. */
export function identityType(shape: IdentityShape): string {
  const u = shape.userAssigned.length > 0;
  if (shape.systemAssigned && u) return 'SystemAssigned, UserAssigned';
  if (shape.systemAssigned) return 'SystemAssigned';
  return u ? 'UserAssigned' : 'None';
}

function stateOf(identity: { type?: string; principalId?: string; userAssignedIdentities?: Record<string, unknown> } | undefined): IdentityState {
  const type = identity?.type ?? 'None';
  const state: IdentityState = {
    shape: { systemAssigned: /systemassigned/i.test(type), userAssigned: /userassigned/i.test(type) ? Object.keys(identity?.userAssignedIdentities ?? {}) : [] },
  };
  if (state.shape.systemAssigned && identity?.principalId) state.systemPrincipalId = identity.principalId;
  return state;
}

/** Role assignment names, principals and role GUIDs compare in lower case; scopes keep ARM's spelling. */
function liveAssignment(a: { name?: string; scope?: string; roleDefinitionId?: string; principalId?: string }): LiveRoleAssignment | undefined {
  if (!a.name || !a.scope || !a.principalId) return undefined;
  // A scope that is not a clean ARM id (".." and the like) would climb when a DELETE is sent to it: never used.
  if (!armIdSegments(a.scope) || !armIdSegments(`/${a.name}`)) return undefined;
  return { name: a.name, scope: a.scope, roleDefinitionGuid: guidOf(a.roleDefinitionId), principalId: a.principalId };
}

/**
 * The identity store's SDK clients are made on first use, and their packages loaded then: a run
 * without identity.yaml never loads them (arm-authorization alone is 260 KB, with its own copy
 * of the Azure core libraries).
 */
export class ArmIdentityStore implements IdentityWriter {
  private authorizationClient: Promise<{ client: AuthorizationManagementClient; continuationToken: (page: unknown) => string | undefined }> | undefined;
  private readonly msi = new Map<string, Promise<ManagedServiceIdentityClient>>();
  /** How long to wait before each retry of a PrincipalNotFound (the directory replicates a new identity within minutes). */
  principalRetryDelaysMs = [2000, 4000, 8000, 16000, 30000, 60000];

  constructor(private readonly session: ArmSession) {}

  private authorization() {
    return (this.authorizationClient ??= import('@azure/arm-authorization').then(({ AuthorizationManagementClient, getContinuationToken }) => ({
      client: new AuthorizationManagementClient(this.session.credential, this.session.target.subscriptionId, armClientOptions(this.session)),
      continuationToken: getContinuationToken,
    })));
  }

  private msiFor(subscriptionId: string): Promise<ManagedServiceIdentityClient> {
    let c = this.msi.get(lower(subscriptionId));
    if (!c) {
      c = import('@azure/arm-msi').then(({ ManagedServiceIdentityClient }) => new ManagedServiceIdentityClient(this.session.credential, subscriptionId, armClientOptions(this.session)));
      this.msi.set(lower(subscriptionId), c);
    }
    return c;
  }

  private get service(): string {
    return this.session.target.serviceName;
  }

  /** The service resource: its identity and the principals of what is attached. */
  readService() {
    const { resourceGroup } = this.session.target;
    return armCall(this.session, 'read', `GET service ${this.service} (identity)`, () => this.session.client.apiManagementService.get(resourceGroup, this.service));
  }

  async readIdentity(): Promise<IdentityState> {
    return stateOf((await this.readService()).identity);
  }

  /** Principal and client ID of user-assigned identities, by resource ID (from the service when attached, else from the identity itself). */
  async readUserAssigned(ids: string[], attached: Record<string, { principalId?: string; clientId?: string }> = {}): Promise<Map<string, UserAssignedInfo>> {
    const out = new Map<string, UserAssignedInfo>();
    await Promise.all(
      ids.map(async (resourceId) => {
        const known = Object.entries(attached).find(([k]) => lower(k) === lower(resourceId))?.[1];
        if (known?.principalId && known.clientId) {
          out.set(lower(resourceId), { resourceId, principalId: known.principalId, clientId: known.clientId });
          return;
        }
        // An ID read from live that is not a clean ARM id is never sent anywhere (it is reported as not readable).
        if (!armIdSegments(resourceId)) return;
        const { subscriptionId, resourceGroup, name } = parseUserAssignedId(resourceId);
        const found = await armCall(this.session, 'read', `GET ${resourceId}`, async () => {
          try {
            return await (await this.msiFor(subscriptionId)).userAssignedIdentities.get(resourceGroup, name);
          } catch (e) {
            if (statusOf(e) === 404) return undefined;
            throw e;
          }
        });
        if (found?.principalId && found.clientId) out.set(lower(resourceId), { resourceId, principalId: found.principalId, clientId: found.clientId });
      }),
    );
    return out;
  }

  async setIdentity(shape: IdentityShape, previous: IdentityShape): Promise<IdentityState> {
    const { resourceGroup } = this.session.target;
    const userAssignedIdentities: Record<string, object | null> = {};
    for (const id of shape.userAssigned) userAssignedIdentities[id] = {};
    // ARM PATCH merges the map: a detached identity must be sent as null (unless no user-assigned one stays).
    if (shape.userAssigned.length) {
      for (const id of previous.userAssigned) if (!shape.userAssigned.some((x) => lower(x) === lower(id))) userAssignedIdentities[id] = null;
    }
    const identity = { type: identityType(shape), ...(shape.userAssigned.length ? { userAssignedIdentities } : {}) };
    const svc = await armCall(this.session, 'write', `PATCH service ${this.service} identity (${identity.type})`, () =>
      this.session.client.apiManagementService.beginUpdateAndWait(resourceGroup, this.service, { identity: identity as never }, { updateIntervalInMs: 1000 }),
    );
    return stateOf(svc.identity);
  }

  async readAssignment(scope: string, name: string): Promise<{ principalId: string; roleDefinitionGuid: string } | undefined> {
    const { client } = await this.authorization();
    return armCall(this.session, 'read', `GET ${roleAssignmentAddress(name)}`, async () => {
      try {
        const a = await client.roleAssignments.get(sdkScope(scope, name), name);
        return a.principalId ? { principalId: a.principalId, roleDefinitionGuid: guidOf(a.roleDefinitionId) } : undefined;
      } catch (e) {
        if (statusOf(e) === 404) return undefined;
        throw e;
      }
    });
  }

  async createAssignment(a: RoleAssignment & { name: string; principalId: string }): Promise<void> {
    const sub = subscriptionOf(a.scope);
    const roleDefinitionId = `${sub ? `/subscriptions/${sub}` : ''}/providers/Microsoft.Authorization/roleDefinitions/${a.roleDefinitionGuid}`;
    const params = {
      roleDefinitionId,
      principalId: a.principalId,
      // Set so ARM does not look the principal up in a directory that has not replicated it yet.
      principalType: 'ServicePrincipal',
      description: a.description ?? 'Managed by apim-policy-deploy (identity.yaml)',
    };
    const what = `PUT ${roleAssignmentAddress(a.name)} (${a.roleName} on ${a.scope})`;
    const { client } = await this.authorization();
    for (let attempt = 0; ; attempt++) {
      try {
        await armCall(this.session, 'write', what, async () => {
          try {
            await client.roleAssignments.create(sdkScope(a.scope, a.name), a.name, params);
          } catch (e) {
            if (statusOf(e) === 409 && (e as { code?: string }).code === 'RoleAssignmentExists') return; // the same grant under another name
            throw e;
          }
        });
        return;
      } catch (e) {
        const notYet = /PrincipalNotFound/.test(String((e as { code?: string }).code ?? '') + (e as Error).message);
        const delay = this.principalRetryDelaysMs[attempt];
        if (!notYet || delay === undefined) throw e;
        await sleep(delay);
      }
    }
  }

  async deleteAssignment(scope: string, name: string): Promise<void> {
    const { client } = await this.authorization();
    await armCall(this.session, 'write', `DELETE ${roleAssignmentAddress(name)}`, () => client.roleAssignments.delete(sdkScope(scope, name), name));
  }

  /**
   * Every assignment of these principals at, above and below these scopes, once each. ARM's
   * `principalId eq` filter on a list at a scope answers exactly that (`atScope()` would leave out
   * what lies below, e.g. a grant on a resource inside a listed resource group), and needs
   * `Microsoft.Authorization/roleAssignments/read` at the scope listed only, never at the subscription.
   */
  async listAssignments(principals: string[], scopes: string[]): Promise<LiveRoleAssignment[]> {
    const byName = new Map<string, LiveRoleAssignment>();
    const { client, continuationToken } = await this.authorization();
    await Promise.all(
      principals.flatMap((principalId) =>
        scopes.map(async (scope) => {
          const list = await listAll(
            this.session,
            `roleAssignments of ${principalId} at ${scope}`,
            () => client.roleAssignments.listForScope(sdkScope(scope), { filter: `principalId eq '${principalId}'` }),
            continuationToken,
          );
          for (const a of list) {
            const live = liveAssignment(a);
            if (live && lower(live.principalId) === lower(principalId)) byName.set(lower(live.name), live);
          }
        }),
      ),
    );
    return [...byName.values()];
  }

  /** The GUID of a role by its name at a scope, or undefined when there is none. */
  async roleByName(scope: string, roleName: string): Promise<{ guid: string; name: string } | undefined> {
    const { client, continuationToken } = await this.authorization();
    const list = await listAll(
      this.session,
      `roleDefinitions "${roleName}"`,
      () => client.roleDefinitions.list(sdkScope(scope), { filter: `roleName eq '${roleName.replace(/'/g, "''")}'` }),
      continuationToken,
    );
    const hit = list.find((r) => r.roleName && lower(r.roleName) === lower(roleName)) ?? list[0];
    return hit?.name ? { guid: lower(hit.name), name: hit.roleName ?? roleName } : undefined;
  }

  /** Name of a role definition by GUID (undefined when it does not exist there). */
  async roleName(scope: string, guid: string): Promise<string | undefined> {
    const { client } = await this.authorization();
    return armCall(this.session, 'read', `GET roleDefinitions/${guid}`, async () => {
      try {
        return (await client.roleDefinitions.get(sdkScope(scope), guid)).roleName;
      } catch (e) {
        // Only a display name: a scope the identity may not read leaves the GUID shown as it is.
        if (statusOf(e) === 404 || statusOf(e) === 403) return undefined;
        throw e;
      }
    });
  }

  /** Every role name at a scope, for suggestions. */
  async allRoleNames(scope: string): Promise<string[]> {
    const { client, continuationToken } = await this.authorization();
    const list = await listAll(this.session, 'roleDefinitions', () => client.roleDefinitions.list(sdkScope(scope)), continuationToken);
    return list.map((r) => r.roleName).filter((n): n is string => !!n);
  }

  /** Key Vault-backed named values and certificates and the identity each reads with. */
  async keyVaultUsers(): Promise<Array<{ what: string; identityClientId?: string }>> {
    const { resourceGroup } = this.session.target;
    const client = this.session.client;
    const [namedValues, certificates] = await Promise.all([
      listAll(this.session, 'namedValues', () => client.namedValue.listByService(resourceGroup, this.service)),
      listAll(this.session, 'certificates', () => client.certificate.listByService(resourceGroup, this.service)).catch((e: unknown) => {
        if (e instanceof NotFound) return [];
        throw e;
      }),
    ]);
    const out: Array<{ what: string; identityClientId?: string }> = [];
    for (const nv of namedValues) if (nv.keyVault) out.push({ what: `named value "${nv.name}"`, ...(nv.keyVault.identityClientId ? { identityClientId: nv.keyVault.identityClientId } : {}) });
    for (const c of certificates) if (c.keyVault) out.push({ what: `certificate "${c.name}"`, ...(c.keyVault.identityClientId ? { identityClientId: c.keyVault.identityClientId } : {}) });
    return out;
  }
}

const cleanScope = (s: string) => `/${s.trim().replace(/^\/+|\/+$/g, '')}`;
const within = (scope: string, outer: string) => lower(scope) === lower(outer) || lower(scope).startsWith(`${lower(outer)}/`);

/**
 * Where role assignments are listed: the allowed scopes (the guardrail: where this tool may have
 * assigned, so a managed assignment dropped from identity.yaml is still found and deleted), or,
 * when the caller gives none, the scopes identity.yaml assigns on; without one that lies under
 * another; with neither (extract), the subscription. A manifest scope outside the allowed ones is
 * a plan error, so it is not read; a scope that is not a clean ARM id is never listed.
 */
export function listScopes(query: IdentityQuery, subscriptionId: string): string[] {
  const given = query.allowedScopes?.length ? query.allowedScopes : query.roleAssignments.map((r) => r.scope);
  const clean = given.map(cleanScope).filter((s) => /^\/subscriptions\/[^/]+/i.test(s) && !!armIdSegments(s));
  const unique = [...new Map(clean.map((s) => [lower(s), s])).values()];
  const cover = unique.filter((s) => !unique.some((o) => o !== s && within(s, o)));
  return cover.length ? cover : [`/subscriptions/${subscriptionId}`];
}

/** Where a manifest role's name is looked up: its own scope when allowed, else the first allowed scope (never outside them). */
function lookupScope(scope: string, allowed: string[]): string {
  return allowed.some((a) => within(cleanScope(scope), a)) ? scope : (allowed[0] ?? scope);
}

/** Everything the identity plan needs from live, read in as few calls as the manifest allows. */
export async function readLiveIdentity(store: ArmIdentityStore, session: ArmSession, query: IdentityQuery & { file?: string }): Promise<LiveIdentity> {
  const { subscriptionId } = session.target;
  const svc = await store.readService();
  const state = stateOf(svc.identity);
  const attached = (svc.identity?.userAssignedIdentities ?? {}) as Record<string, { principalId?: string; clientId?: string }>;
  const ids = [...state.shape.userAssigned, ...query.userAssigned.filter((id) => !state.shape.userAssigned.some((x) => lower(x) === lower(id)))];
  const [userAssigned, keyVaultUsers] = await Promise.all([store.readUserAssigned(ids, attached), store.keyVaultUsers()]);

  const principals = [state.systemPrincipalId, ...[...userAssigned.values()].map((u) => u.principalId)].filter((p): p is string => !!p);
  const scopes = listScopes(query, subscriptionId);
  const assignments = principals.length ? await store.listAssignments(principals, scopes) : [];

  // Roles: GUIDs as written or known; names looked up where they would be assigned.
  const roleNames = new Map(Object.entries(KNOWN_BUILT_IN_ROLES).map(([name, guid]) => [lower(guid), name]));
  const resolvedRoles = new Map<string, string>();
  let knownRoleNames: string[] = [];
  for (const r of query.roleAssignments) {
    if (r.roleDefinitionGuid || resolvedRoles.has(lower(r.role))) continue;
    const hit = await store.roleByName(lookupScope(r.scope, scopes), r.role);
    if (hit) {
      resolvedRoles.set(lower(r.role), hit.guid);
      roleNames.set(hit.guid, hit.name);
    } else if (!knownRoleNames.length) knownRoleNames = await store.allRoleNames(lookupScope(r.scope, scopes));
  }
  // A role's name is looked up where it is assigned (where the identity may read), not at the subscription.
  const unnamed = new Map<string, string>();
  for (const { roleDefinitionGuid: g, scope } of [...query.roleAssignments, ...assignments])
    if (g && !roleNames.has(lower(g)) && !unnamed.has(lower(g))) unnamed.set(lower(g), lookupScope(scope, scopes));
  for (const [guid, scope] of unnamed) {
    const name = await store.roleName(scope, guid);
    if (name) roleNames.set(guid, name);
  }
  return {
    shape: state.shape,
    ...(state.systemPrincipalId ? { systemPrincipalId: state.systemPrincipalId } : {}),
    userAssigned,
    assignments,
    roleNames,
    resolvedRoles,
    knownRoleNames,
    keyVaultUsers,
  };
}
