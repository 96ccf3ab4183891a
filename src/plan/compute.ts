/**
 * The whole plan, computed once from the two states: policies and fragments, the identity and
 * its role assignments, reference checks, the workflow's guardrails, the empty-tree guard, the
 * summary and the seal. Pure: the live side is read before (a `LiveReader`, a snapshot folder or
 * an in-memory state), and nothing changes the plan after it is returned.
 */
import type { IdentityManifest } from '../model/identity.js';
import { addressKey } from '../model/address.js';
import type { Address, Change, Diagnostic, Plan, PolicyResource, State } from '../model/index.js';
import { PLAN_FORMAT_VERSION } from '../model/index.js';
import type { Guardrails, LiveIdentity, LiveState, UserAssignedInfo } from '../model/live.js';
import type { PolicyDocument } from '../policy-xml/index.js';
import { TOOL_NAME, TOOL_VERSION } from '../version.js';
import { emptyTreeProblem, type PoliciesRoot } from './empty-tree.js';
import { addImpact } from './impact.js';
import { planIdentity } from './identity.js';
import { sealPlan } from './integrity.js';
import { comparePolicies, sortChanges, type PlanSide } from './policies.js';
import { compareEntities } from './entities.js';
import { newSecretSalt, secretHasher } from './secrets.js';
import type { DesiredEntities, EntityResource, EntityState } from '../model/entities.js';
import { deleteGuards } from './delete-guards.js';
import { checkEntityAccess, keyVaultStatusProblems } from './entity-access.js';
import { valuesToReadAgain } from './key-vault-reread.js';
import { workspaceQualified } from '../model/kinds.js';
import { checkParents } from './parents.js';
import { checkReferences } from './references.js';

/** The desired side: the policies tree and, when it has one, identity.yaml. */
export interface PlanDesired extends PlanSide {
  /** Parsed documents by address key, for the reference checks. */
  documents?: { get(key: string): PolicyDocument | undefined };
  identity?: IdentityManifest;
  /** Named values and backends of the tree, and the kinds it manages. */
  entities?: DesiredEntities;
  /** The values of the tokens the entities name (from the environment; in memory only). */
  secrets?: ReadonlyMap<string, string>;
}

export interface PlanSettings {
  source: Plan['source'];
  commit?: string;
  /** Findings to show with the plan's own (before them). */
  problems?: Diagnostic[];
  /** The workflow's limits on role assignments; required to plan identity.yaml (none allowed without). */
  guardrails?: Guardrails;
  /**
   * The policies folder as the user named it (and the loader's guess of the right one when the tree
   * is empty): with it, a tree with no policy while live has some plans no deletes and gets an
   * error naming the folder (the empty-tree guard).
   */
  policiesRoot?: PoliciesRoot;
  /** Plan only these addresses (a PR-scoped plan), and say so in the plan. */
  scope?: { addresses: Address[]; base: string; read: number; identity: boolean };
  /** For reproducible output in tests; defaults to now. */
  now?: Date;
  /** The salt of the keyed hashes of secret values (secrets.ts); a new random one by default. */
  secretSalt?: string;
}

/** Lower-cased `[workspaces/<w>/]<name>` of each entity, by id and (named values) display name: what `{{…}}` and `backend-id` name. */
function entityNames(states: Array<EntityState | undefined>, kind: 'namedValue' | 'backend', deleted: Set<string>): Set<string> {
  const out = new Set<string>();
  for (const state of states) {
    for (const [key, r] of state?.resources ?? []) {
      if (r.kind !== kind || deleted.has(key)) continue;
      out.add(workspaceQualified(r.id, r.workspace).toLowerCase());
      const display = r.properties['displayName'];
      if (kind === 'namedValue' && typeof display === 'string') out.add(workspaceQualified(display, r.workspace).toLowerCase());
    }
  }
  return out;
}

/** The named values and backends once the plan is applied: the tree's (of the kinds it manages) and live's that are not deleted. */
function entitiesAfterApply(desired: DesiredEntities | undefined, live: EntityState | undefined, changes: Change[]): EntityResource[] {
  const deleted = new Set(changes.filter((c) => c.action === 'delete').map((c) => addressKey(c.address)));
  const out = new Map<string, EntityResource>();
  for (const [key, r] of live?.resources ?? []) if (!deleted.has(key)) out.set(key, r);
  for (const [key, r] of desired?.resources ?? []) if (desired!.managed.has(r.kind)) out.set(key, r);
  return [...out.values()];
}

/** The problem a plan gets when the tree manages named values or backends but live has none to compare with (a snapshot folder). */
function entitiesNotPlanned(entities: DesiredEntities): Diagnostic | undefined {
  const first = [...entities.resources.values()].find((r) => entities.managed.has(r.kind));
  if (!first) return undefined;
  return {
    severity: 'warning',
    rule: 'entities-not-planned',
    file: first.file ?? first.address,
    line: 1,
    column: 1,
    message:
      'named values and backends are not planned against a live snapshot folder (it holds no secret values or ETags to compare with); plan against the instance (the Azure target flags) to see their changes.',
  };
}

const lower = (s: string) => s.toLowerCase();

