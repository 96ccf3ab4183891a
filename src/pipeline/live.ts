/**
 * Plan, apply and extract against a live instance: the steps the CLI and the action share.
 * Settings → ARM session → live state → plan (with reference checks) → apply.
 */
import { checkOidcAvailable, createCredential } from '../azure/credential.js';
import { ArmPolicyStore, createArmSession, type ArmSession } from '../azure/apim.js';
import { ArmIdentityStore, readLiveIdentity } from '../azure/identity.js';
import { readLiveNames, readLivePolicies } from '../azure/reader.js';
import { resolveTarget, serviceResourceId, targetFingerprint, type AzureTarget, type TargetWords } from '../azure/target.js';
import type { LoadedTree } from '../desired/load-tree.js';
import { addressKey } from '../model/address.js';
import type { AzureSource, Change, Plan, PolicyResource, State } from '../model/index.js';
import { applyPlan, type ApplyEvent, type ApplyResult } from '../plan/apply.js';
import { computePlan } from '../plan/compute.js';
import { planIdentity, type Guardrails, type LiveIdentity, type UserAssignedInfo } from '../plan/identity.js';
import { checkReferences } from '../plan/references.js';

export interface LiveConnection {
  target: AzureTarget;
  session: ArmSession;
  store: ArmPolicyStore;
  identities: ArmIdentityStore;
  source: AzureSource;
}

/** Guardrails when the workflow sets none: no privileged roles, only the instance's subscription. */
export function defaultGuardrails(conn: LiveConnection, words: { allowPrivilegedRoles?: boolean; allowedScopes?: string[] } = {}): Guardrails {
  const scopes = (words.allowedScopes ?? []).map((s) => s.trim()).filter(Boolean);
  return { allowPrivilegedRoles: words.allowPrivilegedRoles === true, allowedScopes: scopes.length ? scopes : [`/subscriptions/${conn.target.subscriptionId}`] };
}

/**
 * Settles target and auth and makes the session; fails early when the settings cannot work.
 * `onProgress` hears of every ARM call (done, total).
 */
export function connect(words: TargetWords, onProgress?: (done: number, total: number) => void): LiveConnection {
  const { target, auth } = resolveTarget(words);
  checkOidcAvailable(auth);
  const session = createArmSession(target, createCredential(auth), onProgress ? { onProgress } : {});
  const source: AzureSource = { kind: 'azure', serviceId: serviceResourceId(target), armEndpoint: target.armEndpoint, fingerprint: targetFingerprint(target) };
  return { target, session, store: new ArmPolicyStore(session), identities: new ArmIdentityStore(session), source };
}

export async function readLiveState(conn: LiveConnection): Promise<State> {
  return (await readLivePolicies(conn.session)).state;
}

function recount(plan: Plan): void {
  const count = (action: Change['action']) => plan.changes.filter((c) => c.action === action).length;
  plan.summary = { create: count('create'), update: count('update'), delete: count('delete'), unchanged: count('noop') };
}

/**
 * Plans the desired tree against the live instance; reference problems go into the plan. With an
 * identity.yaml, the identity and its role assignments are planned too, around the policies.
 */
export async function planLive(conn: LiveConnection, desired: LoadedTree, options: { commit?: string; guardrails?: Guardrails } = {}): Promise<Plan> {
  const live = await readLivePolicies(conn.session);
  const [names, identity] = await Promise.all([
    readLiveNames(conn.session, live.workspaces),
    desired.identity ? readLiveIdentity(conn.identities, conn.session, desired.identity) : undefined,
  ]);
  const plan = computePlan(desired, { state: live.state }, { source: conn.source, ...(options.commit ? { commit: options.commit } : {}) });
  const fragments = new Set<string>();
  for (const side of [desired.state, live.state]) for (const [key, r] of side.resources) if (r.scope.kind === 'fragment') fragments.add(key);
  const changing = plan.changes
    .filter((c) => c.action === 'create' || c.action === 'update')
    .map((c) => desired.state.resources.get(addressKey(c.address)))
    .filter((r): r is PolicyResource => !!r);
  const identities = { ...(await attachedAfterApply(conn, desired, identity)), namedValueValues: names.namedValueValues };
  plan.problems.push(...checkReferences(changing, desired.documents, { fragments, namedValues: names.namedValues, backends: names.backends, identities }));
  if (desired.identity && identity) {
    const planned = planIdentity(desired.identity, identity, options.guardrails ?? defaultGuardrails(conn));
    plan.changes = [...planned.first, ...plan.changes, ...planned.last];
    plan.problems.push(...planned.problems);
    recount(plan);
  }
  return plan;
}

/** The user-assigned identities the instance has once the plan is applied: the manifest's, else the attached ones. */
async function attachedAfterApply(conn: LiveConnection, desired: LoadedTree, identity: LiveIdentity | undefined) {
  let infos: UserAssignedInfo[];
  const labels = new Map<string, string>();
  if (desired.identity && identity && desired.identity.userAssignedDeclared) {
    infos = desired.identity.userAssigned.map((u) => identity.userAssigned.get(u.resourceId.toLowerCase())).filter((u): u is UserAssignedInfo => !!u);
    for (const u of desired.identity.userAssigned) labels.set(u.resourceId.toLowerCase(), u.alias);
  } else if (identity) {
    infos = identity.shape.userAssigned.map((id) => identity.userAssigned.get(id.toLowerCase())).filter((u): u is UserAssignedInfo => !!u);
  } else {
    const attached = (await conn.identities.readService()).identity?.userAssignedIdentities ?? {};
    infos = Object.entries(attached)
      .filter(([, v]) => v.principalId && v.clientId)
      .map(([resourceId, v]) => ({ resourceId, principalId: v.principalId!, clientId: v.clientId! }));
  }
  const label = (u: UserAssignedInfo) => labels.get(u.resourceId.toLowerCase()) ?? u.resourceId.split('/').pop()!;
  return {
    clients: new Map(infos.map((u) => [u.clientId.toLowerCase(), label(u)])),
    principals: new Map(infos.map((u) => [u.principalId.toLowerCase(), { clientId: u.clientId, label: label(u) }])),
  };
}

export interface LiveApplyOptions {
  allowDeletes: boolean;
  allowDestructiveIdentityChanges?: boolean;
  guardrails?: Guardrails;
  snapshotFile: string;
  onEvent?: (event: ApplyEvent) => void;
}

export function applyLive(conn: LiveConnection, plan: Plan, options: LiveApplyOptions): Promise<ApplyResult> {
  return applyPlan(plan, conn.store, {
    ...options,
    guardrails: options.guardrails ?? defaultGuardrails(conn),
    identityWriter: conn.identities,
    targetFingerprint: conn.source.fingerprint,
  });
}
