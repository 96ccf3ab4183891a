/**
 * Plan, apply and extract against a live instance: the steps the CLI and the action share.
 * Settings → ARM session → live state → plan (with reference checks) → apply.
 */
import { checkOidcAvailable, createCredential, prefetchToken } from '../azure/credential.js';
import { ArmPolicyStore, createArmSession, type ArmSession } from '../azure/apim.js';
import { ArmIdentityStore, readLiveIdentity } from '../azure/identity.js';
import { stoppableWriters } from '../azure/write-gate.js';
import { readLiveNames, readLivePolicies } from '../azure/reader.js';
import { armTokenScope, resolveTarget, serviceResourceId, targetFingerprint, type AzureTarget, type TargetWords } from '../azure/target.js';
import type { LoadedTree } from '../desired/load-tree.js';
import type { IdentityManifest } from '../model/identity.js';
import type { IdTokenSource } from '../model/ci-host.js';
import { addressKey, parsePolicyAddress } from '../model/address.js';
import type { Address, AzureSource, Plan, PolicyResource, State } from '../model/index.js';
import type { XmlElement } from '../policy-xml/index.js';
import { applyPlan, type ApplyEvent, type ApplyResult } from '../plan/apply.js';
import { computePlan, recount } from '../plan/compute.js';
import { sealPlan } from '../plan/integrity.js';
import { guardEmptyTree } from '../desired/root-guess.js';
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
 * `onProgress` hears of every ARM call (done, total); `idToken` is the CI host's OIDC ID token,
 * the assertion of an `oidc` login.
 */
export async function connect(words: TargetWords, onProgress?: (done: number, total: number) => void, idToken?: IdTokenSource): Promise<LiveConnection> {
  const { target, auth } = resolveTarget(words);
  checkOidcAvailable(auth, idToken);
  const credential = createCredential(auth, (audience) => idToken!.get(audience));
  // The token for the first ARM call is on its way (GitHub ID token, then Entra) while the SDKs load.
  await prefetchToken(credential, armTokenScope(target.armEndpoint));
  const session = await createArmSession(target, credential, onProgress ? { onProgress } : {});
  const source: AzureSource = { kind: 'azure', serviceId: serviceResourceId(target), armEndpoint: target.armEndpoint, fingerprint: targetFingerprint(target) };
  return { target, session, store: new ArmPolicyStore(session), identities: new ArmIdentityStore(session), source };
}

export async function readLiveState(conn: LiveConnection): Promise<State> {
  return (await readLivePolicies(conn.session)).state;
}

export interface PlanLiveOptions {
  commit?: string;
  guardrails?: Guardrails;
  /** The policies folder as the user named it, for the problem a tree with nothing to deploy gets. */
  policiesPath?: string;
}

/**
 * Plans the desired tree against the live instance; reference problems go into the plan. With an
 * identity.yaml, the identity and its role assignments are planned too, around the policies.
 */
export async function planLive(conn: LiveConnection, desired: LoadedTree, options: PlanLiveOptions = {}): Promise<Plan> {
  const live = await readLivePolicies(conn.session);
  const plan = await finishPlan(conn, desired, live.state, live.workspaces, desired.identity, options);
  // Live ids that would climb out of their scope were skipped while reading: the plan says which.
  plan.problems.push(...live.problems);
  return guardEmptyTree(sealPlan(plan), desired.state.resources.size, options.policiesPath ?? 'the policies tree');
}

/** What a scoped plan reads: the resources whose content differs between two trees, and the fragments they include. */
export function changedBetween(base: LoadedTree, head: LoadedTree): { changed: Address[]; fragments: Address[] } {
  const changed: Address[] = [];
  for (const key of new Set([...base.state.resources.keys(), ...head.state.resources.keys()])) {
    const b = base.state.resources.get(key);
    const h = head.state.resources.get(key);
    if (!b || !h || base.canonical.get(key) !== head.canonical.get(key) || (b.description ?? '') !== (h.description ?? '')) changed.push((h ?? b)!.address);
  }
  const fragments = new Set<string>();
  for (const address of changed) {
    const doc = head.documents.get(addressKey(address));
    const ws = head.state.resources.get(addressKey(address))?.scope.workspace;
    if (doc) for (const id of includedFragments(doc.root)) fragments.add(`${ws ? `workspaces/${ws}/` : ''}policyFragments/${id}`);
  }
  return { changed, fragments: [...fragments].filter((f) => !changed.some((c) => addressKey(c) === addressKey(f))) };
}

function includedFragments(element: XmlElement): string[] {
  const out: string[] = [];
  if (element.name === 'include-fragment') {
    const id = element.attributes.find((a) => a.name === 'fragment-id')?.segments;
    if (id && id.every((x) => !x.expression)) out.push(id.map((x) => (x as { text: string }).text).join(''));
  }
  for (const c of element.children) if (c.type === 'element') out.push(...includedFragments(c));
  return out;
}