/** Only the resources whose key is in `keys`. */
function only(state: State, keys: Set<string> | undefined): State {
  return keys ? { resources: new Map([...state.resources].filter(([k]) => keys.has(k))) } : state;
}

/** The user-assigned identities the instance has once the plan is applied: the manifest's, else those attached. */
function identitiesAfterApply(manifest: IdentityManifest | undefined, identity: LiveIdentity | undefined, attached: UserAssignedInfo[]) {
  let infos: UserAssignedInfo[];
  const labels = new Map<string, string>();
  if (manifest && identity && manifest.userAssignedDeclared) {
    infos = manifest.userAssigned.map((u) => identity.userAssigned.get(lower(u.resourceId))).filter((u): u is UserAssignedInfo => !!u);
    for (const u of manifest.userAssigned) labels.set(lower(u.resourceId), u.alias);
  } else if (identity) {
    infos = identity.shape.userAssigned.map((id) => identity.userAssigned.get(lower(id))).filter((u): u is UserAssignedInfo => !!u);
  } else infos = attached;
  const label = (u: UserAssignedInfo) => labels.get(lower(u.resourceId)) ?? u.resourceId.split('/').pop()!;
  return {
    clients: new Map(infos.map((u) => [lower(u.clientId), label(u)])),
    principals: new Map(infos.map((u) => [lower(u.principalId), { clientId: u.clientId, label: label(u) }])),
    /** Client ID → the alias and resource ID of each user-assigned identity. */
    byClient: new Map(infos.map((u) => [lower(u.clientId), { alias: label(u), resourceId: u.resourceId }])),
  };
}

/** The problem a snapshot plan gets for identity.yaml: a snapshot folder holds no principals or role assignments to plan against. */
function identityNotPlanned(manifest: IdentityManifest): Diagnostic {
  return {
    severity: 'warning',
    rule: 'identity-not-planned',
    file: manifest.file,
    line: manifest.identityLine ?? 1,
    column: 1,
    message: `${manifest.file} is not planned: a live snapshot folder holds no principals, role assignments or roles to compare it with, so this plan shows policies only. Plan against the instance (the Azure target flags) to see its identity and role assignment changes.`,
  };
}

/**
 * The policies and fragments as they stand once the plan is applied: the whole desired tree, and
 * what live has beside it unless the plan deletes it (a PR-scoped plan keeps everything it did not read).
 */
function afterApply(desired: State, live: State, changes: Change[]): PolicyResource[] {
  const deleted = new Set(changes.filter((c) => c.action === 'delete').map((c) => addressKey(c.address)));
  const out = [...desired.resources.values()];
  for (const [key, r] of live.resources) if (!desired.resources.has(key) && !deleted.has(key)) out.push(r);
  return out;
}

/**
 * Compares desired with live and returns the whole plan, in apply order: identity and role
 * assignments created, fragments, global, product, API and operation policies, then deletes in
 * reverse and role assignments deleted.
 */
