/**
 * Plan, apply and extract against a live instance: the steps the CLI and the action share.
 * Settings → ARM session → live state → plan (with reference checks) → apply.
 */
import { checkOidcAvailable, createCredential } from '../azure/credential.js';
import { ArmPolicyStore, createArmSession, type ArmSession } from '../azure/apim.js';
import { readLiveNames, readLivePolicies } from '../azure/reader.js';
import { resolveTarget, serviceResourceId, targetFingerprint, type AzureTarget, type TargetWords } from '../azure/target.js';
import type { LoadedTree } from '../desired/load-tree.js';
import { addressKey } from '../model/address.js';
import type { AzureSource, Plan, PolicyResource, State } from '../model/index.js';
import { applyPlan, type ApplyEvent, type ApplyResult } from '../plan/apply.js';
import { computePlan } from '../plan/compute.js';
import { checkReferences } from '../plan/references.js';

export interface LiveConnection {
  target: AzureTarget;
  session: ArmSession;
  store: ArmPolicyStore;
  source: AzureSource;
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
  return { target, session, store: new ArmPolicyStore(session), source };
}

export async function readLiveState(conn: LiveConnection): Promise<State> {
  return (await readLivePolicies(conn.session)).state;
}

/** Plans the desired tree against the live instance; reference problems go into the plan. */
export async function planLive(conn: LiveConnection, desired: LoadedTree, options: { commit?: string } = {}): Promise<Plan> {
  const live = await readLivePolicies(conn.session);
  const names = await readLiveNames(conn.session, live.workspaces);
  const plan = computePlan(desired, { state: live.state }, { source: conn.source, ...(options.commit ? { commit: options.commit } : {}) });
  const fragments = new Set<string>();
  for (const side of [desired.state, live.state]) for (const [key, r] of side.resources) if (r.scope.kind === 'fragment') fragments.add(key);
  const changing = plan.changes
    .filter((c) => c.action === 'create' || c.action === 'update')
    .map((c) => desired.state.resources.get(addressKey(c.address)))
    .filter((r): r is PolicyResource => !!r);
  plan.problems.push(...checkReferences(changing, desired.documents, { fragments, namedValues: names.namedValues, backends: names.backends }));
  return plan;
}

export interface LiveApplyOptions {
  allowDeletes: boolean;
  snapshotFile: string;
  onEvent?: (event: ApplyEvent) => void;
}

export function applyLive(conn: LiveConnection, plan: Plan, options: LiveApplyOptions): Promise<ApplyResult> {
  return applyPlan(plan, conn.store, { ...options, targetFingerprint: conn.source.fingerprint });
}