/** The manifest without positions: two trees want the same identity when these are equal. */
const manifestKey = (m: IdentityManifest | undefined) => JSON.stringify(m ?? null, (k, v) => (k === 'at' || k === 'identityLine' || k === 'file' ? undefined : v));

/**
 * A plan scoped to a pull request: only the resources whose desired content differs between the
 * base tree and the head tree are read and planned (plus the fragments they include, for the
 * reference checks), and the identity only when identity.yaml differs. For instances where a full
 * read takes minutes; the plan says it is scoped, since drift elsewhere is not looked for.
 */
export async function planScoped(conn: LiveConnection, desired: LoadedTree, base: LoadedTree, options: PlanLiveOptions & { baseLabel?: string } = {}): Promise<Plan> {
  const { changed, fragments } = changedBetween(base, desired);
  const read = [...changed, ...fragments];
  const copies = await Promise.all(read.map((a) => conn.store.read(a)));
  const resources = new Map<string, PolicyResource>();
  for (const copy of copies) {
    if (!copy) continue;
    const r: PolicyResource = { type: 'policy', address: copy.address, scope: parsePolicyAddress(copy.address)!, xml: copy.xml };
    if (copy.etag !== undefined) r.etag = copy.etag;
    if (copy.description !== undefined) r.description = copy.description;
    resources.set(addressKey(copy.address), r);
  }
  // Plan only the changed addresses: the fragments read for reference checks are not the PR's.
  const keys = new Set(changed.map(addressKey));
  const only = (tree: { resources: Map<string, PolicyResource> }) => ({ resources: new Map([...tree.resources].filter(([k]) => keys.has(k))) });
  const scopedDesired: LoadedTree = { ...desired, state: only(desired.state) };
  const workspaces = [...new Set(read.map((a) => parsePolicyAddress(a)?.workspace).filter((w): w is string => !!w))];
  const identity = manifestKey(desired.identity) !== manifestKey(base.identity) ? desired.identity : undefined;
  const plan = await finishPlan(conn, scopedDesired, only({ resources }), workspaces, identity, options, resources);
  plan.scoped = { base: options.baseLabel ?? 'the base tree', read: read.length, identity: identity !== undefined };
  // The whole head tree, not the scoped part: a pull request may change one file of many.
  return guardEmptyTree(sealPlan(plan), desired.state.resources.size, options.policiesPath ?? 'the policies tree');
}

/** Compares, checks references against what is live, and adds the identity plan. */
async function finishPlan(
  conn: LiveConnection,
  desired: LoadedTree,
  live: State,
  workspaces: string[],
  manifest: IdentityManifest | undefined,
  options: PlanLiveOptions,
  extraLive: Map<string, PolicyResource> = live.resources,
): Promise<Plan> {
  const [names, identity] = await Promise.all([readLiveNames(conn.session, workspaces), manifest ? readLiveIdentity(conn.identities, conn.session, manifest) : undefined]);
  const plan = computePlan(desired, { state: live }, { source: conn.source, ...(options.commit ? { commit: options.commit } : {}) });
  const fragments = new Set<string>();
  for (const side of [desired.state.resources, live.resources, extraLive]) for (const [key, r] of side) if (r.scope.kind === 'fragment') fragments.add(key);
  const changing = plan.changes
    .filter((c) => c.action === 'create' || c.action === 'update')
    .map((c) => desired.state.resources.get(addressKey(c.address)))
    .filter((r): r is PolicyResource => !!r);
  const identities = { ...(await attachedAfterApply(conn, { ...desired, ...(manifest ? { identity: manifest } : {}) }, identity)), namedValueValues: names.namedValueValues };
  plan.problems.push(...checkReferences(changing, desired.documents, { fragments, namedValues: names.namedValues, backends: names.backends, identities }));
  if (manifest && identity) {
    const planned = planIdentity(manifest, identity, options.guardrails ?? defaultGuardrails(conn));
    plan.changes = [...planned.first, ...plan.changes, ...planned.last];
    plan.problems.push(...planned.problems);
    recount(plan);
  }
  return sealPlan(plan);
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
  /** Most deletes one apply makes (default DEFAULT_MAX_DELETES); -1 for no limit. */
  maxDeletes?: number;
  allowDestructiveIdentityChanges?: boolean;
  guardrails?: Guardrails;
  snapshotFile: string;
  onEvent?: (event: ApplyEvent) => void;
  /** SIGINT/SIGTERM: no write of this apply goes out after it fires (not even one queued in the scheduler). */
  signal?: AbortSignal;
}

export function applyLive(conn: LiveConnection, plan: Plan, options: LiveApplyOptions): Promise<ApplyResult> {
  const { writer, identities, release } = options.signal ? stoppableWriters(conn.session, conn.store, conn.identities, options.signal) : { writer: conn.store, identities: conn.identities, release: () => {} };
  return applyPlan(plan, writer, {
    ...options,
    onEvent: (e) => {
      if (e.type === 'restoring') release();
      options.onEvent?.(e);
    },
    guardrails: options.guardrails ?? defaultGuardrails(conn),
    identityWriter: identities,
    targetFingerprint: conn.source.fingerprint,
  });
}