export function computePlan(desired: PlanDesired, live: PlanSide & Omit<LiveState, 'state' | 'canonical'>, settings: PlanSettings): Plan {
  const keys = settings.scope ? new Set(settings.scope.addresses.map(addressKey)) : undefined;
  const planned: PlanDesired = { ...desired, state: only(desired.state, keys) };
  let changes = comparePolicies(planned, { ...live, state: only(live.state, keys) });
  const problems: Diagnostic[] = [...(settings.problems ?? [])];

  // The tree's named values and backends of the kinds it manages (its folder exists).
  const managed = desired.entities ? [...desired.entities.resources.values()].filter((r) => desired.entities!.managed.has(r.kind)) : [];
  // The user-assigned identities the instance has once applied (reference, Key Vault and read-again checks).
  const identitiesAfter = identitiesAfterApply(desired.identity, live.rbac, live.attached ?? []);
  // The identity and its role assignments (merged into the changes below, first and last).
  const identity = desired.identity && live.rbac ? planIdentity(desired.identity, live.rbac, settings.guardrails ?? { allowPrivilegedRoles: false, allowedScopes: [] }) : undefined;

  // Named values and backends: the kinds the tree manages, all of them (one list each; a scoped plan too).
  let salt: string | undefined;
  let readAgain = new Set<string>();
  if (desired.entities && live.entities) {
    const hasher = secretHasher(settings.secretSalt ?? newSecretSalt());
    const env = Object.fromEntries(desired.secrets ?? []);
    readAgain = valuesToReadAgain(managed, live.entities, identity ? [...identity.first, ...identity.last] : [], identitiesAfter.byClient);
    const entityChanges = compareEntities(desired.entities, live.entities, { env, hasher, ...(live.entitySecrets ? { live: live.entitySecrets } : {}) }, readAgain);
    // Apply makes the same marks again (secret values, live and from the environment) with the plan's salt.
    if (entityChanges.some((c) => c.action !== 'noop')) salt = hasher.salt;
    changes = sortChanges([...changes, ...entityChanges]);
  } else if (desired.entities && settings.source.kind === 'snapshot') {
    const warning = entitiesNotPlanned(desired.entities);
    if (warning) problems.push(warning);
  }

  // A policy under an API, operation, product or workspace live lacks: ARM would refuse it.
  // A workspace's named value or backend likewise, when the tree manages its kind.
  if (live.parents) problems.push(...checkParents(planned.state, live.parents, live.entities ? managed : []));

  // Reference checks need the live names: a snapshot has none.
  if (live.names && desired.documents) {
    const fragments = new Set<string>();
    for (const side of [planned.state, only(live.state, keys), live.referenced ?? { resources: new Map() }]) {
      for (const [key, r] of side.resources) if (r.scope.kind === 'fragment') fragments.add(key);
    }
    const changing = changes
      .filter((c) => c.action === 'create' || c.action === 'update')
      .map((c) => planned.state.resources.get(addressKey(c.address)))
      .filter((r): r is PolicyResource => !!r);
    const identities = { ...identitiesAfter, namedValueValues: live.names.namedValueValues };
    // What exists once the plan is applied: live's, and the tree's named values and backends (this plan creates them first).
    const deleted = new Set(changes.filter((c) => c.action === 'delete').map((c) => addressKey(c.address)));
    const desiredEntities = { resources: new Map(managed.map((r) => [addressKey(r.address), r])) };
    const namedValues = new Set([...live.names.namedValues, ...entityNames([live.entities, desiredEntities], 'namedValue', deleted)]);
    const backends = new Set([...live.names.backends, ...entityNames([live.entities, desiredEntities], 'backend', deleted)]);
    problems.push(...checkReferences(changing, desired.documents, { fragments, namedValues, backends, identities }));
  }

  if (identity) {
    changes = [...identity.first, ...changes, ...identity.last];
    problems.push(...identity.problems);
  } else if (desired.identity && settings.source.kind === 'snapshot') problems.push(identityNotPlanned(desired.identity));
  problems.push(...(live.problems ?? []));

  // The whole tree, not the scoped part: a pull request may change one file of many.
  if (settings.policiesRoot) {
    const guard = emptyTreeProblem(changes, desired.state.resources.size, settings.policiesRoot);
    if (guard) {
      problems.unshift(guard.problem);
      changes = changes.filter((c) => !guard.dropped.includes(c));
    }
  }

  // What each changed fragment reaches: the whole tree (not the scoped part), plus what live keeps.
  // Named values and backends as they stand once the plan is applied: the tree's managed ones, and live's the plan keeps.
  const entitiesAfter = entitiesAfterApply(desired.entities, live.entities, changes);
  const after = afterApply(desired.state, live.state, changes);
  addImpact(changes, after, desired.documents, entitiesAfter);
  // Never delete a fragment, named value or backend that something remaining still uses.
  problems.push(...deleteGuards(changes, after, desired.documents, entitiesAfter));
  if (desired.entities && live.entities) {
    problems.push(...checkEntityAccess(managed, desired.identity, { clients: identitiesAfter.clients }));
    const source = settings.source;
    const refreshUrl =
      source.kind === 'azure'
        ? (id: string, workspace?: string) =>
            `${source.armEndpoint.replace(/\/+$/, '')}${source.serviceId}${workspace !== undefined ? `/workspaces/${workspace}` : ''}/namedValues/${id}/refreshSecret?api-version=2024-05-01`
        : undefined;
    // A value this plan writes again (key-vault-reread.ts) needs no warning: the plan says why it is written.
    const warned = managed.filter((r) => !readAgain.has(addressKey(r.address)));
    problems.push(...keyVaultStatusProblems({ resources: new Map(warned.map((r) => [addressKey(r.address), r])) }, live.entities, refreshUrl));
  }

  const count = (action: Change['action']) => changes.filter((c) => c.action === action).length;
  const plan: Plan = {
    formatVersion: PLAN_FORMAT_VERSION,
    tool: { name: TOOL_NAME, version: TOOL_VERSION },
    createdAt: (settings.now ?? new Date()).toISOString(),
    source: settings.source,
    ...(salt ? { secrets: { salt } } : {}),
    summary: { create: count('create'), update: count('update'), delete: count('delete'), unchanged: count('noop') },
    changes,
    problems,
    ...(settings.commit ? { commit: settings.commit } : {}),
    // Before `scoped`, where plan files have always had it.
    integrity: '',
    ...(settings.scope ? { scoped: { base: settings.scope.base, read: settings.scope.read, identity: settings.scope.identity } } : {}),
  };
  return sealPlan(plan);
}

/** Counts the changes of a plan again (tests use it to make plans that were edited after plan wrote them). */
export function recount(plan: Plan): void {
  const count = (action: Change['action']) => plan.changes.filter((c) => c.action === action).length;
  plan.summary = { create: count('create'), update: count('update'), delete: count('delete'), unchanged: count('noop') };
}

/** The error-severity problems: each stops the plan (exit 1, a failed check) and apply refuses it. */
export function blockingProblems(plan: Plan): Diagnostic[] {
  return plan.problems.filter((p) => p.severity === 'error');
}

export function hasChanges(plan: Plan): boolean {
  return plan.summary.create + plan.summary.update + plan.summary.delete > 0;
}
